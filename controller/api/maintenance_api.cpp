// Maintenance windows (issue 11 §4) under both seeds' paths, over the same rows: seed 000's
// /api/maintenance (list, create, activate, deactivate, delete) and seed 004's
// /api/maintenance-windows (list, active, create, replace, delete). Viewers read; admins write.
// Both answer a window in one shape (below); error bodies are {"error", "detail"}.
#include "common/json_fields.hpp"
#include "common/time.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/maintenance/window_gate.hpp"
#include "controller/services/maintenance_service.hpp"
#include "controller/store/sql_text.hpp"

#include <fmt/format.h>

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;


std::string window_id_param(const std::map<std::string, std::string>& params) {
  return uuid_path_param(params, "id", "maintenance window");  // "maintenance window not found"
}

boost::json::value time_or_null(const std::optional<std::int64_t>& epoch_us) {
  if (!epoch_us) return nullptr;
  return boost::json::value(timeutil::format_utc_micros(*epoch_us));
}

boost::json::value time_or_null(const std::optional<maintenance::TimePoint>& when) {
  if (!when) return nullptr;
  return boost::json::value(timeutil::format_utc_micros(store::epoch_micros(*when)));
}

// WINDOW: its declaration; `scope` as seed 000 writes it (server ids, job ids, "tag:<tag>") and
// `scope_ids` as Tether's object; whether it is active now, until when (null: until deactivated),
// and when its next occurrence starts.
boost::json::object render_window(const store::MaintenanceWindowRecord& w, Clock::time_point now) {
  boost::json::array items;
  for (const auto& id : w.scope_server_ids) items.emplace_back(id);
  for (const auto& id : w.scope_job_ids) items.emplace_back(id);
  for (const auto& tag : w.scope_tags) items.emplace_back("tag:" + tag);
  const auto activity = maintenance::activity_of(w, now);
  std::optional<std::int64_t> duration = w.duration_seconds;
  if (!duration && w.start_us && w.end_us) duration = (*w.end_us - *w.start_us) / 1'000'000;
  return {{"id", w.id},
          {"name", w.name},
          {"start", time_or_null(w.start_us)},
          {"end", time_or_null(w.end_us)},
          {"recurring", nullable(w.recurring)},
          {"duration_seconds", duration ? boost::json::value(*duration) : boost::json::value(nullptr)},
          {"timezone", w.timezone},
          {"scope", std::move(items)},
          {"scope_ids", boost::json::object{{"server_ids", string_array(w.scope_server_ids)},
                                            {"tags", string_array(w.scope_tags)},
                                            {"job_ids", string_array(w.scope_job_ids)}}},
          {"scope_all", w.scope_server_ids.empty() && w.scope_tags.empty() && w.scope_job_ids.empty()},
          {"autonomy_override", w.autonomy_override},
          {"enabled", w.enabled},
          {"active", activity.active},
          {"active_until", activity.active ? time_or_null(activity.until) : boost::json::value(nullptr)},
          {"activated", activity.by_hand},
          {"next_start", time_or_null(activity.next_start)},
          {"created_by", w.created_by},
          {"created_at", timeutil::format_utc_micros(w.created_us)},
          {"updated_at", timeutil::format_utc_micros(w.updated_us)}};
}

boost::json::array render_windows(const std::vector<store::MaintenanceWindowRecord>& windows, Clock::time_point now) {
  boost::json::array out;
  for (const auto& w : windows) out.push_back(render_window(w, now));
  return out;
}

std::optional<std::string> nullable_string(const boost::json::object& body, std::string_view key) {
  const auto* value = body.if_contains(key);
  if (!value || value->is_null()) return std::nullopt;
  if (!value->is_string()) throw json::FieldError(std::string(key) + ": must be a string");
  return std::string(value->as_string());
}

std::vector<std::string> string_list(const boost::json::value& value, const std::string& field) {
  if (!value.is_array()) throw json::FieldError(field + ": must be an array of strings");
  std::vector<std::string> out;
  const auto& array = value.as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) throw json::FieldError(fmt::format("{}[{}]: must be a string", field, i));
    out.emplace_back(array[i].as_string());
  }
  return out;
}

// The body of POST (both seeds) and PUT: JSON types only; their meaning is the service's to check.
services::MaintenanceInput parse_window(const boost::json::object& body) {
  services::MaintenanceInput input;
  input.name = json::required_string(body, "name");
  input.start = nullable_string(body, "start");
  input.end = nullable_string(body, "end");
  input.recurring = nullable_string(body, "recurring");
  input.timezone = nullable_string(body, "timezone");
  for (const char* key : {"duration", "duration_seconds"}) {
    const auto* value = body.if_contains(key);
    if (!value || value->is_null()) continue;
    if (value->is_int64() || value->is_uint64()) {
      const auto seconds = value->is_int64() ? value->as_int64() : static_cast<std::int64_t>(value->as_uint64());
      input.duration = seconds > 0 ? std::to_string(seconds) : "0s";
    } else if (value->is_string() && std::string_view(key) == "duration") {
      input.duration = std::string(value->as_string());
    } else {
      throw json::FieldError(std::string(key) + ": must be a number of seconds" +
                             (std::string_view(key) == "duration" ? " or a duration such as 1h" : ""));
    }
    break;
  }
  if (const auto* scope = body.if_contains("scope"); scope && !scope->is_null()) {
    if (scope->is_array()) {
      input.scope_items = string_list(*scope, "scope");
    } else if (scope->is_object()) {
      const auto& object = scope->as_object();
      for (const auto& [key, value] : object) {
        if (key != "server_ids" && key != "tags" && key != "job_ids") {
          throw json::FieldError("scope." + std::string(key) + ": unknown field (server_ids, tags, job_ids)");
        }
        if (value.is_null()) continue;
        auto list = string_list(value, "scope." + std::string(key));
        if (key == "server_ids") input.server_ids = std::move(list);
        else if (key == "tags") input.tags = std::move(list);
        else input.job_ids = std::move(list);
      }
    } else {
      throw json::FieldError(
          "scope: must be an array (server ids or names, job ids, \"tag:<tag>\") or {\"server_ids\",\"tags\",\"job_ids\"}");
    }
  }
  if (auto override = nullable_string(body, "autonomy_override")) input.autonomy_override = *override;
  if (auto enabled = json::optional_bool(body, "enabled")) input.enabled = *enabled;
  return input;
}

services::Maintenance service(const app::AppContext& app) { return services::Maintenance(app.fanout.clock()); }

// One page of windows read in its own transaction: GET lists. Both seeds answer a bare array: the
// next page's cursor is in X-Next-Cursor and Link.
using ListWork = std::function<store::Page<store::MaintenanceWindowRecord>(
    pqxx::transaction_base&, const services::Maintenance&, const store::PageRequest&)>;
void add_list(http::Router& router, app::AppContext& app, const char* path, ListWork work) {
  router.add(verb::get, path, http::Access::viewer, [&app, work](http::RequestContext& context) {
    auto wanted = Deferred<store::PageRequest>::from([&] { return page_request(query_params(context.request)); });
    answer_from_db(app, context, [&app, work, wanted, request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto maintenance = service(app);
      const auto page = work(txn, maintenance, wanted.get());
      auto response = http::json_response(status::ok, render_windows(page.rows, maintenance.now()));
      add_next_cursor_headers(response, request, page.next);
      return response;
    });
  });
}

void add_create(http::Router& router, app::AppContext& app, const char* path) {
  router.add(verb::post, path, http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<services::MaintenanceInput>::from([&] { return parse_window(parse_json_body(context.request)); });
    answer_from_db(app, context, [&app, input, request = context.request, ip = context.client_ip,
                                  access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      const auto maintenance = service(app);
      const auto window = maintenance.create(txn, actor, input.get(), ip);
      txn.commit();
      return http::json_response(status::created, render_window(window, maintenance.now()));
    });
  });
}

// A change of one window by id; `answer` renders what the change returned.
using ChangeWork = std::function<boost::json::value(pqxx::transaction_base&, const services::Maintenance&,
                                                    const auth::Operator&, const std::string& id,
                                                    const std::string& ip)>;
void add_change(http::Router& router, app::AppContext& app, verb method, const char* path, ChangeWork work) {
  router.add(method, path, http::Access::admin, [&app, work](http::RequestContext& context) {
    answer_from_db(app, context, [&app, work, request = context.request, params = context.path_params,
                                  ip = context.client_ip, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      const auto id = window_id_param(params);
      auto body = work(txn, service(app), actor, id, ip);
      txn.commit();
      return http::json_response(status::ok, body);
    });
  });
}

}  // namespace

void add_maintenance_routes(http::Router& router, app::AppContext& app) {
  // Seed 000: /api/maintenance.
  add_list(router, app, "/api/maintenance",
           [](pqxx::transaction_base& txn, const services::Maintenance& m, const store::PageRequest& page) { return m.list(txn, page); });
  add_create(router, app, "/api/maintenance");
  add_change(router, app, verb::post, "/api/maintenance/{id}/activate",
             [](pqxx::transaction_base& txn, const services::Maintenance& m, const auth::Operator& actor,
                const std::string& id, const std::string& ip) -> boost::json::value {
               const auto window = m.activate(txn, actor, id, ip);
               return render_window(window, m.now());  // now after the change: it is in force
             });
  add_change(router, app, verb::post, "/api/maintenance/{id}/deactivate",
             [](pqxx::transaction_base& txn, const services::Maintenance& m, const auth::Operator& actor,
                const std::string& id, const std::string& ip) -> boost::json::value {
               const auto window = m.deactivate(txn, actor, id, ip);
               return render_window(window, m.now());  // now after the change: it is in force
             });
  add_change(router, app, verb::delete_, "/api/maintenance/{id}",
             [](pqxx::transaction_base& txn, const services::Maintenance& m, const auth::Operator& actor,
                const std::string& id, const std::string& ip) -> boost::json::value {
               m.remove(txn, actor, id, ip);
               return boost::json::object{{"status", "deleted"}};
             });

  // Seed 004: /api/maintenance-windows.
  add_list(router, app, "/api/maintenance-windows",
           [](pqxx::transaction_base& txn, const services::Maintenance& m, const store::PageRequest& page) { return m.list(txn, page); });
  add_list(router, app, "/api/maintenance-windows/active",
           [](pqxx::transaction_base& txn, const services::Maintenance& m, const store::PageRequest& page) { return m.active(txn, page); });
  add_create(router, app, "/api/maintenance-windows");
  router.add(verb::put, "/api/maintenance-windows/{id}", http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<services::MaintenanceInput>::from([&] { return parse_window(parse_json_body(context.request)); });
    answer_from_db(app, context, [&app, input, request = context.request, params = context.path_params,
                                  ip = context.client_ip, access = context.access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto actor = auth::authenticate_operator(txn, request, access);
      const auto id = window_id_param(params);
      const auto maintenance = service(app);
      const auto window = maintenance.replace(txn, actor, id, input.get(), ip);
      txn.commit();
      return http::json_response(status::ok, render_window(window, maintenance.now()));
    });
  });
  add_change(router, app, verb::delete_, "/api/maintenance-windows/{id}",
             [](pqxx::transaction_base& txn, const services::Maintenance& m, const auth::Operator& actor,
                const std::string& id, const std::string& ip) -> boost::json::value {
               m.remove(txn, actor, id, ip);
               return boost::json::object{{"status", "ok"}};
             });
}

}  // namespace tether::api
