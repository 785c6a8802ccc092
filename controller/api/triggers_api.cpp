// Triggers: what fires a job on a controller event or an inbound webhook (seed 002's paths and
// wrappers). A webhook trigger's secret is in the answer of its creation or rotation only.
#include "controller/api/automation/job_input.hpp"
#include "controller/api/automation/trigger_input.hpp"
#include "controller/api/automation/views.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/service_error.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

std::string trigger_id_param(const std::map<std::string, std::string>& params) {
  return uuid_path_param(params, "id", "trigger");  // "trigger not found"
}

// {"trigger": …}, with the secret when one was just given ("webhook_secret", or "webhook_token"
// for a token trigger).
boost::json::object trigger_body(const services::TriggerWithSecret& created) {
  boost::json::object body{{"trigger", automation::render_trigger(created.trigger)}};
  if (created.secret) {
    const bool token = created.trigger.provider == std::optional<std::string>("token");
    body[token ? "webhook_token" : "webhook_secret"] = *created.secret;
  }
  return body;
}

struct TriggerListQuery {
  std::optional<std::string> source;
  std::optional<std::string> event;
  store::PageRequest page;
};

TriggerListQuery parse_trigger_list_query(const http::Request& request) {
  const auto params = query_params(request);
  TriggerListQuery query;
  query.source = automation::parse_source_param(params);
  if (auto it = params.find("event"); it != params.end()) query.event = it->second;
  query.page = page_request(params);
  return query;
}

}  // namespace

void add_trigger_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::get, "/api/automation/triggers", http::Access::viewer, [&app](http::RequestContext& context) {
    auto query = Deferred<TriggerListQuery>::from([&] { return parse_trigger_list_query(context.request); });
    answer_from_db(app, context, [&app, request = context.request, query, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto& q = query.get();
      const auto page = app.triggers.list(txn, q.source, q.event, q.page);
      boost::json::array triggers;
      for (const auto& trigger : page.rows) triggers.push_back(automation::render_trigger(trigger));
      boost::json::object body{{"triggers", std::move(triggers)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });

  router.add(verb::post, "/api/automation/triggers", http::Access::operator_, [&app](http::RequestContext& context) {
    auto spec = Deferred<services::TriggerSpec>::from(
        [&] { return automation::parse_trigger(parse_json_body(context.request)); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, spec, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      auto created = app.triggers.create(txn, actor, spec.get(), ip);
      txn.commit();
      return http::json_response(status::created, trigger_body(created));
    });
  });

  router.add(verb::get, "/api/automation/triggers/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      return http::json_response(status::ok, trigger_body({app.triggers.get(txn, trigger_id_param(params)), {}}));
    });
  });

  // RFC 7396 merge patch over the trigger as GET shows it, validated as a whole declaration.
  router.add(verb::patch, "/api/automation/triggers/{id}", http::Access::operator_, [&app](http::RequestContext& context) {
    auto patch = Deferred<boost::json::object>::from([&] { return parse_json_body(context.request); });
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params, ip = context.client_ip,
                    patch, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = trigger_id_param(params);
                     const auto& changes = patch.get();
                     const auto current = app.triggers.get(txn, id);
                     auto merged = automation::merge_patch(automation::render_trigger(current), changes);
                     const auto spec = automation::parse_trigger(merged.as_object());
                     auto updated = app.triggers.update(txn, actor, id, spec, ip);
                     txn.commit();
                     return http::json_response(status::ok, trigger_body(updated));
                   });
  });

  router.add(verb::delete_, "/api/automation/triggers/{id}", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params,
                    ip = context.client_ip, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     app.triggers.remove(txn, actor, trigger_id_param(params), ip);
                     txn.commit();
                     return http::no_content_response();
                   });
  });

  router.add(verb::post, "/api/automation/triggers/{id}/rotate-secret", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params,
                    ip = context.client_ip, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     auto rotated = app.triggers.rotate_secret(txn, actor, trigger_id_param(params), ip);
                     txn.commit();
                     return http::json_response(status::ok, trigger_body(rotated));
                   });
  });

  router.add(verb::get, "/api/automation/triggers/{id}/runs", http::Access::viewer, [&app](http::RequestContext& context) {
    auto filter = Deferred<store::runs::ListFilter>::from(
        [&] { return automation::parse_run_filter(query_params(context.request), false); });
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params, filter,
                    access = context.access](pqxx::connection& c) {
                     pqxx::read_transaction txn(c);
                     auth::authenticate_operator(txn, request, access);
                     const auto id = trigger_id_param(params);
                     auto query = filter.get();
                     app.triggers.get(txn, id);
                     query.trigger_id = id;
                     const auto page = store::runs::list(txn, query);
                     boost::json::object body{{"runs", automation::render_runs(txn, page.rows)}};
                     add_next_cursor(body, page.next);
                     return http::json_response(status::ok, body);
                   });
  });
}

}  // namespace tether::api
