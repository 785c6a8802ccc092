#include "controller/services/maintenance_service.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/schedule_spec.hpp"
#include "common/time.hpp"
#include "controller/maintenance/window_gate.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/sql_text.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace tether::services {
namespace {

constexpr std::size_t max_scope_items = 1000;

ServiceError invalid(const std::string& message) { return ServiceError(Refusal::invalid, message); }

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

void add_unique(std::vector<std::string>& values, const std::string& value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
}

std::int64_t parse_time_field(const std::string& text, const cctz::time_zone& zone, const char* field) {
  const auto when = maintenance::parse_time_in_zone(text, zone);
  if (!when) {
    throw invalid(fmt::format("{}: must be a date-time such as 2026-03-22T03:00:00 (read in the window's timezone) "
                              "or RFC 3339 with an offset",
                              field));
  }
  return store::epoch_micros(*when);
}

bool valid_tag(const std::string& tag) {
  return !tag.empty() && tag.size() <= 100 &&
         std::none_of(tag.begin(), tag.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

void resolve_scope(pqxx::transaction_base& txn, const MaintenanceInput& input, store::MaintenanceWindowRecord& w) {
  if (input.scope_items) {
    if (input.scope_items->size() > max_scope_items) {
      throw invalid(fmt::format("scope: at most {} items", max_scope_items));
    }
    for (std::size_t i = 0; i < input.scope_items->size(); ++i) {
      const auto& item = (*input.scope_items)[i];
      const auto field = fmt::format("scope[{}]", i);
      if (item.rfind("tag:", 0) == 0) {
        const auto tag = item.substr(4);
        if (!valid_tag(tag)) throw invalid(field + ": a tag must be 1 to 100 printable characters");
        add_unique(w.scope_tags, tag);
        continue;
      }
      std::string name = item;
      std::optional<store::maintenance::ScopeMatch::Kind> wanted;
      if (item.rfind("server:", 0) == 0) {
        name = item.substr(7);
        wanted = store::maintenance::ScopeMatch::Kind::server;
      } else if (item.rfind("job:", 0) == 0) {
        name = item.substr(4);
        wanted = store::maintenance::ScopeMatch::Kind::job;
      }
      auto match = name.empty() ? std::nullopt : store::maintenance::resolve_scope_item(txn, name);
      if (match && wanted && match->kind != *wanted) {
        // "server:<id>" of a job's id, or the other way round: look for the kind asked for only.
        match.reset();
        if (*wanted == store::maintenance::ScopeMatch::Kind::job &&
            store::maintenance::unknown_jobs(txn, {name}).empty()) {
          match = store::maintenance::ScopeMatch{*wanted, lowercase(name)};
        }
      }
      if (!match) {
        throw invalid(fmt::format("{}: \"{}\" is no server (id or name), job id or tag:<tag>", field, item));
      }
      add_unique(match->kind == store::maintenance::ScopeMatch::Kind::server ? w.scope_server_ids : w.scope_job_ids,
                 match->id);
    }
  }
  const auto check = [&](const std::vector<std::string>& ids, const char* field, const char* what, bool servers) {
    const auto unknown = servers ? store::maintenance::unknown_servers(txn, ids) : store::maintenance::unknown_jobs(txn, ids);
    if (unknown.empty()) return;
    const auto at = std::find(ids.begin(), ids.end(), unknown.front()) - ids.begin();
    throw invalid(fmt::format("scope.{}[{}]: {} {} does not exist", field, at, what, unknown.front()));
  };
  if (input.server_ids.size() + input.tags.size() + input.job_ids.size() > max_scope_items) {
    throw invalid(fmt::format("scope: at most {} items", max_scope_items));
  }
  check(input.server_ids, "server_ids", "server", true);
  check(input.job_ids, "job_ids", "job", false);
  for (const auto& id : input.server_ids) add_unique(w.scope_server_ids, lowercase(id));
  for (const auto& id : input.job_ids) add_unique(w.scope_job_ids, lowercase(id));
  for (std::size_t i = 0; i < input.tags.size(); ++i) {
    if (!valid_tag(input.tags[i])) {
      throw invalid(fmt::format("scope.tags[{}]: a tag must be 1 to 100 printable characters", i));
    }
    add_unique(w.scope_tags, input.tags[i]);
  }
}

std::string audit_detail(const store::MaintenanceWindowRecord& w) {
  const auto strings = [](const std::vector<std::string>& values) {
    boost::json::array out;
    for (const auto& v : values) out.emplace_back(v);
    return out;
  };
  const auto opt = [](const std::optional<std::int64_t>& us) -> boost::json::value {
    if (!us) return nullptr;
    return boost::json::value(timeutil::format_utc_micros(*us));
  };
  return json::serialize(boost::json::object{
      {"name", w.name},
      {"start", opt(w.start_us)},
      {"end", opt(w.end_us)},
      {"recurring", w.recurring ? boost::json::value(*w.recurring) : boost::json::value(nullptr)},
      {"duration_seconds", w.duration_seconds ? boost::json::value(*w.duration_seconds) : boost::json::value(nullptr)},
      {"timezone", w.timezone},
      {"scope", boost::json::object{{"server_ids", strings(w.scope_server_ids)},
                                    {"tags", strings(w.scope_tags)},
                                    {"job_ids", strings(w.scope_job_ids)}}},
      {"autonomy_override", w.autonomy_override},
      {"enabled", w.enabled},
      {"activated_at", opt(w.activated_us)},
      {"activated_until", opt(w.activated_until_us)},
      {"suppressed_until", opt(w.suppressed_until_us)}});
}

}  // namespace

store::MaintenanceWindowRecord Maintenance::validate(pqxx::transaction_base& txn, const MaintenanceInput& input) const {
  store::MaintenanceWindowRecord w;
  if (input.name.empty()) throw invalid("name: is required");
  if (input.name.size() > 200) throw invalid("name: must be at most 200 characters");
  w.name = input.name;
  w.timezone = input.timezone && !input.timezone->empty() ? *input.timezone : "UTC";
  const auto zone = schedule::load_zone(w.timezone);  // InvalidSchedule "timezone: ..." -> 422
  if (input.start) w.start_us = parse_time_field(*input.start, zone, "start");
  if (input.end) w.end_us = parse_time_field(*input.end, zone, "end");
  if (input.autonomy_override != "disabled" && input.autonomy_override != "approval") {
    throw invalid("autonomy_override: must be one of disabled, approval");
  }
  w.autonomy_override = input.autonomy_override;
  w.enabled = input.enabled;

  if (input.recurring && !input.recurring->empty()) {
    try {
      cron::Expression::parse(*input.recurring);
    } catch (const cron::InvalidSchedule& e) {
      throw invalid(std::string("recurring: ") + e.what());
    }
    w.recurring = *input.recurring;
    std::int64_t seconds = 0;
    if (input.duration && !input.duration->empty()) {
      if (all_digits(*input.duration)) {
        if (input.duration->size() > 9 || std::stoll(*input.duration) <= 0 ||
            std::stoll(*input.duration) > 366LL * 86400) {
          throw invalid("duration: must be between 1 second and 366d");
        }
        seconds = std::stoll(*input.duration);
      } else {
        seconds = schedule::parse_duration(*input.duration, "duration").count();
      }
    } else if (w.start_us && w.end_us) {
      if (*w.end_us <= *w.start_us) throw invalid("end: must be after start");
      seconds = (*w.end_us - *w.start_us) / 1'000'000;
      if (seconds <= 0) throw invalid("end: must be at least a second after start");
      if (seconds > 366LL * 86400) throw invalid("end: a recurring window's occurrence lasts at most 366d");
    } else {
      throw invalid("duration: is required for a recurring window (or give start and end)");
    }
    w.duration_seconds = static_cast<int>(seconds);
  } else {
    if (input.duration && !input.duration->empty()) {
      throw invalid("duration: only a recurring window has one (a one-time window runs from start to end)");
    }
    if (!w.start_us) throw invalid("start: is required (or recurring)");
    if (!w.end_us) throw invalid("end: is required for a one-time window");
    if (*w.end_us <= *w.start_us) throw invalid("end: must be after start");
  }
  resolve_scope(txn, input, w);
  return w;
}

store::MaintenanceWindowRecord Maintenance::create(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                   const MaintenanceInput& input, const std::string& client_ip) const {
  auto w = validate(txn, input);
  w.id = ids::new_uuid();
  w.created_by = actor.actor();
  w.created_us = w.updated_us = store::epoch_micros(clock_.now());
  store::maintenance::insert(txn, w);
  store::audit::record(txn, {actor.actor(), "maintenance.create", w.id, client_ip, "allowed", audit_detail(w)});
  return get(txn, w.id);
}

store::MaintenanceWindowRecord Maintenance::replace(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                    const std::string& id, const MaintenanceInput& input,
                                                    const std::string& client_ip) const {
  const auto current = store::maintenance::find(txn, id, true);
  if (!current) throw ServiceError(Refusal::not_found, "maintenance window not found");
  auto w = validate(txn, input);
  w.id = id;
  w.updated_us = store::epoch_micros(clock_.now());
  store::maintenance::update(txn, w);
  auto stored = get(txn, id);
  store::audit::record(txn, {actor.actor(), "maintenance.update", id, client_ip, "allowed", audit_detail(stored)});
  return stored;
}

void Maintenance::remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                         const std::string& client_ip) const {
  const auto current = store::maintenance::find(txn, id, true);
  if (!current || !store::maintenance::remove(txn, id)) {
    throw ServiceError(Refusal::not_found, "maintenance window not found");
  }
  store::audit::record(txn, {actor.actor(), "maintenance.delete", id, client_ip, "allowed",
                             json::serialize(boost::json::object{{"name", current->name}})});
}

store::MaintenanceWindowRecord Maintenance::activate(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                     const std::string& id, const std::string& client_ip) const {
  const auto current = store::maintenance::find(txn, id, true);
  if (!current) throw ServiceError(Refusal::not_found, "maintenance window not found");
  if (!current->enabled) {
    throw ServiceError(Refusal::conflict, "maintenance window " + id + " is disabled: enable it first");
  }
  const auto now = clock_.now();
  const auto until = maintenance::activation_end(maintenance::schedule_of(*current), now);
  store::maintenance::set_manual_state(txn, id, store::epoch_micros(now),
                                       until ? std::optional<std::int64_t>(store::epoch_micros(*until)) : std::nullopt,
                                       std::nullopt, store::epoch_micros(now));
  auto stored = get(txn, id);
  store::audit::record(txn, {actor.actor(), "maintenance.activate", id, client_ip, "allowed", audit_detail(stored)});
  return stored;
}

store::MaintenanceWindowRecord Maintenance::deactivate(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                       const std::string& id, const std::string& client_ip) const {
  const auto current = store::maintenance::find(txn, id, true);
  if (!current) throw ServiceError(Refusal::not_found, "maintenance window not found");
  const auto now = clock_.now();
  if (!maintenance::activity_of(*current, now).active) {
    throw ServiceError(Refusal::conflict, "maintenance window " + id + " is not active");
  }
  // The scheduled occurrence in progress (if any) is held off until its end; the next comes back.
  std::optional<std::int64_t> suppressed_until = current->suppressed_until_us;
  if (const auto occurrence = maintenance::occurrence_at(maintenance::schedule_of(*current), now)) {
    suppressed_until = store::epoch_micros(occurrence->end);
  }
  store::maintenance::set_manual_state(txn, id, std::nullopt, std::nullopt, suppressed_until, store::epoch_micros(now));
  auto stored = get(txn, id);
  store::audit::record(txn, {actor.actor(), "maintenance.deactivate", id, client_ip, "allowed", audit_detail(stored)});
  return stored;
}

store::MaintenanceWindowRecord Maintenance::get(pqxx::transaction_base& txn, const std::string& id) const {
  auto w = store::maintenance::find(txn, id);
  if (!w) throw ServiceError(Refusal::not_found, "maintenance window not found");
  return std::move(*w);
}

store::Page<store::MaintenanceWindowRecord> Maintenance::list(pqxx::transaction_base& txn,
                                                              const store::PageRequest& page) const {
  return store::maintenance::list(txn, page);
}

store::Page<store::MaintenanceWindowRecord> Maintenance::active(pqxx::transaction_base& txn,
                                                                const store::PageRequest& page) const {
  constexpr int batch = 500;
  const auto now = clock_.now();
  std::vector<store::MaintenanceWindowRecord> active;
  store::PageRequest read{batch, page.after};
  // limit + 1 active ones say whether another page follows.
  while (static_cast<int>(active.size()) <= page.limit) {
    auto windows = store::maintenance::list(txn, read);
    for (auto& w : windows.rows) {
      if (static_cast<int>(active.size()) > page.limit) break;
      if (maintenance::activity_of(w, now).active) active.push_back(std::move(w));
    }
    if (!windows.next) break;
    read.after = windows.next;
  }
  return store::page_of(std::move(active), page.limit, [](const store::MaintenanceWindowRecord& w) {
    return store::PageAfter{std::to_string(w.created_us), w.id};
  });
}

}  // namespace tether::services
