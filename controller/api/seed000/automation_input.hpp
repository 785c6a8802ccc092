#pragma once
// The bodies of seed 000's Automations API (/api/automations): an automation as that API declares
// it, {name, type, params, schedule?, targets?, enabled?, icon?}, turned into the JSON body of
// POST /api/automation/jobs and read by parse_job, so that a job is validated by one set of rules
// whichever API declares it. A refusal is 422 naming the field in the client's own terms
// ("params.script: ...", "schedule: ...", "targets: ...").
//
// `type` is one of Tether's operation types (params: that type's fields, as in a job's
// operation.params) or one of seed 000's own: "script" (params.script or params.command: a shell
// command, run by exec) and "service_control" (params.service, a systemd unit name, and
// params.action: systemctl start|stop|restart|reload|enable|disable; the name is checked against
// systemd's unit-name characters, so it cannot carry shell syntax).
#include "controller/services/portability.hpp"
#include "controller/services/templates.hpp"
#include "controller/store/automation_summary_store.hpp"

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tether::api::seed000 {

struct Declaration {
  services::JobSpec job;
  store::AutomationLabel label;  // job_id left empty
  bool names_env = false;        // params carried env values (env / env_overrides)
};

Declaration parse_declaration(const boost::json::object& body);

// POST /api/automations/templates/{id}/apply: the template's job (templates.hpp), made from the
// body's `targets` (or params.targets), `parameters` (or seed 000's word, `params`), `name`,
// `schedule` (a cron line, "@every 5m", a schedule object, or null for none; default: the
// template's), `timezone`, `enabled` and `icon` (default: the template's). Labelled "script" for an
// exec template, else by its operation type.
Declaration parse_template_application(const services::templates::Template& tmpl, const boost::json::object& body);

// The icon an automation of `type` shows when it was not given one.
std::string default_icon(std::string_view type);

// The body of POST /api/automations/import: a JSON array of automations, each either as
// GET /api/automations/export shows it (with its `job` and `triggers`) or as POST /api/automations
// declares one. Refusals name the item: "[2].job.schedule.expr: ...", "[0].params.script: ...".
// Every automation gets a token trigger (a fresh token), whether or not the document had one.
services::ImportPlan parse_import(std::string_view body);

}  // namespace tether::api::seed000
