#include "controller/api/seed000/automation_views.hpp"

#include "common/utf8.hpp"
#include "controller/api/automation/views.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/seed000/automation_input.hpp"

#include <fmt/format.h>

#include <set>

namespace tether::api::seed000 {
namespace {

boost::json::value unix_seconds(const std::optional<std::int64_t>& epoch_us) {
  if (!epoch_us) return nullptr;
  // Whole seconds, rounded down (also before 1970).
  const auto us = *epoch_us;
  return us >= 0 ? us / 1'000'000 : -((-us + 999'999) / 1'000'000);
}

boost::json::value params_shown(const store::JobRecord& job, const std::optional<store::AutomationLabel>& label) {
  boost::system::error_code ec;
  auto value = boost::json::parse(label ? label->params_json : job.operation_params_json, ec);
  if (ec || !value.is_object()) return boost::json::object{};
  value.as_object().erase("env");
  value.as_object().erase("env_overrides");
  return value;
}

// Each line of `text` with `prefix` in front (a last line without its newline too).
void append_prefixed(std::string& out, std::string_view text, const std::string& prefix) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end + 1;
    out += prefix;
    out.append(text.substr(start, end - start));
    start = end;
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
}

}  // namespace

std::string run_status(std::string_view status) {
  if (status == "scheduled") return "pending";
  if (status == "completed") return "done";
  return std::string(status);  // running, failed, canceled
}

boost::json::value schedule_text(const store::JobRecord& job) {
  if (!job.schedule_mode) return nullptr;
  if (*job.schedule_mode == "cron" && job.schedule_expr) return boost::json::value(*job.schedule_expr);
  if (*job.schedule_mode == "interval" && job.schedule_interval) return boost::json::value("@every " + *job.schedule_interval);
  if (*job.schedule_mode == "at" && job.schedule_time_us) return boost::json::value(automation::time_text(*job.schedule_time_us));
  return nullptr;
}

boost::json::object render_automation(const store::JobRecord& job, const std::optional<store::AutomationLabel>& label,
                                      const std::optional<store::LastRun>& last_run) {
  const std::string type = label ? label->type : job.operation_type;
  boost::json::value last_at = nullptr;
  boost::json::value last_status = nullptr;
  if (last_run) {
    last_at = unix_seconds(last_run->started_us.value_or(last_run->scheduled_us));
    last_status = boost::json::value(run_status(last_run->status));
  }
  return {{"id", job.id},
          {"name", job.name},
          {"type", type},
          {"icon", label ? label->icon : default_icon(type)},
          {"schedule", schedule_text(job)},
          {"enabled", job.enabled},
          {"requires_approval", job.requires_approval},
          {"approvers", string_array(job.approvers)},
          {"last_run", std::move(last_at)},
          {"last_status", std::move(last_status)}};
}

boost::json::object render_run(const store::RunRecord& run, const store::RunOutput* output) {
  boost::json::object body{{"run_id", run.id},
                           {"automation_id", run.job_id ? boost::json::value(*run.job_id) : boost::json::value(nullptr)},
                           {"status", run_status(run.status)},
                           {"started", unix_seconds(run.started_us)},
                           {"finished", unix_seconds(run.ended_us)},
                           {"maintenance_window", automation::maintenance_window_of(run)}};
  if (run.error) body["error"] = *run.error;
  if (run.approval_id) body["approval_id"] = *run.approval_id;
  if (output) {
    body["output"] = output_text(*output);
    body["output_truncated"] = output->truncated;
  }
  return body;
}

std::string output_text(const store::RunOutput& output) {
  std::set<std::string> servers;
  for (const auto& part : output.parts) servers.insert(part.server_id);
  std::string out;
  for (const auto& part : output.parts) {
    // Whole per operation before it is checked, so that a character split between chunks stays whole.
    const auto text = utf8::sanitize(part.data);
    if (servers.size() <= 1) {
      out += text;
      continue;
    }
    const auto prefix = part.attempt > 1 ? fmt::format("[{} (attempt {})] ", part.server_name, part.attempt)
                                         : fmt::format("[{}] ", part.server_name);
    append_prefixed(out, text, prefix);
  }
  if (output.truncated) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += fmt::format("[output truncated: the first {} bytes are shown]\n", max_run_output_bytes);
  }
  return out;
}

boost::json::object render_exported(const store::JobRecord& job, const std::optional<store::AutomationLabel>& label,
                                    const std::vector<store::TriggerRecord>& triggers) {
  auto body = render_automation(job, label, std::nullopt);
  body.erase("last_run");
  body.erase("last_status");
  body["params"] = params_shown(job, label);
  body["job"] = automation::render_job(job);
  boost::json::array listed;
  for (const auto& trigger : triggers) listed.push_back(automation::render_trigger(trigger));
  body["triggers"] = std::move(listed);
  return body;
}

}  // namespace tether::api::seed000
