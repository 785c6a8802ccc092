#include "controller/services/job_service.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/time.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/server_store.hpp"
#include "controller/store/sql_text.hpp"
#include "controller/store/user_store.hpp"

#include <boost/json.hpp>

namespace tether::services {

namespace {

std::string audit_detail(const store::JobRecord& job) {
  boost::json::array env_keys;
  for (const auto& key : job.env_keys) env_keys.emplace_back(key);
  return json::serialize(boost::json::object{{"name", job.name},
                                             {"operation_type", job.operation_type},
                                             {"schedule_mode", job.schedule_mode ? boost::json::value(*job.schedule_mode)
                                                                                 : boost::json::value(nullptr)},
                                             {"env_keys", std::move(env_keys)},
                                             {"requires_approval", job.requires_approval}});
}

}  // namespace

std::optional<schedule::Spec> schedule_of(const store::JobRecord& job) {
  if (!job.schedule_mode) return std::nullopt;
  if (*job.schedule_mode == "at") {
    schedule::Spec spec;
    spec.mode = schedule::Spec::Mode::at;
    if (job.schedule_time_us) spec.at = store::from_epoch_micros(*job.schedule_time_us);
    return spec;
  }
  std::optional<std::string> time;
  const auto view = [](const std::optional<std::string>& s) {
    return s ? std::optional<std::string_view>(*s) : std::nullopt;
  };
  return schedule::parse_spec(*job.schedule_mode, view(job.schedule_expr), view(job.schedule_interval), view(time));
}

std::optional<Clock::time_point> next_due_of(const store::JobRecord& job, Clock::time_point after) {
  const auto spec = schedule_of(job);
  if (!spec) return std::nullopt;
  const auto zone = schedule::load_zone(job.timezone);
  const auto anchor = job.schedule_anchor_us ? store::from_epoch_micros(*job.schedule_anchor_us) : after;
  return schedule::next_due(*spec, zone, anchor, after);
}

void Jobs::fill(store::JobRecord& job, const JobSpec& spec, bool keep_env) const {
  const auto& run = spec.run;
  job.name = spec.name;
  job.enabled = spec.enabled;
  job.schedule_mode.reset();
  job.schedule_expr.reset();
  job.schedule_interval.reset();
  job.schedule_time_us.reset();
  if (spec.schedule) {
    job.schedule_mode = std::string(schedule::mode_name(spec.schedule->mode));
    switch (spec.schedule->mode) {
      case schedule::Spec::Mode::cron: job.schedule_expr = spec.schedule->expr; break;
      case schedule::Spec::Mode::interval:
        job.schedule_interval = schedule::format_duration(spec.schedule->interval);
        break;
      case schedule::Spec::Mode::at: job.schedule_time_us = store::epoch_micros(*spec.schedule->at); break;
    }
  }
  job.timezone = spec.timezone;
  job.operation_type = run.operation.type;
  job.operation_params_json = operations::params_json(run.operation);
  if (!keep_env) {
    job.env_keys.clear();
    for (const auto& [name, value] : run.operation.env) job.env_keys.push_back(name);
    job.env_sealed.reset();
    if (!run.operation.env.empty()) job.env_sealed = secrets_.seal_env(run.operation.env);
  }
  job.target_server_ids = run.targets.server_ids;
  job.target_tags = run.targets.tags;
  job.max_concurrency = run.rate.max_concurrency;
  job.max_errors = run.rate.max_errors;
  job.retry_strategy = run.retry.strategy;
  job.max_retries = run.retry.max_retries;
  job.retry_base_delay = run.retry.base_delay;
  job.fire_limit_max = spec.fire_limit_max;
  job.fire_limit_window = spec.fire_limit_window;
  job.overlap_policy = spec.overlap_policy;
  job.misfire_grace_seconds = spec.misfire_grace_seconds;
  job.catch_up_policy = spec.catch_up_policy;
  job.requires_approval = spec.requires_approval;
  job.approvers = spec.approvers;
}

namespace {
void check_targets(pqxx::transaction_base& txn, const runs::Targets& targets) {
  for (const auto& id : targets.server_ids) {
    const auto server = store::servers::find(txn, id);
    if (!server || server->status == "decommissioned") {
      throw ServiceError(Refusal::invalid, "targets.server_ids: server " + id + " does not exist");
    }
  }
}

// Approvers are users that exist now (a user removed later simply cannot decide).
void check_approvers(pqxx::transaction_base& txn, const std::vector<std::string>& approvers) {
  for (std::size_t i = 0; i < approvers.size(); ++i) {
    if (!store::users::find_user(txn, approvers[i])) {
      throw ServiceError(Refusal::invalid, "approvers[" + std::to_string(i) + "]: user '" + approvers[i] +
                                               "' does not exist");
    }
  }
}

// A new or changed schedule counts from now: the first due time after it.
void reschedule(store::JobRecord& job, Clock::time_point now) {
  job.schedule_anchor_us = store::epoch_micros(now);
  const auto next = job.enabled ? next_due_of(job, now) : std::nullopt;
  job.next_run_us = next ? std::optional<std::int64_t>(store::epoch_micros(*next)) : std::nullopt;
}
}  // namespace

store::JobRecord Jobs::create(pqxx::transaction_base& txn, const auth::Operator& actor, const JobSpec& spec,
                              const std::string& client_ip) const {
  check_targets(txn, spec.run.targets);
  check_approvers(txn, spec.approvers);
  const auto now = clock_.now();
  store::JobRecord job;
  job.id = ids::new_uuid();
  job.created_by = actor.actor();
  job.created_us = job.updated_us = store::epoch_micros(now);
  fill(job, spec, false);
  reschedule(job, now);
  store::jobs::insert(txn, job);
  store::audit::record(txn, {actor.actor(), "jobs.create", job.id, client_ip, "allowed", audit_detail(job)});
  return *store::jobs::find(txn, job.id);
}

store::JobRecord Jobs::update(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                              const JobSpec& spec, bool keep_env, const std::string& client_ip) const {
  auto job = store::jobs::find(txn, id, true);
  if (!job) throw ServiceError(Refusal::not_found, "job not found");
  check_targets(txn, spec.run.targets);
  check_approvers(txn, spec.approvers);
  const auto before = *job;
  const auto now = clock_.now();
  fill(*job, spec, keep_env);
  job->updated_us = store::epoch_micros(now);
  const bool schedule_changed = before.schedule_mode != job->schedule_mode ||
                                before.schedule_expr != job->schedule_expr ||
                                before.schedule_interval != job->schedule_interval ||
                                before.schedule_time_us != job->schedule_time_us || before.timezone != job->timezone;
  if (schedule_changed || before.enabled != job->enabled) {
    // Re-enabling or changing the schedule counts from now; an interval keeps its grid when only
    // re-enabled, so that its firings stay on the same second.
    if (!schedule_changed && job->schedule_anchor_us && job->enabled) {
      const auto next = next_due_of(*job, now);
      job->next_run_us = next ? std::optional<std::int64_t>(store::epoch_micros(*next)) : std::nullopt;
    } else {
      reschedule(*job, now);
    }
    if (!job->enabled) job->next_run_us.reset();
  }
  store::jobs::update(txn, *job);
  store::audit::record(txn, {actor.actor(), "jobs.update", id, client_ip, "allowed", audit_detail(*job)});
  return *store::jobs::find(txn, id);
}

void Jobs::remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                  const std::string& client_ip) const {
  if (!store::jobs::remove(txn, id)) throw ServiceError(Refusal::not_found, "job not found");
  store::audit::record(txn, {actor.actor(), "jobs.delete", id, client_ip, "allowed", "{}"});
}

store::JobRecord Jobs::get(pqxx::transaction_base& txn, const std::string& id) const {
  auto job = store::jobs::find(txn, id);
  if (!job) throw ServiceError(Refusal::not_found, "job not found");
  return *job;
}

store::Page<store::JobRecord> Jobs::list(pqxx::transaction_base& txn, const std::optional<std::string>& source,
                                         const store::PageRequest& page) const {
  return store::jobs::list(txn, source, page);
}

}  // namespace tether::services
