#include "controller/events/event_fields.hpp"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <cctype>

namespace tether::events {
namespace {

bool text_matches(const std::string& pattern, const std::string& text) {
  if (pattern.find_first_of("*?[") == std::string::npos) return pattern == text;
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool value_matches(const std::string& pattern, const boost::json::value& value) {
  if (value.is_array()) {
    const auto& items = value.as_array();
    return std::any_of(items.begin(), items.end(), [&](const auto& item) { return value_matches(pattern, item); });
  }
  const auto text = scalar_text(value);
  return text && text_matches(pattern, *text);
}

bool valid_env_suffix(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

std::string upper(std::string_view name) {
  std::string out(name);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> env_text(const boost::json::value& value) {
  std::optional<std::string> text;
  if (value.is_array()) {
    std::string joined;
    for (const auto& item : value.as_array()) {
      auto part = scalar_text(item);
      if (!part) return std::nullopt;
      joined += (joined.empty() ? "" : ",") + *part;
    }
    text = std::move(joined);
  } else {
    text = scalar_text(value);
  }
  if (!text || text->size() > max_env_value_bytes || text->find('\0') != std::string::npos) return std::nullopt;
  return text;
}

std::string text_at(const boost::json::object& payload, std::string_view path) {
  // Walked from the object itself: field_at(payload, …) would point into a temporary copy of it.
  const auto dot = path.find('.');
  const auto* top = payload.if_contains(path.substr(0, dot));
  const auto* value = top && dot != std::string_view::npos ? field_at(*top, path.substr(dot + 1)) : top;
  if (!value) return {};
  return scalar_text(*value).value_or("");
}

}  // namespace

const boost::json::value* field_at(const boost::json::value& fields, std::string_view path) {
  const boost::json::value* at = &fields;
  while (!path.empty()) {
    const auto dot = path.find('.');
    const auto key = path.substr(0, dot);
    if (!at->is_object()) return nullptr;
    at = at->as_object().if_contains(key);
    if (!at) return nullptr;
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return at;
}

std::optional<std::string> scalar_text(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.as_string());
  if (value.is_bool()) return value.as_bool() ? "true" : "false";
  if (value.is_int64()) return std::to_string(value.as_int64());
  if (value.is_uint64()) return std::to_string(value.as_uint64());
  // The shortest text that reads back as the same number ("1.5", not serialize's "1.5E0").
  if (value.is_double()) return fmt::format("{}", value.as_double());
  return std::nullopt;
}

bool filter_matches(const std::map<std::string, std::string>& filter, const boost::json::value& fields) {
  for (const auto& [path, pattern] : filter) {
    const auto* value = field_at(fields, path);
    if (!value || !value_matches(pattern, *value)) return false;
  }
  return true;
}

std::map<std::string, std::string> env_of_fields(const boost::json::object& fields) {
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : fields) {
    if (env.size() >= max_env_fields) break;
    if (!valid_env_suffix(name)) continue;
    if (auto text = env_text(value)) env.emplace("TETHER_EVENT_" + upper(name), std::move(*text));
  }
  return env;
}

boost::json::object github_fields(std::string_view github_event, const boost::json::object& payload) {
  boost::json::object fields;
  fields["github_event"] = github_event;
  const auto ref = text_at(payload, "ref");
  if (!ref.empty()) fields["ref"] = ref;
  constexpr std::string_view heads = "refs/heads/", tags = "refs/tags/";
  if (ref.rfind(heads, 0) == 0) fields["branch"] = ref.substr(heads.size());
  if (ref.rfind(tags, 0) == 0) fields["tag"] = ref.substr(tags.size());
  auto sha = text_at(payload, "after");
  if (sha.empty()) sha = text_at(payload, "head_commit.id");
  if (sha.empty()) sha = text_at(payload, "pull_request.head.sha");
  if (!sha.empty()) fields["sha"] = sha;
  for (const auto& [name, path] : {std::pair{"before", "before"}, std::pair{"repository", "repository.full_name"},
                                   std::pair{"pusher", "pusher.name"}, std::pair{"sender", "sender.login"},
                                   std::pair{"action", "action"}}) {
    auto text = text_at(payload, path);
    if (!text.empty()) fields[name] = std::move(text);
  }
  if (const auto* deleted = payload.if_contains("deleted"); deleted && deleted->is_bool()) {
    fields["deleted"] = deleted->as_bool();
  }
  return fields;
}

}  // namespace tether::events
