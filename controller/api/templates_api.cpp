// The built-in templates (services/templates.hpp): the library, and a job made from one of them.
// Applying a template goes through the jobs parser like POST /api/automation/jobs, so that a
// template's job obeys every rule a job declared by hand obeys.
#include "controller/api/automation/job_input.hpp"
#include "controller/api/automation/views.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/templates.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

}  // namespace

void add_template_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::get, "/api/automation/templates", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      boost::json::array templates;
      for (const auto& tmpl : services::templates::list()) templates.push_back(services::templates::to_json(tmpl));
      return http::json_response(status::ok, boost::json::object{{"templates", std::move(templates)}});
    });
  });

  // 201 {"job": JOB}; 404 for an unknown template, 422 naming the parameter or job field at fault
  // (both only after authentication).
  router.add(verb::post, "/api/automation/templates/{id}/apply", http::Access::operator_, [&app](http::RequestContext& context) {
    auto spec = Deferred<services::JobSpec>::from([&] {
      const auto* tmpl = services::templates::find(context.path_params.at("id"));
      if (!tmpl) throw http::ApiError(status::not_found, "template not found");
      return automation::parse_job(
          services::templates::job_body_from_template(*tmpl, parse_json_body(context.request)));
    });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, spec, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      auto job = app.jobs.create(txn, actor, spec.get(), ip);
      txn.commit();
      if (app.wake_scheduler) app.wake_scheduler();
      return http::json_response(status::created, boost::json::object{{"job", automation::render_job(job)}});
    });
  });
}

}  // namespace tether::api
