// Runs: firings of jobs and ad hoc fan-outs, their history, cancel and live output (jobs/runs
// contract, seed 002's paths and wrappers).
#include "controller/api/automation/job_input.hpp"
#include "controller/api/automation/views.hpp"
#include "controller/api/event_streams.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/streams/run_event_stream.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

std::string run_id_param(const std::map<std::string, std::string>& params) {
  return uuid_path_param(params, "id", "run");  // "run not found"
}

}  // namespace

void add_run_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::post, "/api/automation/runs", http::Access::operator_, [&app](http::RequestContext& context) {
    auto input = Deferred<runs::AdHocRun>::from(
        [&] { return automation::parse_adhoc_run(parse_json_body(context.request)); });
    answer_from_db(app, context, [&app, request = context.request, input, access = context.access,
                                  ip = context.client_ip](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      auto run = input.get();
      run.client_ip = ip;
      auto created = app.fanout.create_adhoc(txn, run, actor.actor());
      const auto counts = store::runs::latest_counts(txn, created.run.id);
      txn.commit();
      after_commit(app, created.after);
      return http::json_response(status::created,
                                 boost::json::object{{"run", automation::render_run(created.run, counts)}});
    });
  });

  router.add(verb::get, "/api/automation/runs", http::Access::viewer, [&app](http::RequestContext& context) {
    auto filter = Deferred<store::runs::ListFilter>::from(
        [&] { return automation::parse_run_filter(query_params(context.request), true); });
    answer_from_db(app, context, [request = context.request, filter, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto page = store::runs::list(txn, filter.get());
      boost::json::object body{{"runs", automation::render_runs(txn, page.rows)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });

  router.add(verb::get, "/api/automation/runs/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto run = run_or_404(txn, run_id_param(params));
      auto body = automation::render_run_detail(run, store::runs::latest_counts(txn, run.id),
                                                store::runs::attempts_of(txn, run.id),
                                                store::runs::operations_of(txn, run.id));
      return http::json_response(status::ok, boost::json::object{{"run", std::move(body)}});
    });
  });

  // 202 with the run canceled; 409 when it has already ended.
  router.add(verb::post, "/api/automation/runs/{id}/cancel", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, params = context.path_params, access = context.access,
                                  ip = context.client_ip](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      const auto id = run_id_param(params);
      run_or_404(txn, id);
      auto canceled = app.fanout.cancel(txn, id, actor.actor(), "canceled by " + actor.actor(), ip);
      const auto counts = store::runs::latest_counts(txn, id);
      txn.commit();
      after_commit(app, canceled.after);
      return http::json_response(status::accepted,
                                 boost::json::object{{"run", automation::render_run(canceled.run, counts)}});
    });
  });

  // SSE of the run's output, its operations' ends and the run's end; resumable with Last-Event-ID.
  // Admitted under the same caps and rate as the operation streams.
  router.add(verb::get, "/api/automation/runs/{id}/stream", http::Access::viewer, [&app](http::RequestContext& context) {
    serve_run_stream(app, context, "id", [](const store::RunRecord& run, const store::TargetCounts& counts) {
      return boost::json::value(automation::render_run(run, counts));
    });
  });
}

}  // namespace tether::api
