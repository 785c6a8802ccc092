#pragma once
// The HTTP vocabulary shared by the server, the router and the API handlers.
#include <boost/beast/http.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <string>

namespace tether::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// Implemented by a connection: takes the one response to the request it is serving. Called from
// any thread (handlers answer from database workers); the connection hops to its own strand.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void deliver(Response response) = 0;
};

// A handle a handler keeps until it answers. Exactly one response goes out; later sends are ignored
// (a sync-wait timer and a completion can race, and only the first may answer).
class Responder {
 public:
  explicit Responder(std::shared_ptr<ResponseSink> sink)
      : sink_(std::move(sink)), answered_(std::make_shared<std::atomic<bool>>(false)) {}

  bool send(Response response) const {
    if (answered_->exchange(true)) return false;
    sink_->deliver(std::move(response));
    return true;
  }
  bool answered() const { return answered_->load(); }

 private:
  std::shared_ptr<ResponseSink> sink_;
  std::shared_ptr<std::atomic<bool>> answered_;
};

struct RequestContext {
  Request request;
  std::string client_ip;
  std::map<std::string, std::string> path_params;
  Responder responder;
};

}  // namespace tether::http
