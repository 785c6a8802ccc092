#include "controller/api/automation/views.hpp"

#include "common/time.hpp"
#include "controller/api/handler_support.hpp"

#include <algorithm>

namespace tether::api::automation {
namespace {

// "12" -> 12, "10%" stays a string.
boost::json::value rate_value(const std::string& value) {
  if (!value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    try {
      return boost::json::value(std::stoll(value));
    } catch (const std::exception&) {
    }
  }
  return boost::json::value(value);
}

boost::json::value params_of(const std::string& params_json) {
  if (params_json.empty()) return boost::json::object{};
  boost::system::error_code ec;
  auto value = boost::json::parse(params_json, ec);
  if (ec || !value.is_object()) return boost::json::object{};
  // The stored params never hold env values; drop them should they ever be there.
  value.as_object().erase("env");
  value.as_object().erase("env_overrides");
  return value;
}

boost::json::value nullable_int(const std::optional<int>& value) {
  return value ? boost::json::value(*value) : boost::json::value(nullptr);
}

boost::json::value nullable_int64(const std::optional<std::int64_t>& value) {
  return value ? boost::json::value(*value) : boost::json::value(nullptr);
}

}  // namespace

std::string time_text(std::int64_t epoch_us) { return timeutil::format_utc_micros(epoch_us); }

boost::json::value nullable_time(const std::optional<std::int64_t>& epoch_us) {
  return epoch_us ? boost::json::value(time_text(*epoch_us)) : boost::json::value(nullptr);
}

boost::json::object render_job(const store::JobRecord& job) {
  boost::json::value schedule = nullptr;
  if (job.schedule_mode) {
    schedule = boost::json::object{{"mode", *job.schedule_mode},
                                   {"expr", nullable(job.schedule_expr)},
                                   {"interval", nullable(job.schedule_interval)},
                                   {"time", nullable_time(job.schedule_time_us)}};
  }
  boost::json::value fire_limit = nullptr;
  if (job.fire_limit_max) {
    fire_limit = boost::json::object{{"max", *job.fire_limit_max}, {"window", nullable(job.fire_limit_window)}};
  }
  const auto next_run = nullable_time(job.next_run_us);
  boost::json::object scheduler{{"job_id", job.id},
                                {"next_run_at", next_run},
                                {"last_run_at", nullable_time(job.last_run_us)},
                                {"last_scheduled_at", nullable_time(job.last_scheduled_us)},
                                {"last_fire_id", nullable(job.last_fire_id)},
                                {"misfire_count", job.misfire_count},
                                {"last_misfire_at", nullable_time(job.last_misfire_us)},
                                {"misfire_grace_seconds", job.misfire_grace_seconds},
                                {"catch_up_policy", job.catch_up_policy},
                                {"registered", job.enabled && job.schedule_mode.has_value()},
                                {"consecutive_resume_failures", 0},
                                {"updated_at", time_text(job.scheduler_updated_us.value_or(job.updated_us))}};
  return {{"id", job.id},
          {"name", job.name},
          {"enabled", job.enabled},
          {"source", job.source},
          {"schedule", std::move(schedule)},
          {"timezone", job.timezone},
          {"operation",
           boost::json::object{{"type", job.operation_type},
                               {"params", params_of(job.operation_params_json)},
                               {"env_keys", string_array(job.env_keys)}}},
          {"targets",
           boost::json::object{{"server_ids", string_array(job.target_server_ids)},
                               {"tags", string_array(job.target_tags)}}},
          {"rate",
           boost::json::object{{"max_concurrency", rate_value(job.max_concurrency)},
                               {"max_errors", job.max_errors ? rate_value(*job.max_errors) : boost::json::value(nullptr)}}},
          {"retry",
           boost::json::object{{"strategy", job.retry_strategy},
                               {"max_retries", job.max_retries},
                               {"base_delay", job.retry_base_delay}}},
          {"fire_limit", std::move(fire_limit)},
          {"overlap_policy", job.overlap_policy},
          {"misfire_grace_seconds", job.misfire_grace_seconds},
          {"catch_up_policy", job.catch_up_policy},
          {"requires_approval", job.requires_approval},
          {"approvers", string_array(job.approvers)},
          {"next_run", next_run},
          {"scheduler", std::move(scheduler)},
          {"created_by", job.created_by},
          {"created_at", time_text(job.created_us)},
          {"updated_at", time_text(job.updated_us)}};
}

boost::json::object render_trigger(const store::TriggerRecord& trigger) {
  boost::json::value fire_limit = nullptr;
  if (trigger.fire_limit_max) {
    fire_limit = boost::json::object{{"max", *trigger.fire_limit_max}, {"window", nullable(trigger.fire_limit_window)}};
  }
  boost::json::value retry = nullptr;
  if (trigger.retry_strategy) {
    retry = boost::json::object{{"strategy", *trigger.retry_strategy},
                                {"max_retries", trigger.max_retries.value_or(0)},
                                {"base_delay", trigger.retry_base_delay.value_or("30s")}};
  }
  boost::json::object filter;
  for (const auto& [key, value] : trigger.filter) filter[key] = value;
  const bool has_secret = trigger.secret_sealed.has_value() || trigger.token_hash.has_value();
  boost::json::value url = nullptr;
  if (trigger.webhook_id && trigger.provider != std::optional<std::string>("token")) {
    url = "/api/webhooks/global/" + *trigger.webhook_id;
  }
  return {{"id", trigger.id},
          {"name", trigger.name},
          {"enabled", trigger.enabled},
          {"source", trigger.source},
          {"scope", "global"},
          {"job_id", trigger.job_id},
          {"event", trigger.event},
          {"filter", std::move(filter)},
          {"fire_limit", std::move(fire_limit)},
          {"retry", std::move(retry)},
          {"provider", nullable(trigger.provider)},
          {"endpoint_slug", nullable(trigger.endpoint_slug)},
          {"webhook_id", nullable(trigger.webhook_id)},
          {"webhook_url", std::move(url)},
          {"webhook_secret_present", has_secret},
          {"webhook_secret_hash", nullable(trigger.secret_fingerprint)},
          {"commit_ref_from", nullable(trigger.commit_ref_from)},
          {"created_by", trigger.created_by},
          {"created_at", time_text(trigger.created_us)},
          {"updated_at", time_text(trigger.updated_us)}};
}

// The maintenance window the run was fired in: {"id", "name"}, or null.
boost::json::value maintenance_window_of(const store::RunRecord& run) {
  if (!run.maintenance_window_id) return nullptr;
  return boost::json::object{{"id", *run.maintenance_window_id}, {"name", run.maintenance_window_name.value_or("")}};
}

boost::json::object render_run(const store::RunRecord& run, const store::TargetCounts& counts) {
  return {{"id", run.id},
          {"job_id", nullable(run.job_id)},
          {"trigger_id", nullable(run.trigger_id)},
          {"fire_id", nullable(run.fire_id)},
          {"status", run.status},
          {"approval_id", nullable(run.approval_id)},
          {"attempt", run.attempt},
          {"scheduled_at", time_text(run.scheduled_us)},
          {"started_at", nullable_time(run.started_us)},
          {"ended_at", nullable_time(run.ended_us)},
          {"created_at", time_text(run.created_us)},
          {"error", nullable(run.error)},
          {"delivery_error", nullptr},
          {"delivery_error_at", nullptr},
          {"session_id", nullptr},
          {"task_id", nullptr},
          {"task_run_id", nullptr},
          {"operation_type", run.operation_type},
          {"created_by", run.created_by},
          {"event_id", nullable_int64(run.event_id)},
          {"chain_depth", run.chain_depth},
          {"maintenance_window", maintenance_window_of(run)},
          {"targets",
           boost::json::object{{"total", counts.total},
                               {"pending", counts.pending},
                               {"running", counts.started},
                               {"succeeded", counts.succeeded},
                               {"failed", counts.failed},
                               {"canceled", counts.canceled}}},
          {"rate",
           boost::json::object{{"max_concurrency", run.max_concurrency}, {"max_errors", nullable_int(run.max_errors)}}}};
}

boost::json::object render_run_operation(const store::RunOperation& operation) {
  return {{"id", nullable(operation.operation_id)},
          {"server_id", operation.server_id},
          {"server_name", operation.server_name},
          {"attempt", operation.attempt},
          {"status", operation.status},
          {"exit_code", nullable_int(operation.exit_code)},
          {"duration_ms", nullable_int64(operation.duration_ms)},
          {"started_at", nullable_time(operation.started_us)},
          {"completed_at", nullable_time(operation.completed_us)},
          {"error", nullable(operation.error)}};
}

boost::json::object render_run_detail(const store::RunRecord& run, const store::TargetCounts& counts,
                                      const std::vector<store::AttemptSummary>& attempts,
                                      const std::vector<store::RunOperation>& operations) {
  auto body = render_run(run, counts);
  boost::json::array attempt_list;
  for (const auto& attempt : attempts) {
    attempt_list.push_back(boost::json::object{{"attempt", attempt.attempt},
                                               {"started_at", nullable_time(attempt.started_us)},
                                               {"ended_at", nullable_time(attempt.ended_us)},
                                               {"targets", attempt.targets},
                                               {"failed", attempt.failed}});
  }
  boost::json::array operation_list;
  for (const auto& operation : operations) operation_list.push_back(render_run_operation(operation));
  body["attempts"] = std::move(attempt_list);
  body["operations"] = std::move(operation_list);
  return body;
}

boost::json::array render_runs(pqxx::transaction_base& txn, const std::vector<store::RunRecord>& runs) {
  std::vector<std::string> ids;
  for (const auto& run : runs) ids.push_back(run.id);
  const auto counts = store::runs::latest_counts_of(txn, ids);  // one statement for the page
  boost::json::array out;
  for (const auto& run : runs) {
    const auto it = counts.find(run.id);
    out.push_back(render_run(run, it == counts.end() ? store::TargetCounts{} : it->second));
  }
  return out;
}

bool valid_run_status(std::string_view status) {
  return status == "scheduled" || status == "pending_approval" || status == "running" || status == "delegated" ||
         status == "completed" ||
         status == "failed" || status == "canceled";
}

bool run_ended(std::string_view status) { return status == "completed" || status == "failed" || status == "canceled"; }

}  // namespace tether::api::automation
