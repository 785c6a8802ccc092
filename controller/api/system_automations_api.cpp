// Seed 001's automations API (/api/client/v1/automations): the controller's background loops with
// their live state, an immediate run, pause and resume. Error bodies are {"error", "detail"}: 400
// for a key that is not one of the loops (404 instead on GET of a well-formed key that is none),
// 500 with the message for pausing or resuming a loop that cannot be, or a run that threw.
#include "common/time.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/routes.hpp"
#include "controller/services/system_automations.hpp"

#include <algorithm>

namespace tether::api {
namespace {

using http::ApiError;
using http::bhttp::status;
using http::bhttp::verb;

// Seed 001's timestamps: RFC 3339 UTC with milliseconds.
boost::json::value millis_time(const std::optional<std::int64_t>& epoch_us) {
  if (!epoch_us) return nullptr;
  const auto text = timeutil::format_utc_micros(*epoch_us);  // ...:SS.uuuuuuZ
  return boost::json::string(text.substr(0, text.size() - 4) + "Z");
}

boost::json::object render(const services::AutomationView& view) {
  const auto& spec = *view.spec;
  boost::json::object metrics;
  boost::system::error_code ec;
  auto stored = boost::json::parse(view.row.metrics_json, ec);
  if (!ec && stored.is_object()) metrics = std::move(stored.as_object());
  metrics["lockProvider"] = "postgres";
  metrics["runs"] = view.row.runs;
  metrics["failures"] = view.row.failures;
  metrics["lastInstance"] = nullable(view.row.last_instance);
  return {{"key", spec.key},
          {"name", spec.name},
          {"description", spec.description},
          {"domain", spec.domain},
          {"cadenceLabel", spec.cadence_label},
          {"distributed", true},
          {"metrics", std::move(metrics)},
          {"state", view.state},
          {"supportsPause", spec.pausable},
          {"supportsTrigger", spec.triggerable},
          {"lastStartedAt", millis_time(view.row.last_started_us)},
          {"lastCompletedAt", millis_time(view.row.last_completed_us)},
          {"lastDurationMs", view.row.last_duration_ms ? boost::json::value(*view.row.last_duration_ms) : nullptr},
          {"lastError", nullable(view.row.last_error)}};
}

http::Response one(const services::AutomationView& view) {
  return http::json_response(status::ok, boost::json::object{{"automation", render(view)}});
}

bool well_formed(const std::string& key) {
  return !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

ApiError invalid_key() { return ApiError(status::bad_request, "Invalid automation key"); }

}  // namespace

void add_system_automation_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::get, "/api/client/v1/automations", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      boost::json::array out;
      for (const auto& view : app.system_automations->list(txn)) out.push_back(render(view));
      return http::json_response(status::ok, boost::json::object{{"automations", std::move(out)}});
    });
  });

  router.add(verb::get, "/api/client/v1/automations/{key}", http::Access::viewer,
             [&app](http::RequestContext& context) {
               answer_from_db(app, context, [&app, request = context.request, access = context.access,
                                             key = context.path_params.at("key")](pqxx::connection& c) {
                 pqxx::read_transaction txn(c);
                 auth::authenticate_operator(txn, request, access);
                 if (!well_formed(key)) throw invalid_key();
                 return one(app.system_automations->get(txn, key));
               });
             });

  router.add(verb::post, "/api/client/v1/automations/{key}/run", http::Access::admin,
             [&app](http::RequestContext& context) {
               answer_from_db(app, context, [&app, request = context.request, access = context.access,
                                             ip = context.client_ip,
                                             key = context.path_params.at("key")](pqxx::connection& c) {
                 std::optional<auth::Operator> caller;
                 {
                   pqxx::work txn(c);
                   caller = auth::authenticate_operator(txn, request, access);
                   txn.commit();
                 }
                 if (!app.system_automations->knows(key)) throw invalid_key();
                 return one(app.system_automations->run(c, *caller, ip, key));
               });
             });

  for (const bool pause : {true, false}) {
    router.add(verb::post, pause ? "/api/client/v1/automations/{key}/pause" : "/api/client/v1/automations/{key}/resume",
               http::Access::admin, [&app, pause](http::RequestContext& context) {
                 answer_from_db(app, context, [&app, pause, request = context.request, access = context.access,
                                               ip = context.client_ip,
                                               key = context.path_params.at("key")](pqxx::connection& c) {
                   pqxx::work txn(c);
                   const auto caller = auth::authenticate_operator(txn, request, access);
                   if (!app.system_automations->knows(key)) throw invalid_key();
                   auto view = app.system_automations->set_paused(txn, caller, ip, key, pause);
                   txn.commit();
                   return one(view);
                 });
               });
  }
}

}  // namespace tether::api
