// Seed 004's operator API keys (tak_): GET/POST /api/admin/api-keys, DELETE /api/admin/api-keys/{key_id}.
// Admin only. The secret is in the creation's answer only; lists never carry it nor its hash.
// A deleted key is revoked, not removed: its row stays for the audit trail.
#include "common/json_fields.hpp"
#include "common/time.hpp"
#include "common/utf8.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/services/key_service.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

boost::json::object render_api_key(const store::ApiKeyRecord& key) {
  return {{"id", key.id},
          {"name", key.name},
          {"role", key.role},
          {"prefix", key.key_prefix},
          {"created_by", key.created_by},
          {"created_at", key.created_at},
          {"last_used_at", nullable(key.last_used_at)},
          {"expires_at", nullable(key.expires_at)},
          {"revoked_at", nullable(key.revoked_at)}};
}

services::OperatorKeyInput parse_new_api_key(const http::Request& request) {
  const auto body = parse_json_body(request);
  services::OperatorKeyInput input;
  input.name = json::required_string(body, "name");
  if (input.name.empty() || utf8::code_points(input.name) > 200) {
    throw json::FieldError("name: must be 1 to 200 characters");
  }
  const auto role = json::required_string(body, "role");
  const auto parsed = auth::parse_role(role);
  if (!parsed) throw json::FieldError("role: must be viewer, operator or admin");
  input.role = *parsed;
  if (auto expires = json::optional_string(body, "expires_at")) {
    auto when = timeutil::parse_rfc3339(*expires);
    if (!when) throw json::FieldError("expires_at: must be an RFC 3339 date-time such as 2026-12-31T23:59:59Z");
    if (*when <= std::chrono::system_clock::now()) throw json::FieldError("expires_at: must be in the future");
    input.expires_at = timeutil::format_utc(*when);
  }
  return input;
}

}  // namespace

void add_api_key_routes(http::Router& router, app::AppContext& app) {
  // Seed 004 answers a bare array: the next page's cursor is in X-Next-Cursor and Link.
  router.add(verb::get, "/api/admin/api-keys", http::Access::admin, [&app](http::RequestContext& context) {
    auto wanted = Deferred<store::PageRequest>::from([&] { return page_request(query_params(context.request)); });
    answer_from_db(app, context, [request = context.request, access = context.access, wanted](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto page = services::list_operator_keys(txn, wanted.get());
      boost::json::array keys;
      for (const auto& key : page.rows) keys.push_back(render_api_key(key));
      auto response = http::json_response(status::ok, keys);
      add_next_cursor_headers(response, request, page.next);
      return response;
    });
  });

  // 201 with the secret, shown this once.
  router.add(verb::post, "/api/admin/api-keys", http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<services::OperatorKeyInput>::from([&] { return parse_new_api_key(context.request); });
    answer_from_db(app, context,
                   [request = context.request, ip = context.client_ip, input, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     auto created = services::create_operator_key(txn, actor.actor(), input.get(), ip);
                     txn.commit();
                     return http::json_response(status::created,
                                                boost::json::object{{"id", created.key.id},
                                                                    {"name", created.key.name},
                                                                    {"role", created.key.role},
                                                                    {"prefix", created.key.key_prefix},
                                                                    {"key", created.secret},
                                                                    {"created_at", created.key.created_at},
                                                                    {"expires_at", nullable(created.key.expires_at)}});
                   });
  });

  router.add(verb::delete_, "/api/admin/api-keys/{key_id}", http::Access::admin, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [request = context.request, params = context.path_params, ip = context.client_ip,
                    access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "key_id", "API key");
                     const auto revoked_at = services::revoke_operator_key(txn, actor, id, ip);
                     txn.commit();
                     return http::json_response(
                         status::ok, boost::json::object{{"status", "ok"}, {"id", id}, {"revoked_at", revoked_at}});
                   });
  });
}

}  // namespace tether::api
