// Registry credentials: the password goes in and never comes out.
#include "common/json_fields.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

boost::json::object render_credential(const store::registry::Credential& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"registry_url", c.registry_url},
          {"registry_type", c.registry_type},
          {"username", c.username},
          {"password_set", !c.password_sealed.empty()},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at}};
}

services::CredentialInput parse_credential(const http::Request& request) {
  const auto body = parse_json_body(request);
  return services::CredentialInput{json::optional_string(body, "name"), json::optional_string(body, "registry_url"),
                                   json::optional_string(body, "registry_type"),
                                   json::optional_string(body, "username"), json::optional_string(body, "password")};
}

}  // namespace

void add_registry_credential_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::post, "/api/registry-credentials", http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<services::CredentialInput>::from([&] { return parse_credential(context.request); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, input, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      auto created = app.registry_credentials.create(txn, actor, input.get(), ip);
      txn.commit();
      return http::json_response(status::created, render_credential(created));
    });
  });

  router.add(verb::get, "/api/registry-credentials", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto page = app.registry_credentials.list(txn, page_request(query_params(request)));
      boost::json::array out;
      for (const auto& credential : page.rows) out.push_back(render_credential(credential));
      boost::json::object body{{"credentials", std::move(out)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });

  router.add(verb::get, "/api/registry-credentials/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto id = uuid_path_param(params, "id", "registry credential");
      return http::json_response(status::ok, render_credential(app.registry_credentials.get(txn, id)));
    });
  });

  router.add(verb::patch, "/api/registry-credentials/{id}", http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<services::CredentialInput>::from([&] { return parse_credential(context.request); });
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params, ip = context.client_ip,
                    input, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "registry credential");
                     auto updated = app.registry_credentials.update(txn, actor, id, input.get(), ip);
                     txn.commit();
                     return http::json_response(status::ok, render_credential(updated));
                   });
  });

  router.add(verb::delete_, "/api/registry-credentials/{id}", http::Access::admin, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params, ip = context.client_ip,
                    access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "registry credential");
                     app.registry_credentials.remove(txn, actor, id, ip);
                     txn.commit();
                     return http::json_response(status::ok, boost::json::object{{"id", id}, {"deleted", true}});
                   });
  });
}

}  // namespace tether::api
