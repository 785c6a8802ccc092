#include "controller/api/automation/job_input.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/schedule_spec.hpp"
#include "common/utf8.hpp"
#include "controller/api/automation/body_fields.hpp"
#include "controller/api/automation/views.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/v1/requests.hpp"
#include "controller/http/responses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace tether::api::automation {
namespace {

operations::OperationFields parse_operation(const boost::json::object& body) {
  const auto* operation = object_field(body, "operation", "operation");
  if (!operation) invalid("operation: is required");
  const auto type = string_field(*operation, "type", "operation.type");
  const auto& types = v1::operation_types;
  if (!type || std::find(std::begin(types), std::end(types), *type) == std::end(types)) {
    invalid("operation.type: must be one of exec, deploy, restart, reboot, registry_login, registry_logout");
  }
  static const boost::json::object no_params;
  const auto* params = object_field(*operation, "params", "operation.params");
  const std::string prefix = "operation.params.";
  try {
    return v1::parse_operation_fields(*type, params ? *params : no_params, prefix);
  } catch (const json::FieldError& e) {
    // The JSON helpers name the field without its place in the body.
    invalid(prefix + e.what());
  }
}

runs::Targets parse_targets(const boost::json::object& body, const std::string& operation_type) {
  runs::Targets targets;
  const auto* object = object_field(body, "targets", "targets");
  if (object) {
    if (const auto* ids = present(*object, "server_ids")) {
      constexpr const char* rule = "targets.server_ids: must be an array of server ids (UUIDs)";
      if (!ids->is_array()) invalid(rule);
      if (ids->as_array().size() > max_target_server_ids) {
        invalid(fmt::format("targets.server_ids: at most {} servers are allowed", max_target_server_ids));
      }
      std::set<std::string> seen;
      for (const auto& id : ids->as_array()) {
        auto parsed = id.is_string() ? ids::parse_uuid(std::string(id.as_string())) : std::nullopt;
        if (!parsed) invalid(rule);
        if (seen.insert(*parsed).second) targets.server_ids.push_back(*parsed);
      }
    }
    if (const auto* tags = present(*object, "tags")) {
      constexpr const char* rule = "targets.tags: must be an array of strings of 1 to 64 characters";
      if (!tags->is_array()) invalid(rule);
      if (tags->as_array().size() > max_target_tags) {
        invalid(fmt::format("targets.tags: at most {} tags are allowed", max_target_tags));
      }
      std::set<std::string> seen;
      for (const auto& tag : tags->as_array()) {
        if (!tag.is_string() || tag.as_string().empty() || utf8::code_points(tag.as_string()) > max_tag_chars) {
          invalid(rule);
        }
        std::string text(tag.as_string());
        if (seen.insert(text).second) targets.tags.push_back(std::move(text));
      }
    }
  }
  // A deploy runs on its application's server.
  if (operation_type != "deploy" && targets.server_ids.empty() && targets.tags.empty()) {
    invalid(object ? "targets: name at least one server in server_ids or one tag in tags"
                   : "targets: is required (server_ids and/or tags)");
  }
  return targets;
}

// "N" (N >= min) or "N%" (min_percent <= N <= 100), from a JSON integer or string; normalized
// as a string.
std::optional<std::string> rate_value(const boost::json::value& value, std::int64_t min, std::int64_t min_percent,
                                      const std::string& rule) {
  if (auto number = as_integer(value)) {
    if (*number < min || *number > 1'000'000) invalid(rule);
    return std::to_string(*number);
  }
  if (!value.is_string()) invalid(rule);
  std::string_view text = value.as_string();
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  std::int64_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) invalid(rule);
  if (percent) {
    if (n < min_percent || n > 100) invalid(rule);
    return std::to_string(n) + "%";
  }
  if (n < min || n > 1'000'000) invalid(rule);
  return std::to_string(n);
}

runs::Rate parse_rate(const boost::json::object& body) {
  runs::Rate rate;
  const auto* object = object_field(body, "rate", "rate");
  if (!object) return rate;
  if (const auto* value = present(*object, "max_concurrency")) {
    rate.max_concurrency = *rate_value(
        *value, 1, 1, "rate.max_concurrency: must be an integer of at least 1 or a percentage from \"1%\" to \"100%\"");
  }
  if (const auto* value = present(*object, "max_errors")) {
    rate.max_errors = rate_value(
        *value, 0, 0, "rate.max_errors: must be an integer of at least 0, a percentage from \"0%\" to \"100%\", or null");
  }
  return rate;
}

runs::AdHocRun parse_run_fields(const boost::json::object& body) {
  runs::AdHocRun run;
  run.operation = parse_operation(body);
  run.targets = parse_targets(body, run.operation.type);
  run.rate = parse_rate(body);
  if (auto retry = parse_retry(body)) run.retry = *retry;
  return run;
}

std::optional<schedule::Spec> parse_schedule(const boost::json::object& body) {
  const auto* object = object_field(body, "schedule", "schedule");
  if (!object) return std::nullopt;
  const auto mode = string_field(*object, "mode", "schedule.mode");
  const auto expr = string_field(*object, "expr", "schedule.expr");
  const auto interval = string_field(*object, "interval", "schedule.interval");
  const auto time = string_field(*object, "time", "schedule.time");
  const auto view = [](const std::optional<std::string>& s) -> std::optional<std::string_view> {
    if (!s) return std::nullopt;
    return std::string_view(*s);
  };
  try {
    return schedule::parse_spec(mode.value_or(""), view(expr), view(interval), view(time));
  } catch (const schedule::InvalidSchedule& e) {
    invalid(e.what());
  }
}

// approvers: usernames (as users are named), at most max_approvers, duplicates dropped.
std::vector<std::string> parse_approvers(const boost::json::object& body) {
  std::vector<std::string> out;
  const auto* value = present(body, "approvers");
  if (!value) return out;
  if (!value->is_array()) invalid("approvers: must be an array of usernames");
  const auto& items = value->as_array();
  if (items.size() > max_approvers) invalid(fmt::format("approvers: at most {} are allowed", max_approvers));
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    const bool ok = item.is_string() && !item.as_string().empty() && item.as_string().size() <= 64 &&
                    std::all_of(item.as_string().begin(), item.as_string().end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                             c == '_' || c == '-' || c == '@';
                    });
    if (!ok) invalid(fmt::format("approvers[{}]: must be a username (1 to 64 letters, digits or . _ - @)", i));
    std::string name(item.as_string());
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

}  // namespace

services::JobSpec parse_job(const boost::json::object& body) {
  services::JobSpec spec;
  const auto name = string_field(body, "name", "name");
  if (!name) invalid("name: is required");
  if (name->empty() || utf8::code_points(*name) > max_job_name_chars) {
    invalid(fmt::format("name: must be 1 to {} characters", max_job_name_chars));
  }
  spec.name = *name;
  if (auto enabled = bool_field(body, "enabled", "enabled")) spec.enabled = *enabled;
  spec.schedule = parse_schedule(body);
  if (auto zone = string_field(body, "timezone", "timezone")) {
    try {
      schedule::load_zone(*zone);
    } catch (const schedule::InvalidSchedule& e) {
      invalid(e.what());  // "timezone: unknown time zone ..."
    }
    spec.timezone = *zone;
  }
  spec.run = parse_run_fields(body);
  if (auto limit = parse_fire_limit(body)) {
    spec.fire_limit_max = limit->max;
    spec.fire_limit_window = limit->window;
  }
  spec.overlap_policy =
      one_of(body, "overlap_policy", "overlap_policy", {"skip", "allow", "queue", "cancel_previous"}, spec.overlap_policy);
  if (auto grace = int_field(body, "misfire_grace_seconds", "misfire_grace_seconds", 0, max_misfire_grace_seconds)) {
    spec.misfire_grace_seconds = static_cast<int>(*grace);
  }
  spec.catch_up_policy =
      one_of(body, "catch_up_policy", "catch_up_policy", {"skip", "run_once", "run_all"}, spec.catch_up_policy);
  if (auto needed = bool_field(body, "requires_approval", "requires_approval")) spec.requires_approval = *needed;
  spec.approvers = parse_approvers(body);
  return spec;
}

runs::AdHocRun parse_adhoc_run(const boost::json::object& body) { return parse_run_fields(body); }

boost::json::value merge_patch(const boost::json::value& target, const boost::json::value& patch) {
  if (!patch.is_object()) return patch;
  boost::json::object result = target.is_object() ? target.as_object() : boost::json::object{};
  for (const auto& item : patch.as_object()) {
    if (item.value().is_null()) {
      result.erase(item.key());
      continue;
    }
    const auto* current = result.if_contains(item.key());
    result[item.key()] = merge_patch(current ? *current : boost::json::value(nullptr), item.value());
  }
  return result;
}

bool patch_names_env(const boost::json::object& patch) {
  const auto* operation = patch.if_contains("operation");
  if (!operation || !operation->is_object()) return false;
  const auto* params = operation->as_object().if_contains("params");
  if (!params || !params->is_object()) return false;
  return params->as_object().contains("env") || params->as_object().contains("env_overrides");
}

std::optional<std::string> parse_source_param(const std::map<std::string, std::string>& params) {
  auto it = params.find("source");
  if (it == params.end()) return std::nullopt;
  if (it->second != "config" && it->second != "dynamic") invalid("source: must be one of config, dynamic");
  return it->second;
}

store::runs::ListFilter parse_run_filter(const std::map<std::string, std::string>& params, bool with_ids) {
  store::runs::ListFilter filter;
  if (auto it = params.find("status"); it != params.end()) {
    if (!valid_run_status(it->second)) {
      invalid("status: must be one of scheduled, pending_approval, running, delegated, completed, failed, canceled");
    }
    filter.status = it->second;
  }
  filter.since_us = time_query_param_us(params, "since");
  filter.until_us = time_query_param_us(params, "until");
  filter.page = page_request(params);
  if (with_ids) {
    filter.job_id = uuid_query_param(params, "job_id");
    filter.trigger_id = uuid_query_param(params, "trigger_id");
  }
  return filter;
}

}  // namespace tether::api::automation
