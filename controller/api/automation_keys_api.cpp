#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/time.hpp"
#include "common/utf8.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/networks.hpp"
#include "controller/services/key_service.hpp"

#include <algorithm>
#include <array>

namespace tether::api {
namespace {

using http::ApiError;
using http::bhttp::status;
using http::bhttp::verb;

constexpr std::array<std::string_view, 6> operation_kinds = {"exec",   "deploy",         "restart",
                                                             "reboot", "registry_login", "registry_logout"};

boost::json::object render_key(const store::AutomationKeyRecord& key) {
  return {{"id", key.id},
          {"name", key.name},
          {"key_prefix", key.key_prefix},
          {"allowed_server_ids", string_array(key.allowed_server_ids)},
          {"allowed_operations", string_array(key.allowed_operations)},
          {"allowed_credential_ids", string_array(key.allowed_credential_ids)},
          {"ip_allowlist", string_array(key.ip_allowlist)},
          {"rate_limit_per_minute", key.rate_limit_per_minute},
          {"expires_at", nullable(key.expires_at)},
          {"revoked_at", nullable(key.revoked_at)},
          {"last_used_at", nullable(key.last_used_at)},
          {"created_at", key.created_at}};
}

std::vector<std::string> string_list(const boost::json::object& body, std::string_view field) {
  std::vector<std::string> out;
  if (auto array = json::optional_array(body, field)) {
    for (const auto& item : *array) {
      if (!item.is_string()) throw json::FieldError(std::string(field) + ": must contain only strings");
      out.emplace_back(item.as_string());
    }
  }
  return out;
}

std::vector<std::string> uuid_list(const boost::json::object& body, std::string_view field) {
  std::vector<std::string> out;
  for (auto& id : string_list(body, field)) {
    auto parsed = ids::parse_uuid(id);
    if (!parsed) throw json::FieldError(std::string(field) + ": '" + id + "' is not a UUID");
    out.push_back(*parsed);
  }
  return out;
}

// Reads the key fields present in `body` into `input`; with `partial`, absent fields stay as they are.
void read_key_fields(const boost::json::object& body, services::AutomationKeyInput& input, bool partial) {
  if (!partial || body.contains("name")) {
    input.name = json::required_string(body, "name");
    if (input.name.empty() || utf8::code_points(input.name) > 200) throw json::FieldError("name: must be 1 to 200 characters");
  }
  if (!partial || body.contains("allowed_server_ids")) input.allowed_server_ids = uuid_list(body, "allowed_server_ids");
  if (!partial || body.contains("allowed_credential_ids")) {
    input.allowed_credential_ids = uuid_list(body, "allowed_credential_ids");
  }
  if (!partial || body.contains("allowed_operations")) {
    input.allowed_operations.clear();
    for (auto& operation : string_list(body, "allowed_operations")) {
      if (std::find(operation_kinds.begin(), operation_kinds.end(), operation) == operation_kinds.end()) {
        throw json::FieldError("allowed_operations: '" + operation +
                               "' is not one of exec, deploy, restart, reboot, registry_login, registry_logout");
      }
      input.allowed_operations.push_back(operation);
    }
  }
  if (!partial || body.contains("ip_allowlist")) {
    try {
      input.ip_allowlist = auth::NetworkList::parse(string_list(body, "ip_allowlist")).canonical();
    } catch (const std::invalid_argument& e) {
      throw json::FieldError(std::string("ip_allowlist: ") + e.what());
    }
  }
  if (!partial || body.contains("rate_limit_per_minute")) {
    const auto limit = json::optional_int(body, "rate_limit_per_minute").value_or(100);
    if (limit < 1 || limit > 1000) throw json::FieldError("rate_limit_per_minute: must be from 1 to 1000");
    input.rate_limit_per_minute = static_cast<int>(limit);
  }
  if (!partial || body.contains("expires_at")) {
    input.expires_at.reset();
    if (auto expires = json::optional_string(body, "expires_at")) {
      auto when = timeutil::parse_rfc3339(*expires);
      if (!when) throw json::FieldError("expires_at: must be an RFC 3339 date-time such as 2026-12-31T23:59:59Z");
      if (*when <= std::chrono::system_clock::now()) throw json::FieldError("expires_at: must be in the future");
      input.expires_at = timeutil::format_utc(*when);
    }
  }
}

services::AutomationKeyInput parse_new_key(const http::Request& request) {
  services::AutomationKeyInput input;
  read_key_fields(parse_json_body(request), input, false);
  return input;
}

}  // namespace

void add_automation_key_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::post, "/api/automation-keys", http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<services::AutomationKeyInput>::from([&] { return parse_new_key(context.request); });
    answer_from_db(app, context,
                   [request = context.request, ip = context.client_ip, input,
                    access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     auto created = services::create_automation_key(txn, actor, input.get(), ip);
                     txn.commit();
                     auto body = render_key(created.key);
                     body["key"] = created.secret;
                     return http::json_response(status::created, body);
                   });
  });

  router.add(verb::get, "/api/automation-keys", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto page = services::list_automation_keys(txn, page_request(query_params(request)));
      boost::json::array keys;
      for (const auto& key : page.rows) keys.push_back(render_key(key));
      boost::json::object body{{"keys", std::move(keys)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });

  router.add(verb::patch, "/api/automation-keys/{id}", http::Access::admin, [&app](http::RequestContext& context) {
    auto body = Deferred<boost::json::object>::from([&] { return parse_json_body(context.request); });
    answer_from_db(app, context,
                   [request = context.request, params = context.path_params, ip = context.client_ip,
                    body, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "automation key");
                     auto current = services::automation_key_input(services::get_automation_key(txn, id));
                     read_key_fields(body.get(), current, true);
                     auto updated = services::update_automation_key(txn, actor, id, current, ip);
                     txn.commit();
                     return http::json_response(status::ok, render_key(updated));
                   });
  });

  router.add(verb::delete_, "/api/automation-keys/{id}", http::Access::admin, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [request = context.request, params = context.path_params,
                    ip = context.client_ip, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "automation key");
                     const auto revoked_at = services::revoke_automation_key(txn, actor, id, ip);
                     txn.commit();
                     return http::json_response(status::ok,
                                                boost::json::object{{"id", id}, {"revoked_at", revoked_at}});
                   });
  });
}

}  // namespace tether::api
