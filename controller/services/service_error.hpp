#pragma once
// How a service says no, without knowing about HTTP: the API layer maps each refusal to its status
// code (api/handler_support.cpp), so that services, the scheduler and the run fan-out can share
// the same rules whoever calls them.
#include <stdexcept>
#include <string>

namespace tether::services {

enum class Refusal {
  invalid,          // the input breaks a rule (HTTP 422); the message names the field
  unauthenticated,  // the caller proved nothing, e.g. a webhook signature that does not match (401)
  forbidden,    // outside the caller's reach (403)
  not_found,    // no such thing, or not one the caller may know of (404)
  conflict,     // the thing is not in a state that allows it (409)
  unavailable,  // a dependency is missing, e.g. no master key (503)
  failed,       // stored data the service cannot use (500, with this message)
};

class ServiceError : public std::runtime_error {
 public:
  ServiceError(Refusal refusal, const std::string& message) : std::runtime_error(message), refusal_(refusal) {}
  Refusal refusal() const { return refusal_; }

 private:
  Refusal refusal_;
};

}  // namespace tether::services
