#pragma once
// The bodies of the jobs and runs routes: a job's declaration (POST, and PATCH once merged) and
// an ad hoc run. Every parser throws http::ApiError 422 whose detail names the field at fault
// ("rate.max_concurrency: ...", "schedule.expr: ..."). Fields it does not know are ignored, as
// seed 002's clients send their own (agent_name, prompt, scope, ...).
#include "controller/api/automation/body_fields.hpp"
#include "controller/runs/fanout.hpp"
#include "controller/services/job_service.hpp"
#include "controller/store/run_store.hpp"

#include <map>
#include <string>

#include <boost/json.hpp>

namespace tether::api::automation {

inline constexpr std::size_t max_job_name_chars = 200;
inline constexpr std::size_t max_target_server_ids = 1000;
inline constexpr std::size_t max_target_tags = 50;
inline constexpr std::size_t max_tag_chars = 64;
inline constexpr int max_misfire_grace_seconds = 86400;
inline constexpr std::size_t max_approvers = 50;

// A job as POST declares it (name, operation and targets required; the rest defaulted).
services::JobSpec parse_job(const boost::json::object& body);

// An ad hoc run: operation, targets and rate required, retry optional.
runs::AdHocRun parse_adhoc_run(const boost::json::object& body);

// RFC 7396 JSON merge patch: `patch` applied to `target`.
boost::json::value merge_patch(const boost::json::value& target, const boost::json::value& patch);

// Whether a PATCH body names the job's env values (operation.params.env, or env_overrides for a
// deploy), even as null: when it does not, the stored values stay (keep_env).
bool patch_names_env(const boost::json::object& patch);

// The `source` query parameter of the jobs and triggers lists (config or dynamic); 422 naming it.
std::optional<std::string> parse_source_param(const std::map<std::string, std::string>& params);

// The query of a runs list: status (seed 002's values), since and until (RFC 3339), limit and
// cursor (api/pagination.hpp) and, with_ids, job_id and trigger_id (UUIDs). 422 naming the parameter.
store::runs::ListFilter parse_run_filter(const std::map<std::string, std::string>& params, bool with_ids);

}  // namespace tether::api::automation
