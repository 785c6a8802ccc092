// Seed 000's Automations API (/api/automations): a thin adapter over jobs, triggers and runs, so
// that a client written for that API works unchanged. An automation is a job (its id is the job's
// id) with a label (the type and icon it was declared with) and a token trigger: the webhook token
// created with it and shown once. Viewers read; operators write. The token webhook itself
// (POST /api/automations/webhook/{token}, no key) is served with the other webhooks
// (webhooks_api.cpp).
#include "controller/api/automation/views.hpp"
#include "controller/api/event_streams.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/api/seed000/automation_input.hpp"
#include "controller/api/seed000/automation_views.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/automation_service.hpp"
#include "controller/services/portability.hpp"
#include "controller/services/service_error.hpp"
#include "controller/services/templates.hpp"
#include "controller/store/run_output_store.hpp"
#include "controller/streams/run_event_stream.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

std::string automation_id_param(const std::map<std::string, std::string>& params) {
  return uuid_path_param(params, "id", "automation");  // "automation not found"
}

std::string automation_run_id_param(const std::map<std::string, std::string>& params) {
  return uuid_path_param(params, "run_id", "run");  // "run not found"
}

store::JobRecord automation_or_404(pqxx::transaction_base& txn, const std::string& id) {
  auto job = store::jobs::find(txn, id);
  if (!job) throw http::ApiError(status::not_found, "automation not found");
  return std::move(*job);
}

// A service's not_found for the job reads as this API has it.
template <class Call>
auto automation_call(Call&& call) {
  try {
    return call();
  } catch (const services::ServiceError& e) {
    if (e.refusal() == services::Refusal::not_found) throw http::ApiError(status::not_found, "automation not found");
    throw;
  }
}

std::string webhook_url(const std::string& token) { return "/api/automations/webhook/" + token; }

boost::json::object created_answer(const services::CreatedAutomation& created) {
  return {{"id", created.job.id},
          {"status", "created"},
          {"webhook_token", created.webhook_token},
          {"webhook_url", webhook_url(created.webhook_token)}};
}

boost::json::array export_list(pqxx::transaction_base& txn, const app::AppContext& app) {
  const auto set = services::Portability(app.jobs, app.triggers).export_all(txn);
  std::map<std::string, std::vector<store::TriggerRecord>> triggers;
  for (const auto& trigger : set.triggers) triggers[trigger.job_id].push_back(trigger);
  boost::json::array out;
  for (const auto& job : set.jobs) {
    const auto label = set.labels.find(job.id);
    out.push_back(seed000::render_exported(
        job, label == set.labels.end() ? std::nullopt : std::optional<store::AutomationLabel>(label->second),
        triggers[job.id]));
  }
  return out;
}

// {"imported": N automations, "automations": [{"id", "webhook_token", "webhook_url"}...]} in the
// document's order, and the env keys left to set when there are any.
boost::json::object automations_import_answer(const services::ImportResult& result) {
  std::map<std::string, std::string> tokens;
  for (const auto& created : result.triggers) {
    if (created.secret && services::is_webhook_token(created.trigger)) tokens[created.trigger.job_id] = *created.secret;
  }
  boost::json::array automations;
  for (const auto& job : result.jobs) {
    boost::json::object item{{"id", job.id}};
    if (auto it = tokens.find(job.id); it != tokens.end()) {
      item["webhook_token"] = it->second;
      item["webhook_url"] = webhook_url(it->second);
    }
    automations.push_back(std::move(item));
  }
  boost::json::object body{{"imported", result.jobs.size()}, {"automations", std::move(automations)}};
  if (!result.env_to_set.empty()) {
    boost::json::array env_to_set;
    for (const auto& [job_id, keys] : result.env_to_set) {
      env_to_set.push_back({{"id", job_id}, {"keys", string_array(keys)}});
    }
    body["env_to_set"] = std::move(env_to_set);
  }
  return body;
}

// Creates the declared automation (job, label, token trigger): 201 with its id and its webhook token.
void create_automation(app::AppContext& app, const http::RequestContext& context,
                       const Deferred<seed000::Declaration>& declaration) {
    answer_from_db(app, context,
                   [&app, request = context.request, ip = context.client_ip, declaration,
                    access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto& declared = declaration.get();
                     const auto created = services::Automations(app.jobs, app.triggers)
                                              .create(txn, actor, declared.job, declared.label, ip);
                     txn.commit();
                     if (app.wake_scheduler) app.wake_scheduler();
                     return http::json_response(status::created, created_answer(created));
                   });
}

}  // namespace

void add_seed000_automation_routes(http::Router& router, app::AppContext& app) {
  // ---- the list and its exports (literal paths first: the router takes the first match)

  // Seed 000 answers a bare array: the next page's cursor is in X-Next-Cursor and Link.
  router.add(verb::get, "/api/automations", http::Access::viewer, [&app](http::RequestContext& context) {
    auto wanted = Deferred<store::PageRequest>::from([&] { return page_request(query_params(context.request)); });
    answer_from_db(app, context, [&app, request = context.request, wanted, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto page = services::Automations(app.jobs, app.triggers).list(txn, wanted.get());
      boost::json::array automations;
      for (const auto& summary : page.rows) {
        automations.push_back(seed000::render_automation(summary.job, summary.label, summary.last_run));
      }
      auto response = http::json_response(status::ok, automations);
      add_next_cursor_headers(response, request, page.next);
      return response;
    });
  });

  router.add(verb::post, "/api/automations", http::Access::operator_, [&app](http::RequestContext& context) {
    auto declaration = Deferred<seed000::Declaration>::from(
        [&] { return seed000::parse_declaration(parse_json_body(context.request)); });
    create_automation(app, context, declaration);
  });

  // Every automation with its whole job and its triggers (never a secret): operators only.
  router.add(verb::get, "/api/automations/export", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      return http::json_response(status::ok, export_list(txn, app));
    });
  });

  // All or nothing, in one transaction; new ids, and a fresh webhook token for each automation.
  router.add(verb::post, "/api/automations/import", http::Access::operator_, [&app](http::RequestContext& context) {
    auto plan = Deferred<services::ImportPlan>::from([&] { return seed000::parse_import(context.request.body()); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, plan, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      const auto result = services::Portability(app.jobs, app.triggers).import(txn, actor, plan.get(), ip);
      txn.commit();
      if (app.wake_scheduler) app.wake_scheduler();
      return http::json_response(status::ok, automations_import_answer(result));
    });
  });

  // ---- the template library

  router.add(verb::get, "/api/automations/templates", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      boost::json::array templates;
      for (const auto& tmpl : services::templates::list()) templates.push_back(services::templates::to_json(tmpl));
      return http::json_response(status::ok, templates);
    });
  });

  // 201 {"id", "status": "created", "webhook_token", "webhook_url"}; 404 for an unknown template
  // (after authentication, as every refusal of the body).
  router.add(verb::post, "/api/automations/templates/{template_id}/apply", http::Access::operator_, [&app](http::RequestContext& context) {
    auto declaration = Deferred<seed000::Declaration>::from([&] {
      const auto* tmpl = services::templates::find(context.path_params.at("template_id"));
      if (!tmpl) throw http::ApiError(status::not_found, "template not found");
      return seed000::parse_template_application(*tmpl, parse_json_body(context.request));
    });
    create_automation(app, context, declaration);
  });

  // ---- runs

  router.add(verb::get, "/api/automations/runs/{run_id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto run = run_or_404(txn, automation_run_id_param(params));
      const auto output = store::run_output::of_run(txn, run.id, seed000::max_run_output_bytes);
      return http::json_response(status::ok, seed000::render_run(run, &output));
    });
  });

  // The run's SSE stream, as GET /api/automation/runs/{id}/stream serves it; the key may come as
  // ?token= (EventSource cannot set headers).
  router.add(verb::get, "/api/automations/runs/{run_id}/stream", http::Access::viewer,
             [&app](http::RequestContext& context) {
               serve_run_stream(app, context, "run_id", [](const store::RunRecord& run, const store::TargetCounts&) {
                 return boost::json::value(seed000::render_run(run));
               });
             });

  // ---- one automation

  router.add(verb::put, "/api/automations/{id}", http::Access::operator_, [&app](http::RequestContext& context) {
    auto declaration = Deferred<seed000::Declaration>::from(
        [&] { return seed000::parse_declaration(parse_json_body(context.request)); });
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params, ip = context.client_ip,
                    declaration, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = automation_id_param(params);
                     const auto& declared = declaration.get();
                     automation_call([&] {
                       return services::Automations(app.jobs, app.triggers)
                           .update(txn, actor, id, declared.job, declared.label, declared.names_env, ip);
                     });
                     txn.commit();
                     if (app.wake_scheduler) app.wake_scheduler();
                     return http::json_response(status::ok, boost::json::object{{"status", "updated"}});
                   });
  });

  // The automation's runs stay in the history; its triggers and label go with it.
  router.add(verb::delete_, "/api/automations/{id}", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params,
                    ip = context.client_ip, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = automation_id_param(params);
                     automation_call([&] {
                       app.jobs.remove(txn, actor, id, ip);
                       return 0;
                     });
                     txn.commit();
                     if (app.wake_scheduler) app.wake_scheduler();
                     return http::json_response(status::ok, boost::json::object{{"status", "deleted"}});
                   });
  });

  // Runs the automation now, whatever its schedule; its overlap policy and fire limit apply (a
  // firing they refuse answers with the run "canceled").
  router.add(verb::post, "/api/automations/{id}/run", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, params = context.path_params, access = context.access,
                                  ip = context.client_ip](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      const auto job = automation_or_404(txn, automation_id_param(params));
      auto created = app.fanout.fire_job(txn, job, app.fanout.clock().now(), std::nullopt, actor.actor(),
                                         runs::FanOut::now, nullptr, ip);
      txn.commit();
      after_commit(app, created.after);
      boost::json::object body{{"run_id", created.run.id}, {"status", seed000::run_status(created.run.status)}};
      if (created.run.error) body["error"] = *created.run.error;
      if (created.run.approval_id) body["approval_id"] = *created.run.approval_id;
      if (created.run.maintenance_window_id) body["maintenance_window"] = automation::maintenance_window_of(created.run);
      return http::json_response(status::ok, body);
    });
  });
}

}  // namespace tether::api
