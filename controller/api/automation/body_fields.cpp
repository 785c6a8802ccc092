#include "controller/api/automation/body_fields.hpp"

#include "common/schedule_spec.hpp"
#include "controller/http/responses.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tether::api::automation {

void invalid(const std::string& detail) { throw http::ApiError(http::bhttp::status::unprocessable_entity, detail); }

const boost::json::value* present(const boost::json::object& obj, std::string_view key) {
  const auto* value = obj.if_contains(key);
  if (!value || value->is_null()) return nullptr;
  return value;
}

std::optional<std::string> string_field(const boost::json::object& obj, std::string_view key, const std::string& path) {
  const auto* value = present(obj, key);
  if (!value) return std::nullopt;
  if (!value->is_string()) invalid(path + ": must be a string");
  return std::string(value->as_string());
}

std::optional<std::int64_t> as_integer(const boost::json::value& value) {
  if (value.is_int64()) return value.as_int64();
  if (value.is_uint64()) {
    const auto v = value.as_uint64();
    if (v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(v);
  }
  if (value.is_double()) {
    const double d = value.as_double();
    if (d >= -9.0e15 && d <= 9.0e15 && static_cast<double>(static_cast<std::int64_t>(d)) == d) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> int_field(const boost::json::object& obj, std::string_view key, const std::string& path,
                                      std::int64_t min, std::int64_t max) {
  const auto* value = present(obj, key);
  if (!value) return std::nullopt;
  const auto number = as_integer(*value);
  if (!number || *number < min || *number > max) invalid(fmt::format("{}: must be an integer from {} to {}", path, min, max));
  return number;
}

std::optional<bool> bool_field(const boost::json::object& obj, std::string_view key, const std::string& path) {
  const auto* value = present(obj, key);
  if (!value) return std::nullopt;
  if (!value->is_bool()) invalid(path + ": must be true or false");
  return value->as_bool();
}

const boost::json::object* object_field(const boost::json::object& obj, std::string_view key, const std::string& path) {
  const auto* value = present(obj, key);
  if (!value) return nullptr;
  if (!value->is_object()) invalid(path + ": must be an object");
  return &value->as_object();
}

std::string one_of(const boost::json::object& obj, std::string_view key, const std::string& path,
                   std::initializer_list<std::string_view> allowed, std::string fallback) {
  auto value = string_field(obj, key, path);
  if (!value) return fallback;
  if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
    std::string list;
    for (auto item : allowed) list += (list.empty() ? "" : ", ") + std::string(item);
    invalid(path + ": must be one of " + list);
  }
  return *value;
}

std::string duration_field(const boost::json::object& obj, std::string_view key, const std::string& path,
                           const std::string& fallback) {
  auto text = string_field(obj, key, path);
  if (!text) return fallback;
  try {
    return schedule::format_duration(schedule::parse_duration(*text, path));
  } catch (const schedule::InvalidSchedule& e) {
    invalid(e.what());
  }
}

std::optional<runs::RetryPolicy> parse_retry(const boost::json::object& body) {
  const auto* object = object_field(body, "retry", "retry");
  if (!object) return std::nullopt;
  runs::RetryPolicy retry;
  retry.strategy = one_of(*object, "strategy", "retry.strategy", {"none", "fixed", "exponential"}, retry.strategy);
  if (auto n = int_field(*object, "max_retries", "retry.max_retries", 0, max_retries_limit)) {
    retry.max_retries = static_cast<int>(*n);
  }
  retry.base_delay = duration_field(*object, "base_delay", "retry.base_delay", retry.base_delay);
  return retry;
}

std::optional<FireLimit> parse_fire_limit(const boost::json::object& body) {
  const auto* limit = object_field(body, "fire_limit", "fire_limit");
  if (!limit) return std::nullopt;
  const auto max = int_field(*limit, "max", "fire_limit.max", 1, 1'000'000);
  if (!max) invalid("fire_limit.max: is required (an integer of at least 1)");
  if (!present(*limit, "window")) invalid("fire_limit.window: is required (a duration such as 1h)");
  return FireLimit{static_cast<int>(*max), duration_field(*limit, "window", "fire_limit.window", "")};
}

}  // namespace tether::api::automation
