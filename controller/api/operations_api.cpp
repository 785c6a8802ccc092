// What operators read back: operations (one CI run's together, one key's history) and the audit log.
#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/time.hpp"
#include "common/utf8.hpp"
#include "controller/api/event_streams.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/api/v1/operation_view.hpp"
#include "controller/services/operation_service.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/operation_store.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

constexpr int audit_output_bytes = 4096;

// The v1 view plus what only operators see.
boost::json::object render_operation(const store::OperationRecord& operation) {
  auto view = v1::operation_view(operation);
  view["status_detail"] = operation.status;
  view["created_by"] = operation.created_by;
  view["error"] = nullable(operation.error);
  view["env_keys"] = string_array(operation.env_keys);
  view["run_context"] =
      operation.run_context_json ? boost::json::parse(*operation.run_context_json) : boost::json::value(nullptr);
  return view;
}

boost::json::object render_operations(const store::Page<store::OperationRecord>& page) {
  boost::json::array out;
  for (const auto& operation : page.rows) out.push_back(render_operation(operation));
  boost::json::object body{{"operations", std::move(out)}};
  add_next_cursor(body, page.next);
  return body;
}

std::optional<std::string> time_param(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  auto when = timeutil::parse_rfc3339(it->second);
  if (!when) throw http::ApiError(status::unprocessable_entity, name + ": must be an RFC 3339 date-time");
  return it->second;
}

std::optional<std::string> uuid_param(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  auto parsed = ids::parse_uuid(it->second);
  if (!parsed) throw http::ApiError(status::unprocessable_entity, name + ": must be a UUID");
  return parsed;
}

// Seed 004's `username`: the user of a session's entries, else the actor as it is.
std::string audit_username(const std::string& actor) {
  constexpr std::string_view user_prefix = "user:";
  return actor.starts_with(user_prefix) ? actor.substr(user_prefix.size()) : actor;
}

// Seed 004's `details`: a short line for people ("target …, name=web-1, role=viewer"), made of
// the target, the detail's plain fields (each value cut to 60 characters) and, unless allowed,
// the outcome and status code. The detail never holds a secret, so neither does this.
std::string audit_details(const store::audit::Row& row, const boost::json::value& detail) {
  constexpr std::size_t longest_value = 60, longest_line = 240;
  std::vector<std::string> parts;
  if (row.target) parts.push_back("target " + *row.target);
  if (detail.is_object()) {
    for (const auto& field : detail.as_object()) {
      const auto& value = field.value();
      std::string text;
      if (value.is_string()) {
        text = std::string(value.as_string());
      } else if (value.is_number() || value.is_bool()) {
        text = boost::json::serialize(value);
      } else {
        continue;  // lists and objects stay in `detail`
      }
      if (text.size() > longest_value) text = std::string(utf8::head(text, longest_value)) + "…";
      parts.push_back(std::string(field.key()) + "=" + text);
    }
  }
  if (row.outcome != "allowed") parts.push_back(row.outcome);
  if (row.status_code && *row.status_code >= 400) parts.push_back("status " + std::to_string(*row.status_code));
  if (row.failures && *row.failures > 1) parts.push_back(std::to_string(*row.failures) + " calls");
  std::string line;
  for (const auto& part : parts) line += (line.empty() ? "" : ", ") + part;
  if (line.size() > longest_line) line = std::string(utf8::head(line, longest_line)) + "…";
  return line;
}

// Tether's fields, then seed 004's (time in Unix seconds, username, action, details, ip).
boost::json::object render_audit(const store::audit::Row& row) {
  auto detail = boost::json::parse(row.detail_json);
  auto details = audit_details(row, detail);
  return {{"id", row.id},
          {"at", row.at},
          {"actor", row.actor},
          {"target", nullable(row.target)},
          {"key_id", nullable(row.key_id)},
          {"action", row.action},
          {"outcome", row.outcome},
          {"status_code", row.status_code ? boost::json::value(*row.status_code) : boost::json::value(nullptr)},
          {"server_id", nullable(row.server_id)},
          {"operation_id", nullable(row.operation_id)},
          {"run_id", nullable(row.run_id)},
          {"client_ip", nullable(row.client_ip)},
          {"detail", std::move(detail)},
          {"exit_code", row.exit_code ? boost::json::value(*row.exit_code) : boost::json::value(nullptr)},
          {"stdout", utf8::sanitize(row.stdout_head)},
          {"stderr", utf8::sanitize(row.stderr_head)},
          // A failed authentication's row: what the caller claimed (not the run's or server's own
          // entries), how many calls from its address it stands for, and when the last came.
          {"claimed_server_id", nullable(row.claimed_server_id)},
          {"claimed_run_id", nullable(row.claimed_run_id)},
          {"failures", row.failures ? boost::json::value(*row.failures) : boost::json::value(nullptr)},
          {"last_at", nullable(row.last_at)},
          {"time", row.at_unix},
          {"username", audit_username(row.actor)},
          {"details", std::move(details)},
          {"ip", nullable(row.client_ip)}};
}

}  // namespace

void add_operation_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::get, "/api/operations", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto params = query_params(request);
      store::operations::ListFilter filter;
      if (auto it = params.find("run_id"); it != params.end()) filter.run_id = it->second;
      filter.automation_key_id = uuid_param(params, "key_id");
      const auto page = page_request(params, {SortKey::micros, RowId::uuid});
      return http::json_response(status::ok, render_operations(store::operations::list(txn, filter, page)));
    });
  });

  router.add(verb::get, "/api/operations/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto id = uuid_path_param(params, "id", "operation");
      auto operation = store::operations::find(txn, id, true);
      if (!operation) throw http::ApiError(status::not_found, "operation " + id + " not found");
      return http::json_response(status::ok, render_operation(*operation));
    });
  });

  router.add(verb::get, "/api/operations/{id}/stream", http::Access::viewer, [&app](http::RequestContext& context) {
    stream_from_db(app, context,
                   [&app, request = context.request, params = context.path_params,
                    access = context.access](pqxx::connection& c) {
                     pqxx::read_transaction txn(c);
                     const auto viewer = auth::authenticate_operator(txn, with_query_token(request), access);
                     limit_operator_stream_rate(app, viewer.key_id);
                     const auto id = uuid_path_param(params, "id", "operation");
                     if (!store::operations::find(txn, id, false)) {
                       throw http::ApiError(status::not_found, "operation " + id + " not found");
                     }
                     const auto after_seq = last_event_id(request);
                     auto ticket = admit_stream(app, {streams::StreamOwner::Kind::operator_key, viewer.key_id});
                     return operation_output_stream(app, id, after_seq, render_operation, std::move(ticket));
                   });
  });

  router.add(verb::post, "/api/operations/{id}/cancel", http::Access::operator_, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params,
                    ip = context.client_ip, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "operation");
                     auto operation = store::operations::find(txn, id, false);
                     if (!operation) throw http::ApiError(status::not_found, "operation " + id + " not found");
                     auto outcome = app.lifecycle.cancel(txn, *operation, actor.actor(), ip);
                     txn.commit();
                     return finish_cancel(app, outcome);
                   });
  });

  router.add(verb::get, "/api/automation-keys/{id}/operations", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      store::operations::ListFilter filter;
      filter.automation_key_id = uuid_path_param(params, "id", "automation key");
      const auto query = query_params(request);
      if (auto it = query.find("run_id"); it != query.end()) filter.run_id = it->second;
      const auto page = page_request(query, {SortKey::micros, RowId::uuid});
      return http::json_response(status::ok, render_operations(store::operations::list(txn, filter, page)));
    });
  });

  router.add(verb::get, "/api/audit", http::Access::admin, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto params = query_params(request);
      store::audit::Filter filter;
      filter.key_id = uuid_param(params, "key_id");
      filter.server_id = uuid_param(params, "server_id");
      if (auto it = params.find("run_id"); it != params.end()) filter.run_id = it->second;
      if (auto it = params.find("action"); it != params.end()) filter.action = it->second;
      if (auto it = params.find("action_prefix"); it != params.end()) filter.action_prefix = it->second;
      if (auto it = params.find("actor"); it != params.end()) filter.actor = it->second;
      if (auto it = params.find("username"); it != params.end()) filter.username = it->second;
      filter.since = time_param(params, "since");
      filter.until = time_param(params, "until");
      const auto page =
          store::audit::page(txn, filter, page_request(params, {SortKey::micros, RowId::integer}), audit_output_bytes);
      boost::json::array entries;
      for (const auto& row : page.rows) entries.push_back(render_audit(row));
      boost::json::object body{{"entries", std::move(entries)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });
}

}  // namespace tether::api
