// Export and import of the automation set (issue 10): every job and trigger as one document, and
// the same document read back in one transaction. Neither way carries a secret: no env values, no
// webhook secret or token (an import gives webhook triggers fresh ones, shown once).
#include "controller/api/automation/import_input.hpp"
#include "controller/api/automation/views.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/portability.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

boost::json::object id_map(const std::vector<std::pair<std::string, std::string>>& pairs) {
  boost::json::object out;
  for (const auto& [old_id, new_id] : pairs) out[old_id] = new_id;
  return out;
}

boost::json::object import_answer(const services::ImportResult& result) {
  boost::json::array secrets;
  for (const auto& created : result.triggers) {
    if (created.secret) secrets.push_back({{"trigger_id", created.trigger.id}, {"secret", *created.secret}});
  }
  boost::json::array env_to_set;
  for (const auto& [job_id, keys] : result.env_to_set) {
    env_to_set.push_back({{"job_id", job_id}, {"keys", string_array(keys)}});
  }
  return {{"imported", result.jobs.size() + result.triggers.size()},
          {"jobs", id_map(result.job_ids)},
          {"triggers", id_map(result.trigger_ids)},
          {"webhook_secrets", std::move(secrets)},
          {"env_to_set", std::move(env_to_set)}};
}

}  // namespace

void add_portability_routes(http::Router& router, app::AppContext& app) {
  // Operators only: the document shows every job's commands and targets (never a secret).
  router.add(verb::get, "/api/automation/export", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto set = services::Portability(app.jobs, app.triggers).export_all(txn);
      boost::json::array jobs;
      for (const auto& job : set.jobs) jobs.push_back(automation::render_job(job));
      boost::json::array triggers;
      for (const auto& trigger : set.triggers) triggers.push_back(automation::render_trigger(trigger));
      return http::json_response(
          status::ok, boost::json::object{{"version", automation::export_document_version},
                                          {"exported_at", automation::time_text(store::epoch_micros(app.fanout.clock().now()))},
                                          {"jobs", std::move(jobs)},
                                          {"triggers", std::move(triggers)}});
    });
  });

  // All or nothing: every item is created in one transaction; 422 names the first bad item.
  router.add(verb::post, "/api/automation/import", http::Access::operator_, [&app](http::RequestContext& context) {
    auto plan = Deferred<services::ImportPlan>::from(
        [&] { return automation::parse_import(parse_json_body(context.request)); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, plan, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      const auto result = services::Portability(app.jobs, app.triggers).import(txn, actor, plan.get(), ip);
      txn.commit();
      if (app.wake_scheduler) app.wake_scheduler();
      return http::json_response(status::ok, import_answer(result));
    });
  });
}

}  // namespace tether::api
