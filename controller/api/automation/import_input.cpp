#include "controller/api/automation/import_input.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/schedule_spec.hpp"
#include "controller/api/automation/body_fields.hpp"
#include "controller/api/automation/job_input.hpp"
#include "controller/api/automation/trigger_input.hpp"
#include "controller/http/responses.hpp"

#include <fmt/format.h>

namespace tether::api::automation {
namespace {

const boost::json::object& item_object(const boost::json::value& item, const std::string& place) {
  if (!item.is_object()) invalid(place + ": must be an object");
  return item.as_object();
}

// The item's id in the document; UUIDs are compared in their canonical form, as parse_trigger
// writes a trigger's job_id.
std::string item_id(const boost::json::object& item, const std::string& place) {
  std::string id;
  at_place(place, [&] {
    const auto text = string_field(item, "id", "id");
    if (!text || text->empty()) invalid("id: is required (the item's id in the document)");
    if (text->size() > 200) invalid("id: must be at most 200 characters");
    id = ids::parse_uuid(*text).value_or(*text);
  });
  return id;
}

const boost::json::array* items(const boost::json::object& body, std::string_view key) {
  const auto* value = present(body, key);
  if (!value) return nullptr;
  if (!value->is_array()) invalid(std::string(key) + ": must be an array");
  if (value->as_array().size() > services::max_imported_items) {
    invalid(fmt::format("{}: at most {} may be imported at once", key, services::max_imported_items));
  }
  return &value->as_array();
}

}  // namespace

void at_place(const std::string& place, const std::function<void()>& parse) {
  const auto again = [&](const std::string& message) {
    throw http::ApiError(http::bhttp::status::unprocessable_entity, place + "." + message);
  };
  try {
    parse();
  } catch (const http::ApiError& e) {
    if (e.status() != http::bhttp::status::unprocessable_entity) throw;
    again(e.what());
  } catch (const json::FieldError& e) {
    again(e.what());
  } catch (const schedule::InvalidSchedule& e) {
    again(e.what());
  }
}

services::ImportedJob parse_imported_job(const boost::json::value& value, const std::string& place) {
  const auto& item = item_object(value, place);
  services::ImportedJob job;
  job.place = place;
  job.old_id = item_id(item, place);
  at_place(place, [&] {
    job.spec = parse_job(item);
    const auto* operation = object_field(item, "operation", "operation");
    const auto* keys = operation ? present(*operation, "env_keys") : nullptr;
    if (!keys) return;
    constexpr const char* rule = "operation.env_keys: must be an array of env key names";
    if (!keys->is_array()) invalid(rule);
    for (const auto& key : keys->as_array()) {
      if (!key.is_string() || key.as_string().empty() || key.as_string().size() > 256) invalid(rule);
      job.env_keys.emplace_back(key.as_string());
    }
  });
  return job;
}

services::ImportedTrigger parse_imported_trigger(const boost::json::value& value, const std::string& place) {
  const auto& item = item_object(value, place);
  services::ImportedTrigger trigger;
  trigger.place = place;
  trigger.old_id = item_id(item, place);
  at_place(place, [&] { trigger.spec = parse_trigger(item); });
  return trigger;
}

services::ImportPlan parse_import(const boost::json::object& body) {
  if (const auto* version = present(body, "version")) {
    if (as_integer(*version) != export_document_version) {
      invalid(fmt::format("version: must be {} (the version of the documents GET /api/automation/export writes)",
                          export_document_version));
    }
  }
  services::ImportPlan plan;
  const auto* jobs = items(body, "jobs");
  const auto* triggers = items(body, "triggers");
  if (!jobs && !triggers) invalid("jobs: is required (the document GET /api/automation/export answers)");
  if (jobs) {
    for (std::size_t i = 0; i < jobs->size(); ++i) {
      plan.jobs.push_back(parse_imported_job((*jobs)[i], fmt::format("jobs[{}]", i)));
    }
  }
  if (triggers) {
    for (std::size_t i = 0; i < triggers->size(); ++i) {
      plan.triggers.push_back(parse_imported_trigger((*triggers)[i], fmt::format("triggers[{}]", i)));
    }
  }
  return plan;
}

}  // namespace tether::api::automation
