#include "controller/api/event_streams.hpp"

#include "controller/api/handler_support.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/operation_service.hpp"
#include "controller/streams/operation_event_stream.hpp"
#include "controller/streams/run_event_stream.hpp"

#include <fmt/format.h>

#include <charconv>

namespace tether::api {

using http::bhttp::status;

namespace {

// Streams do not end on a schedule: a few seconds is as good a guess as any for when one has.
constexpr int stream_cap_retry_after_seconds = 5;

}  // namespace

std::shared_ptr<streams::StreamTicket> admit_stream(app::AppContext& app, const streams::StreamOwner& owner) {
  if (auto ticket = app.open_streams.admit(owner)) return ticket;
  throw http::ApiError(status::too_many_requests,
                       fmt::format("too many open streams: at most {} per key and {} in all; retry in {} s",
                                   app.settings.max_streams_per_key, app.settings.max_streams,
                                   stream_cap_retry_after_seconds),
                       {{"Retry-After", std::to_string(stream_cap_retry_after_seconds)}});
}

void limit_operator_stream_rate(app::AppContext& app, const std::string& key_id) {
  const int per_minute = app.settings.operator_stream_rate_per_minute;
  if (auto retry_after = app.rate_limiter.admit("api_key:" + key_id, per_minute)) {
    throw http::ApiError(status::too_many_requests,
                         fmt::format("rate limit of {} stream requests per minute exceeded for this key; retry in {} s",
                                     per_minute, *retry_after),
                         {{"Retry-After", std::to_string(*retry_after)}});
  }
}

std::uint64_t last_event_id(const http::Request& request) {
  auto it = request.find("Last-Event-ID");
  if (it == request.end()) return 0;
  const std::string_view text = it->value();
  std::uint64_t seq = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    throw http::ApiError(status::unprocessable_entity,
                         "Last-Event-ID: must be the id of an event of this stream (a non-negative integer)");
  }
  return seq;
}

http::Request with_query_token(http::Request request) {
  if (request.find(http::bhttp::field::authorization) != request.end()) return request;
  const auto params = query_params(request);
  if (auto it = params.find("token"); it != params.end()) {
    request.set(http::bhttp::field::authorization, "Bearer " + it->second);
  }
  return request;
}

std::shared_ptr<http::StreamProducer> operation_output_stream(app::AppContext& app, std::string operation_id,
                                                              std::uint64_t after_seq, EndView view,
                                                              std::shared_ptr<streams::StreamTicket> ticket) {
  // An agent's connection is closed after three heartbeat intervals without a read: a reader
  // may hold it back for one.
  streams::StreamServices services{app.db, app.dispatcher.output_hub(), app.dispatcher.waiters(),
                                   app.settings.max_output_bytes_per_stream,
                                   std::chrono::seconds(app.settings.heartbeat_interval_seconds),
                                   app.settings.stream_keep_alive};
  streams::StreamRequest request{std::move(operation_id), after_seq,
                                 [view = std::move(view)](const store::OperationRecord& operation) {
                                   auto body = view(operation);
                                   if (auto* result = body.if_contains("result"); result && result->is_object()) {
                                     result->as_object().erase("stdout");
                                     result->as_object().erase("stderr");
                                   }
                                   return boost::json::value(std::move(body));
                                 },
                                 std::move(ticket)};
  return std::make_shared<streams::OperationEventStream>(services, std::move(request));
}

void stream_from_db(app::AppContext& app, const http::RequestContext& context, StreamWork work) {
  respond_from_db(app, context, [work = std::move(work)](pqxx::connection& connection, const http::Responder& responder) {
    responder.stream_events(work(connection));
  });
}

void serve_run_stream(app::AppContext& app, const http::RequestContext& context, const std::string& id_param,
                      RunEndView view) {
  stream_from_db(app, context,
                 [&app, request = context.request, params = context.path_params, access = context.access, id_param,
                  view = std::move(view)](pqxx::connection& c) {
                   pqxx::read_transaction txn(c);
                   const auto viewer = auth::authenticate_operator(txn, with_query_token(request), access);
                   limit_operator_stream_rate(app, viewer.key_id);
                   const auto id = uuid_path_param(params, id_param, "run");  // "run not found"
                   if (!store::runs::find(txn, id)) throw http::ApiError(http::bhttp::status::not_found, "run not found");
                   auto ticket = admit_stream(app, {streams::StreamOwner::Kind::operator_key, viewer.key_id});
                   streams::RunStreamServices services{app.db, app.dispatcher.output_hub(),
                                                       app.settings.stream_keep_alive};
                   store::runs::StreamCursor after;
                   if (auto it = request.find("Last-Event-ID"); it != request.end()) {
                     after = streams::parse_run_event_id(it->value()).value_or(store::runs::StreamCursor{});
                   }
                   streams::RunStreamRequest stream{id, after, view, std::move(ticket)};
                   return std::make_shared<streams::RunEventStream>(services, std::move(stream));
                 });
}

}  // namespace tether::api
