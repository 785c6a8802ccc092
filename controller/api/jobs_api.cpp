// Jobs: saved operations with targets, an optional schedule and the policies of their firings
// (jobs/runs contract, seed 002's paths and wrappers).
#include "controller/api/automation/job_input.hpp"
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

store::JobRecord job_or_404(pqxx::transaction_base& txn, const std::string& id, bool for_update = false) {
  auto job = store::jobs::find(txn, id, for_update);
  if (!job) throw http::ApiError(status::not_found, "job not found");
  return std::move(*job);
}

std::string job_id_param(const std::map<std::string, std::string>& params) {
  return uuid_path_param(params, "id", "job");  // "job not found"
}

// A service's not_found for the job reads as the contract has it.
template <class Call>
auto job_call(Call&& call) {
  try {
    return call();
  } catch (const services::ServiceError& e) {
    if (e.refusal() == services::Refusal::not_found) throw http::ApiError(status::not_found, "job not found");
    throw;
  }
}

boost::json::object job_body(const store::JobRecord& job) {
  return boost::json::object{{"job", automation::render_job(job)}};
}

struct JobListQuery {
  std::optional<std::string> source;
  store::PageRequest page;
};

JobListQuery parse_job_list_query(const http::Request& request) {
  const auto params = query_params(request);
  JobListQuery query;
  query.source = automation::parse_source_param(params);
  query.page = page_request(params);
  return query;
}

// {"runs": [...], "next_cursor": ...}
http::Response runs_answer(pqxx::transaction_base& txn, const store::Page<store::RunRecord>& page) {
  boost::json::object body{{"runs", automation::render_runs(txn, page.rows)}};
  add_next_cursor(body, page.next);
  return http::json_response(status::ok, body);
}

}  // namespace

void add_job_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::get, "/api/automation/jobs", http::Access::viewer, [&app](http::RequestContext& context) {
    auto query = Deferred<JobListQuery>::from([&] { return parse_job_list_query(context.request); });
    answer_from_db(app, context, [&app, request = context.request, query, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto& q = query.get();
      const auto page = app.jobs.list(txn, q.source, q.page);
      boost::json::array jobs;
      for (const auto& job : page.rows) jobs.push_back(automation::render_job(job));
      boost::json::object body{{"jobs", std::move(jobs)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });

  router.add(verb::post, "/api/automation/jobs", http::Access::operator_, [&app](http::RequestContext& context) {
    auto spec = Deferred<services::JobSpec>::from(
        [&] { return automation::parse_job(parse_json_body(context.request)); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, spec, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      auto job = app.jobs.create(txn, actor, spec.get(), ip);
      txn.commit();
      if (app.wake_scheduler) app.wake_scheduler();
      return http::json_response(status::created, job_body(job));
    });
  });

  router.add(verb::get, "/api/automation/jobs/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      return http::json_response(status::ok, job_body(job_or_404(txn, job_id_param(params))));
    });
  });

  // RFC 7396 merge patch over the job as GET shows it, validated as a whole declaration. The env
  // values stay unless the patch names them (operation.params.env: an object replaces them, null
  // removes them) or changes the operation's type.
  router.add(verb::patch, "/api/automation/jobs/{id}", http::Access::operator_, [&app](http::RequestContext& context) {
    auto patch = Deferred<boost::json::object>::from([&] { return parse_json_body(context.request); });
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params, ip = context.client_ip,
                    patch, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = job_id_param(params);
                     const auto& changes = patch.get();
                     const auto current = job_or_404(txn, id, true);
                     auto merged = automation::merge_patch(automation::render_job(current), changes);
                     const auto spec = automation::parse_job(merged.as_object());
                     const bool keep_env = !automation::patch_names_env(changes) &&
                                           spec.run.operation.type == current.operation_type;
                     auto job = job_call([&] { return app.jobs.update(txn, actor, id, spec, keep_env, ip); });
                     txn.commit();
                     if (app.wake_scheduler) app.wake_scheduler();
                     return http::json_response(status::ok, job_body(job));
                   });
  });

  router.add(verb::delete_, "/api/automation/jobs/{id}", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params,
                    ip = context.client_ip, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = job_id_param(params);
                     job_call([&] {
                       app.jobs.remove(txn, actor, id, ip);
                       return 0;
                     });
                     txn.commit();
                     if (app.wake_scheduler) app.wake_scheduler();
                     return http::no_content_response();
                   });
  });

  router.add(verb::get, "/api/automation/jobs/{id}/runs", http::Access::viewer, [&app](http::RequestContext& context) {
    auto filter = Deferred<store::runs::ListFilter>::from(
        [&] { return automation::parse_run_filter(query_params(context.request), false); });
    answer_from_db(app, context,
                   [request = context.request, params = context.path_params, filter,
                    access = context.access](pqxx::connection& c) {
                     pqxx::read_transaction txn(c);
                     auth::authenticate_operator(txn, request, access);
                     const auto id = job_id_param(params);
                     auto query = filter.get();
                     job_or_404(txn, id);
                     query.job_id = id;
                     return runs_answer(txn, store::runs::list(txn, query));
                   });
  });

  // Runs the job now; its overlap policy and fire limit apply (a firing they refuse is still
  // recorded, canceled with the reason).
  router.add(verb::post, "/api/automation/jobs/{id}/trigger", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, params = context.path_params, access = context.access,
                                  ip = context.client_ip](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      const auto job = job_or_404(txn, job_id_param(params));
      auto created = app.fanout.fire_job(txn, job, app.fanout.clock().now(), std::nullopt, actor.actor(),
                                         runs::FanOut::now, nullptr, ip);
      const auto counts = store::runs::latest_counts(txn, created.run.id);
      txn.commit();
      after_commit(app, created.after);
      return http::json_response(status::created,
                                 boost::json::object{{"run", automation::render_run(created.run, counts)}});
    });
  });
}

}  // namespace tether::api
