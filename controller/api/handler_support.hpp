#pragma once
// The few steps every handler shares: parse a JSON body, run the rest on a database worker, and
// turn whatever it throws into the right status code.
#include "controller/app/app_context.hpp"
#include "controller/http/responses.hpp"
#include "controller/http/types.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>
#include <string>

namespace tether::api {

using DbWork = std::function<http::Response(pqxx::connection&)>;

// Runs `work` off the I/O threads and sends its response. ApiError -> its status; a service's
// refusal (ServiceError) -> status_of(refusal); malformed input (json::FieldError, an invalid
// schedule) -> 422; a lost database -> 503; anything else -> 500 (logged, not leaked).
// A failed authentication is counted against the caller's address (refuse_unauthenticated).
void answer_from_db(app::AppContext& app, const http::RequestContext& context, DbWork work);

// What answer_from_db and stream_from_db share: runs `act` on a pool connection with the request's
// responder; a failed authentication inside it is refused as above, any failure answered by
// response_for_failure.
using RespondingWork = std::function<void(pqxx::connection&, const http::Responder&)>;
void respond_from_db(app::AppContext& app, const http::RequestContext& context, RespondingWork act);

// The error body: `{"detail"}` on the v1 CI surface (seed 003), `{"error", "detail"}` (the same
// text in both) on the operator routes, whose seeds' clients read `error`.
enum class ErrorBody { detail, error_and_detail };

// Maps an exception from database work to a response (the rule above; an invalid schedule is a
// 422 too). respond_from_db, answer_from_db and stream_from_db answer with ErrorBody::error_and_detail.
http::Response response_for_failure(std::exception_ptr error, ErrorBody body = ErrorBody::detail);

// 422 when the body is not a JSON object.
boost::json::object parse_json_body(const http::Request& request);

// A {name} path segment that must be a UUID; 404 `<what> not found` when it is not one.
std::string uuid_path_param(const std::map<std::string, std::string>& params, const std::string& name,
                            const std::string& what);

// The decoded query string of the request target ("?run_id=x&limit=5"); 422 when malformed.
std::map<std::string, std::string> query_params(const http::Request& request);

// Query parameters of the lists: `limit` (1..max, else 422 "limit: ..."), an RFC 3339 time as
// epoch microseconds (422 "<name>: must be an RFC 3339 date-time"), a UUID (422 "<name>: must be a
// UUID"); nullopt / fallback when absent.
int limit_query_param(const std::map<std::string, std::string>& params, int fallback, int max);
std::optional<std::int64_t> time_query_param_us(const std::map<std::string, std::string>& params,
                                                const std::string& name);
std::optional<std::string> uuid_query_param(const std::map<std::string, std::string>& params, const std::string& name);

// JSON rendering helpers shared by the handlers.
boost::json::value nullable(const std::optional<std::string>& value);
boost::json::array string_array(const std::vector<std::string>& values);

// Input parsed on the I/O thread whose error is reported only after authentication, so that an
// unauthenticated caller gets 401 whatever it sent.
template <class T>
class Deferred {
 public:
  template <class Parse>
  static Deferred from(Parse&& parse) {
    Deferred out;
    try {
      out.value_ = parse();
    } catch (const std::exception&) {
      out.error_ = std::current_exception();
    }
    return out;
  }
  bool ok() const { return !error_; }
  const T& get() const {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }

 private:
  std::optional<T> value_;
  std::exception_ptr error_;
};

}  // namespace tether::api

namespace tether::services {
struct DeniedCall;
enum class Refusal;
}  // namespace tether::services
namespace tether::operations {
struct CancelOutcome;
}
namespace tether::auth {
class AuthenticationFailed;
}

namespace tether::api {
// The run `id` names, or 404 "run not found".
store::RunRecord run_or_404(pqxx::transaction_base& txn, const std::string& id);

// After a run's transaction commits: send what it started, deliver its cancels, wake the runs it
// names.
void after_commit(app::AppContext& app, const runs::AfterCommit& after);

// After a cancel is committed: tell the agent, or wake whoever waits for an operation that ended.
// Returns the 202 answer.
http::Response finish_cancel(app::AppContext& app, const operations::CancelOutcome& outcome);

// The status code of a service's refusal.
http::bhttp::status status_of(services::Refusal refusal);

// An operator route's call as a failed authentication records it: "GET /api/servers" (the query
// left out: it may hold a ?token=) from the client address after trusted-proxy resolution.
services::DeniedCall operator_call(const http::RequestContext& context);

// After `failure` (the caller's transaction is gone): counts it against the caller's address,
// adds it to that address's aggregated audit row (claims kept as claims) and returns what to
// answer: the 401 itself, or past the threshold 429 with Retry-After.
http::ApiError refuse_unauthenticated(app::AppContext& app, pqxx::connection& connection,
                                      const services::DeniedCall& call, const auth::AuthenticationFailed& failure);
}  // namespace tether::api
