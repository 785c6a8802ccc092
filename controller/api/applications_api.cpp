// Applications (deploy targets) and their deployments.
#include "common/json_fields.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/api/v1/operation_view.hpp"
#include "controller/services/application_service.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

boost::json::object render_application(const store::applications::Application& a) {
  return {{"id", a.id},
          {"name", a.name},
          {"server_id", a.server_id},
          {"directory", a.directory},
          {"deploy_branch", a.deploy_branch},
          {"deploy_command", a.deploy_command},
          {"created_at", a.created_at}};
}

boost::json::object render_deployment(const store::applications::Deployment& d) {
  return {{"id", d.id},
          {"application_id", d.application_id},
          {"operation_id", d.operation_id},
          {"commit_ref", d.commit_ref},
          {"resolved_commit", nullable(d.resolved_commit)},
          {"status", v1::public_status(d.operation_status)},
          {"created_at", d.created_at},
          {"completed_at", nullable(d.completed_at)}};
}

services::ApplicationInput parse_application(const http::Request& request) {
  const auto body = parse_json_body(request);
  return services::ApplicationInput{json::optional_string(body, "name"), json::optional_string(body, "server_id"),
                                    json::optional_string(body, "directory"),
                                    json::optional_string(body, "deploy_branch"),
                                    json::optional_string(body, "deploy_command")};
}

}  // namespace

void add_application_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::post, "/api/applications", http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<services::ApplicationInput>::from([&] { return parse_application(context.request); });
    answer_from_db(app, context, [request = context.request, ip = context.client_ip, input, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      auto created = services::create_application(txn, actor, input.get(), ip);
      txn.commit();
      return http::json_response(status::created, render_application(created));
    });
  });

  router.add(verb::get, "/api/applications", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto page = services::list_applications(txn, page_request(query_params(request)));
      boost::json::array out;
      for (const auto& a : page.rows) out.push_back(render_application(a));
      boost::json::object body{{"applications", std::move(out)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });

  router.add(verb::get, "/api/applications/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto id = uuid_path_param(params, "id", "application");
      return http::json_response(status::ok, render_application(services::get_application(txn, id)));
    });
  });

  router.add(verb::patch, "/api/applications/{id}", http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<services::ApplicationInput>::from([&] { return parse_application(context.request); });
    answer_from_db(app, context,
                   [request = context.request, params = context.path_params, ip = context.client_ip,
                    input, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "application");
                     auto updated = services::update_application(txn, actor, id, input.get(), ip);
                     txn.commit();
                     return http::json_response(status::ok, render_application(updated));
                   });
  });

  router.add(verb::delete_, "/api/applications/{id}", http::Access::admin, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [request = context.request, params = context.path_params, ip = context.client_ip,
                    access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "application");
                     services::delete_application(txn, actor, id, ip);
                     txn.commit();
                     return http::json_response(status::ok, boost::json::object{{"id", id}, {"deleted", true}});
                   });
  });

  router.add(verb::get, "/api/deployments", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto params = query_params(request);
      std::optional<std::string> application_id;
      if (params.count("application_id")) application_id = uuid_path_param(params, "application_id", "application");
      const auto page = store::applications::deployments(txn, application_id, page_request(params));
      boost::json::array out;
      for (const auto& d : page.rows) out.push_back(render_deployment(d));
      boost::json::object body{{"deployments", std::move(out)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });

  router.add(verb::get, "/api/deployments/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto id = uuid_path_param(params, "id", "deployment");
      auto deployment = store::applications::find_deployment(txn, id);
      if (!deployment) throw http::ApiError(status::not_found, "deployment " + id + " not found");
      return http::json_response(status::ok, render_deployment(*deployment));
    });
  });
}

}  // namespace tether::api
