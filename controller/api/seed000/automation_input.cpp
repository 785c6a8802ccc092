#include "controller/api/seed000/automation_input.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "controller/api/automation/body_fields.hpp"
#include "controller/api/automation/import_input.hpp"
#include "controller/api/automation/job_input.hpp"
#include "controller/api/v1/requests.hpp"
#include "controller/http/responses.hpp"
#include "controller/services/automation_service.hpp"
#include "controller/services/service_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace tether::api::seed000 {
namespace {

using automation::invalid;
using automation::present;
using automation::string_field;

constexpr std::string_view service_actions[] = {"start", "stop", "restart", "reload", "enable", "disable"};

// systemd's unit-name characters (systemd.unit(5)): ASCII letters, digits, ":", "-", "_", ".",
// "@" (and "\" for escapes, left out here), at most 256; not starting with "-" (an option) or ".".
bool valid_unit_name(std::string_view name) {
  static const std::regex rule("[A-Za-z0-9_@:][A-Za-z0-9_.@:-]{0,255}");
  return std::regex_match(name.begin(), name.end(), rule);
}

// A font-awesome icon name ("fa-database").
bool valid_icon(std::string_view icon) {
  static const std::regex rule("[a-z0-9][a-z0-9-]{0,63}");
  return std::regex_match(icon.begin(), icon.end(), rule);
}

bool is_operation_type(std::string_view type) {
  const auto& types = v1::operation_types;
  return std::find(std::begin(types), std::end(types), type) != std::end(types);
}

// Seed 000's schedule is a cron line; "@every 5m" is an interval (as Go's cron libraries write
// it); a Tether schedule object is taken as it is.
boost::json::value schedule_object(const boost::json::value& schedule) {
  if (schedule.is_object()) return schedule;
  if (!schedule.is_string()) invalid("schedule: must be a cron expression such as \"0 3 * * *\" or \"@every 5m\"");
  const std::string text(schedule.as_string());
  if (text.empty()) return nullptr;
  constexpr std::string_view every = "@every ";
  if (text.rfind(every, 0) == 0) return boost::json::object{{"mode", "interval"}, {"interval", text.substr(every.size())}};
  return boost::json::object{{"mode", "cron"}, {"expr", text}};
}

// What a job's parser says about a field, said about the field the client sent.
std::string in_client_terms(std::string message, const std::string& command_field, bool schedule_was_text) {
  const auto replace_prefix = [&](std::string_view from, std::string_view to) {
    if (message.rfind(from, 0) != 0) return false;
    message = std::string(to) + message.substr(from.size());
    return true;
  };
  if (!command_field.empty() && replace_prefix("operation.params.command", command_field)) return message;
  if (replace_prefix("operation.params.", "params.")) return message;
  if (schedule_was_text) {
    for (const auto field : {"schedule.expr", "schedule.interval", "schedule.mode"}) {
      if (replace_prefix(field, "schedule")) break;
    }
  }
  return message;
}

// The fields of a job body that seed 000's declaration carries through unchanged when given.
constexpr std::string_view job_fields[] = {"name",           "enabled",          "timezone",
                                           "rate",           "retry",            "fire_limit",
                                           "overlap_policy", "misfire_grace_seconds", "catch_up_policy",
                                           "requires_approval", "approvers"};

}  // namespace

std::string default_icon(std::string_view type) {
  if (type == "script" || type == "exec") return "fa-terminal";
  if (type == "service_control") return "fa-cogs";
  if (type == "deploy") return "fa-rocket";
  if (type == "restart") return "fa-redo";
  if (type == "reboot") return "fa-power-off";
  if (type == "registry_login") return "fa-key";
  if (type == "registry_logout") return "fa-sign-out-alt";
  return "fa-bolt";
}

Declaration parse_declaration(const boost::json::object& body) {
  Declaration out;
  const auto type = string_field(body, "type", "type");
  const auto types_rule =
      "type: must be one of script, service_control, exec, deploy, restart, reboot, registry_login, registry_logout";
  if (!type) invalid(std::string(types_rule));
  boost::json::object params;
  if (const auto* value = present(body, "params")) {
    if (!value->is_object()) invalid("params: must be an object");
    params = value->as_object();
  }

  boost::json::object job;
  for (const auto key : job_fields) {
    if (const auto* value = body.if_contains(key)) job[key] = *value;
  }
  if (const auto* targets = present(body, "targets")) {
    job["targets"] = *targets;
  } else if (const auto* in_params = present(params, "targets")) {
    job["targets"] = *in_params;
  }
  params.erase("targets");
  bool schedule_was_text = false;
  if (const auto* schedule = present(body, "schedule")) {
    schedule_was_text = schedule->is_string();
    auto object = schedule_object(*schedule);
    if (!object.is_null()) job["schedule"] = std::move(object);
  }

  // The params the client declared, kept to show them back (never the env values).
  boost::json::object shown = params;
  shown.erase("env");
  shown.erase("env_overrides");
  out.names_env = params.contains("env") || params.contains("env_overrides");

  std::string operation_type = *type;
  std::string command_field;
  boost::json::object operation_params = params;
  if (*type == "script") {
    const auto script = string_field(params, "script", "params.script");
    const auto command = string_field(params, "command", "params.command");
    if (script && command) invalid("params: give either script or command, not both");
    if (!script && !command) invalid("params.script: is required (the shell command to run; or params.command)");
    command_field = script ? "params.script" : "params.command";
    operation_params.erase("script");
    operation_params["command"] = script ? *script : *command;
    operation_type = "exec";
  } else if (*type == "service_control") {
    const auto service = string_field(params, "service", "params.service");
    if (!service) invalid("params.service: is required (a systemd unit name such as nginx or nginx.service)");
    if (!valid_unit_name(*service)) {
      invalid("params.service: must be a systemd unit name: 1 to 256 of A-Z, a-z, 0-9, :, -, _, . and @, "
              "not starting with - or .");
    }
    const auto action = string_field(params, "action", "params.action");
    if (!action || std::find(std::begin(service_actions), std::end(service_actions), *action) ==
                       std::end(service_actions)) {
      invalid("params.action: must be one of start, stop, restart, reload, enable, disable");
    }
    operation_params = boost::json::object{{"command", fmt::format("systemctl {} '{}'", *action, *service)}};
    if (const auto* timeout = params.if_contains("timeout_seconds")) operation_params["timeout_seconds"] = *timeout;
    if (const auto* env = params.if_contains("env")) operation_params["env"] = *env;
    operation_type = "exec";
  } else if (!is_operation_type(*type)) {
    invalid(std::string(types_rule));
  }
  job["operation"] = boost::json::object{{"type", operation_type}, {"params", std::move(operation_params)}};

  try {
    out.job = automation::parse_job(job);
  } catch (const http::ApiError& e) {
    if (e.status() != http::bhttp::status::unprocessable_entity) throw;
    invalid(in_client_terms(e.what(), command_field, schedule_was_text));
  }

  out.label.type = *type;
  out.label.icon = default_icon(*type);
  if (const auto icon = string_field(body, "icon", "icon")) {
    if (!valid_icon(*icon)) invalid("icon: must be a font-awesome icon name such as fa-database");
    out.label.icon = *icon;
  }
  out.label.params_json = json::serialize(shown);
  return out;
}

Declaration parse_template_application(const services::templates::Template& tmpl, const boost::json::object& body) {
  boost::json::object apply = body;
  const bool seed_words = !present(body, "parameters") && present(body, "params");
  if (seed_words) {
    const auto& params = *present(body, "params");
    if (!params.is_object()) invalid("params: must be an object of the template's parameters");
    auto parameters = params.as_object();
    if (const auto* targets = present(parameters, "targets"); targets && !present(body, "targets")) {
      apply["targets"] = *targets;
    }
    parameters.erase("targets");
    apply["parameters"] = std::move(parameters);
  }
  apply.erase("params");
  bool schedule_was_text = false;
  if (const auto* schedule = present(body, "schedule")) {
    schedule_was_text = schedule->is_string();
    apply["schedule"] = schedule_object(*schedule);
  }

  Declaration out;
  boost::json::object job;
  try {
    job = services::templates::job_body_from_template(tmpl, apply);
  } catch (const services::ServiceError& e) {
    std::string message = e.what();
    if (seed_words && message.rfind("parameters", 0) == 0) message = "params" + message.substr(10);
    if (e.refusal() == services::Refusal::invalid) invalid(message);
    throw services::ServiceError(e.refusal(), message);
  }
  try {
    out.job = automation::parse_job(job);
  } catch (const http::ApiError& e) {
    if (e.status() != http::bhttp::status::unprocessable_entity) throw;
    invalid(in_client_terms(e.what(), "", schedule_was_text));
  }
  out.label.type = tmpl.operation_type == "exec" ? "script" : tmpl.operation_type;
  out.label.icon = tmpl.icon;
  if (const auto icon = string_field(body, "icon", "icon")) {
    if (!valid_icon(*icon)) invalid("icon: must be a font-awesome icon name such as fa-database");
    out.label.icon = *icon;
  }
  out.label.template_id = tmpl.id;
  const auto* parameters = present(apply, "parameters");
  out.label.params_json = json::serialize(parameters && parameters->is_object() ? *parameters : boost::json::object{});
  return out;
}

namespace {

// One item of an import array at `place` ("[2]"): its job (with its label) and its triggers. Ids
// are regenerated, so an item's own id serves only to tie its triggers to its job; an item
// without a usable one gets a fresh id.
void add_item(services::ImportPlan& plan, const boost::json::object& item, const std::string& place) {
  services::ImportedJob job;
  std::vector<services::ImportedTrigger> triggers;
  const auto fresh_id = [&](const std::string& id) {
    return ids::parse_uuid(id).has_value() &&
           std::none_of(plan.jobs.begin(), plan.jobs.end(),
                        [&](const services::ImportedJob& other) { return other.old_id == id; });
  };
  if (const auto* declared_job = present(item, "job")) {
    // As GET /api/automations/export shows it.
    if (!declared_job->is_object()) invalid(place + ".job: must be an object");
    auto job_body = declared_job->as_object();
    if (!present(job_body, "id")) job_body["id"] = ids::new_uuid();
    job = automation::parse_imported_job(job_body, place + ".job");
    if (!fresh_id(job.old_id)) job.old_id = ids::new_uuid();
    store::AutomationLabel label;
    automation::at_place(place, [&] {
      label.type = string_field(item, "type", "type").value_or(job.spec.run.operation.type);
      if (label.type.empty() || label.type.size() > 64) invalid("type: must be 1 to 64 characters");
      label.icon = string_field(item, "icon", "icon").value_or(default_icon(label.type));
      if (!valid_icon(label.icon)) invalid("icon: must be a font-awesome icon name such as fa-database");
      if (const auto* params = automation::object_field(item, "params", "params")) {
        auto shown = *params;
        shown.erase("env");
        shown.erase("env_overrides");
        label.params_json = json::serialize(shown);
      }
    });
    job.label = std::move(label);
    if (const auto* listed = present(item, "triggers")) {
      if (!listed->is_array()) invalid(place + ".triggers: must be an array");
      for (std::size_t k = 0; k < listed->as_array().size(); ++k) {
        const auto trigger_place = fmt::format("{}.triggers[{}]", place, k);
        const auto& value = listed->as_array()[k];
        if (!value.is_object()) invalid(trigger_place + ": must be an object");
        // A trigger listed under its automation fires that automation's job.
        auto copy = value.as_object();
        copy["job_id"] = job.old_id;
        if (!present(copy, "id")) copy["id"] = ids::new_uuid();
        auto trigger = automation::parse_imported_trigger(copy, trigger_place);
        trigger.old_id = place + "/" + trigger.old_id;  // unique within the document
        triggers.push_back(std::move(trigger));
      }
    }
  } else {
    // As POST /api/automations declares one.
    automation::at_place(place, [&] {
      auto declaration = parse_declaration(item);
      job.spec = std::move(declaration.job);
      job.label = std::move(declaration.label);
    });
    job.place = place;
    job.old_id = ids::new_uuid();
  }
  if (std::none_of(triggers.begin(), triggers.end(), [](const services::ImportedTrigger& t) {
        return t.spec.event == "webhook" && t.spec.provider == std::optional<std::string>("token");
      })) {
    services::ImportedTrigger token;
    token.place = place + ".webhook_token";
    token.old_id = place + "/webhook_token";
    token.spec = services::webhook_token_trigger(job.old_id);
    triggers.push_back(std::move(token));
  }
  plan.jobs.push_back(std::move(job));
  for (auto& trigger : triggers) plan.triggers.push_back(std::move(trigger));
}

}  // namespace

services::ImportPlan parse_import(std::string_view body) {
  boost::system::error_code ec;
  const auto document = boost::json::parse(body, ec);
  if (ec) invalid("request body is not valid JSON: " + ec.message());
  if (!document.is_array()) invalid("request body must be a JSON array (as GET /api/automations/export answers)");
  const auto& items = document.as_array();
  if (items.size() > services::max_imported_items) {
    invalid(fmt::format("at most {} automations may be imported at once", services::max_imported_items));
  }
  services::ImportPlan plan;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto place = fmt::format("[{}]", i);
    if (!items[i].is_object()) invalid(place + ": must be an object");
    // The rule of every stored body: no NUL character in any string or key.
    boost::json::object item;
    automation::at_place(place, [&] { item = json::parse_storable_object(boost::json::serialize(items[i]), "item"); });
    add_item(plan, item, place);
  }
  return plan;
}

}  // namespace tether::api::seed000
