#pragma once
// The body of POST /api/automation/import: the document GET /api/automation/export answers,
// {"version": 1, "jobs": [JOB...], "triggers": [TRIGGER...]}. Each job is read by parse_job and
// each trigger by parse_trigger, the rules of POST /jobs and POST /triggers, so that what one
// refuses the other refuses too; a refusal is 422 with the item's place in front of the field
// ("jobs[2].schedule.expr: ...", "triggers[3].job_id: ...").
#include "controller/services/portability.hpp"

#include <boost/json.hpp>

#include <functional>
#include <string>

namespace tether::api::automation {

// The version of the document this controller writes and reads.
inline constexpr int export_document_version = 1;

services::ImportPlan parse_import(const boost::json::object& body);

// One job of a document at `place` ("jobs[2]"): `id` (required: what triggers name it by), the
// job as POST /jobs takes it, and the env key names it shows (operation.env_keys).
services::ImportedJob parse_imported_job(const boost::json::value& item, const std::string& place);
// One trigger at `place` ("triggers[3]"): `id` (required) and the trigger as POST /triggers takes
// it; job_id stays the document's id of its job.
services::ImportedTrigger parse_imported_trigger(const boost::json::value& item, const std::string& place);

// Runs `parse`; an invalid-input error it throws (422, or a field or schedule error) is thrown
// again as 422 with `place` in front of its message ("jobs[2]" + "." + "schedule.expr: ...").
void at_place(const std::string& place, const std::function<void()>& parse);

}  // namespace tether::api::automation
