#pragma once
// What the two output-stream routes (operators' and v1) share: reading Last-Event-ID, building
// the stream of one operation, and the `end` event's view of it.
#include "controller/app/app_context.hpp"
#include "controller/http/types.hpp"
#include "controller/store/records.hpp"

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

using EndView = std::function<boost::json::object(const store::OperationRecord&)>;

// The stream of the operation's output after `after_seq`, ending with `view` of the operation
// (whose stdout and stderr are left out: the events carried them).
std::shared_ptr<http::StreamProducer> operation_output_stream(app::AppContext& app, std::string operation_id,
                                                              std::uint64_t after_seq, EndView view);

// Like answer_from_db, for a handler whose success is an event stream.
using StreamWork = std::function<std::shared_ptr<http::StreamProducer>(pqxx::connection&)>;
void stream_from_db(app::AppContext& app, const http::RequestContext& context, StreamWork work);

}  // namespace tether::api
