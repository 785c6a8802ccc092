#include "controller/api/automation/trigger_input.hpp"

#include "common/ids.hpp"
#include "common/utf8.hpp"
#include "controller/api/automation/body_fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace tether::api::automation {
namespace {

// A filter key is a field path into the event ("exit_code", "repository.full_name").
bool valid_field_path(std::string_view path) {
  static const std::regex rule("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");
  return path.size() <= 128 && std::regex_match(path.begin(), path.end(), rule);
}

bool valid_slug(std::string_view slug) {
  static const std::regex rule("[a-z0-9][a-z0-9_-]{0,63}");
  return std::regex_match(slug.begin(), slug.end(), rule);
}

std::map<std::string, std::string> parse_filter(const boost::json::object& body) {
  std::map<std::string, std::string> filter;
  const auto* object = object_field(body, "filter", "filter");
  if (!object) return filter;
  if (object->size() > max_filter_entries) invalid(fmt::format("filter: at most {} entries are allowed", max_filter_entries));
  for (const auto& [key, value] : *object) {
    const std::string path = "filter." + std::string(key);
    if (!valid_field_path(key)) invalid(path + ": a filter key is a field path such as repository.full_name");
    std::string text;
    if (value.is_string()) text = value.as_string();
    else if (auto number = as_integer(value)) text = std::to_string(*number);
    else if (value.is_bool()) text = value.as_bool() ? "true" : "false";
    else invalid(path + ": must be a string");
    if (utf8::code_points(text) > max_filter_value_chars) {
      invalid(fmt::format("{}: must be at most {} characters", path, max_filter_value_chars));
    }
    filter.emplace(std::string(key), std::move(text));
  }
  return filter;
}

}  // namespace

services::TriggerSpec parse_trigger(const boost::json::object& body) {
  services::TriggerSpec spec;
  const auto name = string_field(body, "name", "name");
  if (!name) invalid("name: is required");
  if (name->empty() || utf8::code_points(*name) > 200) invalid("name: must be 1 to 200 characters");
  spec.name = *name;
  if (auto enabled = bool_field(body, "enabled", "enabled")) spec.enabled = *enabled;
  spec.source = one_of(body, "source", "source", {"config", "dynamic"}, spec.source);

  const auto job_id = string_field(body, "job_id", "job_id");
  if (!job_id) invalid("job_id: is required (the job this trigger fires)");
  const auto parsed = ids::parse_uuid(*job_id);
  if (!parsed) invalid("job_id: must be a job id (a UUID)");
  spec.job_id = *parsed;

  const auto event = string_field(body, "event", "event");
  const auto& types = services::controller_event_types();
  if (!event || (*event != "webhook" && std::find(types.begin(), types.end(), *event) == types.end())) {
    std::string list = "webhook";
    for (const auto& type : types) list += ", " + type;
    invalid("event: must be one of " + list);
  }
  spec.event = *event;
  spec.filter = parse_filter(body);
  if (auto limit = parse_fire_limit(body)) {
    spec.fire_limit_max = limit->max;
    spec.fire_limit_window = limit->window;
  }
  spec.retry = parse_retry(body);

  if (spec.event == "webhook") {
    spec.provider = one_of(body, "provider", "provider", {"signed", "github", "token"}, "signed");
    if (*spec.provider != "token") {
      const auto slug = string_field(body, "endpoint_slug", "endpoint_slug");
      if (!slug) invalid("endpoint_slug: is required for a webhook trigger (the {endpoint} of its URL)");
      if (!valid_slug(*slug)) {
        invalid("endpoint_slug: must be 1 to 64 of a-z, 0-9, - and _, starting with a letter or digit");
      }
      spec.endpoint_slug = *slug;
    }
  } else if (present(body, "provider")) {
    invalid("provider: only a webhook trigger (event \"webhook\") has a provider");
  }
  if (auto from = string_field(body, "commit_ref_from", "commit_ref_from")) {
    if (!valid_field_path(*from)) invalid("commit_ref_from: must be an event field path such as after");
    spec.commit_ref_from = *from;
  }
  return spec;
}

}  // namespace tether::api::automation
