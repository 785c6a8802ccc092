#pragma once
// What the two output-stream routes (operators' and v1) share: reading Last-Event-ID, admitting a
// stream under the caps, building the stream of one operation, and the `end` event's view of it.
#include "controller/app/app_context.hpp"
#include "controller/http/types.hpp"
#include "controller/store/records.hpp"
#include "controller/store/run_store.hpp"
#include "controller/streams/open_streams.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace tether::api {

// The Last-Event-ID header as the sequence number to resume after (0 without it); 422 unless it is
// a non-negative decimal integer.
std::uint64_t last_event_id(const http::Request& request);

// EventSource cannot set headers, so operators may pass their key as ?token=; it is moved into the
// Authorization header (when that is absent) so that authentication has one path.
http::Request with_query_token(http::Request request);

// A place for one more stream of `owner` under --max-streams-per-key and --max-streams; 429 with
// Retry-After when there is none.
std::shared_ptr<streams::StreamTicket> admit_stream(app::AppContext& app, const streams::StreamOwner& owner);

// The operator route's rate limit, like a v1 key's: --operator-stream-rate-per-minute stream
// requests per operator key in a sliding minute; 429 with Retry-After over it.
void limit_operator_stream_rate(app::AppContext& app, const std::string& key_id);

using EndView = std::function<boost::json::object(const store::OperationRecord&)>;

// The stream of the operation's output after `after_seq`, ending with `view` of the operation
// (whose stdout and stderr are left out: the events carried them). The stream keeps `ticket`
// until it ends, and ends when the ticket's key is no longer valid.
std::shared_ptr<http::StreamProducer> operation_output_stream(app::AppContext& app, std::string operation_id,
                                                              std::uint64_t after_seq, EndView view,
                                                              std::shared_ptr<streams::StreamTicket> ticket);

// Like answer_from_db, for a handler whose success is an event stream.
using StreamWork = std::function<std::shared_ptr<http::StreamProducer>(pqxx::connection&)>;
void stream_from_db(app::AppContext& app, const http::RequestContext& context, StreamWork work);

using RunEndView = std::function<boost::json::value(const store::RunRecord&, const store::TargetCounts&)>;

// A run's event stream, for every route that serves one (the jobs API's and seed 000's): the
// operator key from Authorization or ?token=, under the operator stream rate and caps, resumed
// after the output event Last-Event-ID names (from the beginning without one or with one of
// another shape), ending with `view` of the run. The run's id is the UUID path parameter
// `id_param`; 404 "run not found".
void serve_run_stream(app::AppContext& app, const http::RequestContext& context, const std::string& id_param,
                      RunEndView view);

}  // namespace tether::api
