#pragma once
// The JSON of seed 000's Automations API: an automation as its list shows it, a run's status with
// its output, and an automation as its export holds it. Times are Unix seconds, as that API has
// them; run statuses are its words (pending, running, done, failed, canceled).
#include "controller/store/automation_summary_store.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/run_output_store.hpp"
#include "controller/store/run_store.hpp"
#include "controller/store/trigger_store.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::api::seed000 {

// The most of a run's output its status shows.
inline constexpr std::int64_t max_run_output_bytes = 1024 * 1024;

// scheduled -> pending, running -> running, completed -> done, failed, canceled.
std::string run_status(std::string_view status);

// The job's schedule as seed 000 writes it: a cron line, "@every 5m", an RFC 3339 time for a
// one-time job; null without one.
boost::json::value schedule_text(const store::JobRecord& job);

// {id, name, type, icon, schedule, enabled, last_run, last_status}.
boost::json::object render_automation(const store::JobRecord& job, const std::optional<store::AutomationLabel>& label,
                                      const std::optional<store::LastRun>& last_run);

// {run_id, automation_id, status, started, finished}, and with `output` the run's output text.
boost::json::object render_run(const store::RunRecord& run, const store::RunOutput* output = nullptr);

// The run's output as one text (valid UTF-8): each operation's stdout and stderr as produced; when
// more than one server's output is shown, each line starts with "[<server name>] ". Cut output
// ends with a line saying so.
std::string output_text(const store::RunOutput& output);

// An automation of the export: the list's fields, its params, its whole job and its triggers.
boost::json::object render_exported(const store::JobRecord& job, const std::optional<store::AutomationLabel>& label,
                                    const std::vector<store::TriggerRecord>& triggers);

}  // namespace tether::api::seed000
