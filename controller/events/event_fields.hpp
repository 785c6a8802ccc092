#pragma once
// What a trigger sees of an event or a webhook delivery: its fields as a JSON object, read by
// field path ("repository.full_name"), matched against the trigger's filter, and handed to the run
// as TETHER_EVENT_* environment variables. Values from outside only ever reach a command this way,
// as environment values, never in its text.
//
// Filter rule: every entry must match. A field path names a value in the fields; a string, number
// or boolean matches when its text equals the filter's value, or matches it as a shell pattern
// when the value has a * or ? ("refs/heads/release-*"); an array matches when any element does. A
// missing field never matches.
#include <boost/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::events {

inline constexpr std::size_t max_env_value_bytes = 4096;
inline constexpr std::size_t max_env_fields = 50;

// The value at a dot path; nullptr when absent.
const boost::json::value* field_at(const boost::json::value& fields, std::string_view path);
// An object would be copied into a temporary value and the answer would point into it.
const boost::json::value* field_at(const boost::json::object& fields, std::string_view path) = delete;
// A scalar's text ("12", "true", "x"); nullopt for null, objects and arrays.
std::optional<std::string> scalar_text(const boost::json::value& value);

bool filter_matches(const std::map<std::string, std::string>& filter, const boost::json::value& fields);

// TETHER_EVENT_<FIELD> for each top-level scalar field (arrays of scalars joined with commas),
// for names of letters, digits and _; values of at most max_env_value_bytes without NUL; at most
// max_env_fields of them.
std::map<std::string, std::string> env_of_fields(const boost::json::object& fields);

// The fields of a GitHub delivery as a trigger sees them, beside its payload: ref, sha (the
// commit the event is about: a push's `after`), before, branch or tag (from ref), repository
// (full name), pusher, sender, github_event, deleted.
boost::json::object github_fields(std::string_view github_event, const boost::json::object& payload);

}  // namespace tether::events
