#pragma once
// Typed reads of the fields of an operator route's JSON body (jobs, triggers, templates, imports)
// whose errors are http::ApiError 422 naming the field by its full path ("retry.max_retries: ...").
// One set of rules, so that the same field is refused with the same words on every route.
#include "controller/runs/fanout.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace tether::api::automation {

inline constexpr int max_retries_limit = 100;

// 422 with `detail`.
[[noreturn]] void invalid(const std::string& detail);

// The field `key` of `obj`; nullptr when it is absent or null.
const boost::json::value* present(const boost::json::object& obj, std::string_view key);
std::optional<std::string> string_field(const boost::json::object& obj, std::string_view key, const std::string& path);
// An integer, also when written as a number with no fraction (2.0).
std::optional<std::int64_t> as_integer(const boost::json::value& value);
std::optional<std::int64_t> int_field(const boost::json::object& obj, std::string_view key, const std::string& path,
                                      std::int64_t min, std::int64_t max);
std::optional<bool> bool_field(const boost::json::object& obj, std::string_view key, const std::string& path);
const boost::json::object* object_field(const boost::json::object& obj, std::string_view key, const std::string& path);
// One of `allowed`, or `fallback` when absent.
std::string one_of(const boost::json::object& obj, std::string_view key, const std::string& path,
                   std::initializer_list<std::string_view> allowed, std::string fallback);
// A duration as schedule::parse_duration reads it, written back in its canonical form.
std::string duration_field(const boost::json::object& obj, std::string_view key, const std::string& path,
                           const std::string& fallback);

// `retry` {strategy, max_retries, base_delay}; nullopt when absent.
std::optional<runs::RetryPolicy> parse_retry(const boost::json::object& body);

struct FireLimit {
  int max = 1;
  std::string window;
};
// `fire_limit` {max, window}, both required when it is given; nullopt when absent.
std::optional<FireLimit> parse_fire_limit(const boost::json::object& body);

}  // namespace tether::api::automation
