#include "controller/runs/fanout.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/schedule_spec.hpp"
#include "controller/maintenance/window_gate.hpp"
#include "controller/services/registry_service.hpp"
#include "controller/services/secret_box.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/application_store.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/operation_store.hpp"
#include "controller/store/server_store.hpp"
#include "controller/store/sql_text.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tether::runs {

using services::Refusal;
using services::ServiceError;

namespace {

bool is_percent(const std::string& value) { return !value.empty() && value.back() == '%'; }
int number_of(const std::string& value) { return std::stoi(is_percent(value) ? value.substr(0, value.size() - 1) : value); }

// Runs asked for by a person or a key (not the scheduler's firings) are audited.
void audit(pqxx::transaction_base& txn, const std::string& actor, const std::string& action,
           const store::RunRecord& run, const std::string& client_ip = {}) {
  boost::json::array env_keys;
  for (const auto& key : run.env_keys) env_keys.emplace_back(key);
  boost::json::object detail{{"operation_type", run.operation_type},
                             {"job_id", run.job_id ? boost::json::value(*run.job_id) : boost::json::value(nullptr)},
                             {"env_keys", std::move(env_keys)}};
  if (run.maintenance_window_id) {
    detail["maintenance_window"] = {{"id", *run.maintenance_window_id},
                                    {"name", run.maintenance_window_name.value_or("")}};
  }
  store::audit::record(txn, {actor, action, run.id,
                             client_ip.empty() ? std::nullopt : std::optional<std::string>(client_ip), "allowed",
                             json::serialize(detail)});
}

// An operator's own run inside a maintenance window goes ahead; it records the window, and says so.
void note_window(store::RunRecord& run, const maintenance::Gate& gate) {
  if (gate.kind == maintenance::Gate::Kind::none) return;
  run.maintenance_window_id = gate.window_id;
  run.maintenance_window_name = gate.window_name;
}

void log_manual_run_in_window(const store::RunRecord& run) {
  if (!run.maintenance_window_id) return;
  spdlog::info("event=run_in_maintenance_window run_id={} job_id={} created_by={} window_id={} window=\"{}\"", run.id,
               run.job_id.value_or(""), run.created_by, *run.maintenance_window_id,
               run.maintenance_window_name.value_or(""));
}

// A trigger's firing: the event's id, depth and env, its retry policy, and a deploy's commit_ref.
void apply_firing(store::RunRecord& run, const FireContext& fired_by) {
  run.trigger_id = fired_by.trigger_id;
  run.event_id = fired_by.event_id;
  run.chain_depth = fired_by.chain_depth;
  if (!fired_by.event_env.empty()) {
    boost::json::object env;
    for (const auto& [name, value] : fired_by.event_env) env[name] = value;
    run.event_env_json = json::serialize(env);
  }
  if (fired_by.retry) {
    run.retry_strategy = fired_by.retry->strategy;
    run.max_retries = fired_by.retry->max_retries;
    run.retry_base_delay = fired_by.retry->base_delay;
  }
  if (fired_by.commit_ref && run.operation_type == "deploy") {
    auto params = boost::json::parse(run.operation_params_json);
    params.as_object()["commit_ref"] = *fired_by.commit_ref;
    run.operation_params_json = json::serialize(params);
  }
}

}  // namespace

int resolve_concurrency(const std::string& value, int total) {
  const int n = number_of(value);
  if (!is_percent(value)) return std::max(1, n);
  return std::max(1, (total * n + 99) / 100);
}

std::optional<int> resolve_max_errors(const std::optional<std::string>& value, int total) {
  if (!value) return std::nullopt;
  const int n = number_of(*value);
  return is_percent(*value) ? total * n / 100 : n;
}

std::chrono::seconds retry_delay(const RetryPolicy& policy, int attempt) {
  constexpr std::chrono::seconds cap{3600};
  const auto base = schedule::parse_duration(policy.base_delay, "retry.base_delay");
  if (policy.strategy != "exponential") return std::min(base, cap);
  auto delay = base;
  for (int i = 1; i < attempt && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

void AfterCommit::merge(AfterCommit other) {
  for (auto& l : other.launches) launches.push_back(std::move(l));
  for (auto& c : other.cancels) cancels.push_back(std::move(c));
  for (auto& r : other.runs_to_advance) runs_to_advance.push_back(std::move(r));
}

std::vector<std::string> Fanout::resolve_targets(pqxx::transaction_base& txn, store::RunRecord& run,
                                                 const Targets& declared, const Rate& rate,
                                                 bool refuse_missing_application) {
  auto targets = declared;
  if (run.operation_type == "deploy") {
    // A deploy goes to its application's server, whatever else the targets say.
    const auto fields = operations::fields_from_params(run.operation_type, run.operation_params_json);
    auto application = fields.application_id ? store::applications::find(txn, *fields.application_id) : std::nullopt;
    if (!application && refuse_missing_application) {
      throw ServiceError(Refusal::invalid, "operation.params.application_id: application " +
                                               fields.application_id.value_or("") + " does not exist");
    }
    targets = application ? Targets{{application->server_id}, {}} : Targets{};
  }
  auto servers = store::servers::resolve_targets(txn, targets.server_ids, targets.tags);
  // Rate limits are resolved against the targets found now.
  run.max_concurrency = resolve_concurrency(rate.max_concurrency, static_cast<int>(servers.size()));
  run.max_errors = resolve_max_errors(rate.max_errors, static_cast<int>(servers.size()));
  return servers;
}

Fanout::Fanout(operations::Lifecycle& lifecycle, const services::RegistryCredentials& credentials,
               const services::SecretBox& secrets)
    : lifecycle_(lifecycle), credentials_(credentials), secrets_(secrets) {
  lifecycle_.set_secret_source([this](pqxx::transaction_base& txn, const store::OperationRecord& operation) {
    return rebuild(txn, operation);
  });
}

std::optional<proto::Dispatch> Fanout::rebuild(pqxx::transaction_base& txn, const store::OperationRecord& operation) {
  if (!operation.automation_run_id) return std::nullopt;
  const auto run = store::runs::find(txn, *operation.automation_run_id);
  if (!run) return std::nullopt;
  try {
    auto dispatch = dispatch_for(txn, *run);
    dispatch.operation_id = operation.id;
    dispatch.timeout_seconds = operation.timeout_seconds;
    return dispatch;
  } catch (const ServiceError& e) {
    spdlog::warn("event=run_operation_not_rebuilt operation_id={} error=\"{}\"", operation.id, e.what());
    return std::nullopt;
  }
}

store::RunRecord Fanout::new_run(const std::string& created_by, Clock::time_point scheduled_at) {
  store::RunRecord run;
  run.id = ids::new_uuid();
  run.status = "running";
  run.scheduled_us = store::epoch_micros(scheduled_at);
  run.created_by = created_by;
  run.created_us = store::epoch_micros(clock().now());
  return run;
}

Created Fanout::create_adhoc(pqxx::transaction_base& txn, const AdHocRun& request, const std::string& created_by) {
  auto run = new_run(created_by, clock().now());
  run.operation_type = request.operation.type;
  run.operation_params_json = operations::params_json(request.operation);
  for (const auto& [name, value] : request.operation.env) run.env_keys.push_back(name);
  if (!request.operation.env.empty()) run.env_sealed = secrets_.seal_env(request.operation.env);
  run.retry_strategy = request.retry.strategy;
  run.max_retries = request.retry.max_retries;
  run.retry_base_delay = request.retry.base_delay;
  const auto servers = resolve_targets(txn, run, request.targets, request.rate, true);
  note_window(run, maintenance::gate_for(txn, clock().now(), std::nullopt, servers));
  log_manual_run_in_window(run);
  auto started = start(txn, run, servers, FanOut::now);
  audit(txn, created_by, "runs.create", run, request.client_ip);
  return started;
}

Created Fanout::fire_job(pqxx::transaction_base& txn, const store::JobRecord& job, Clock::time_point scheduled_at,
                         const std::optional<std::string>& fire_id, const std::string& created_by,
                         FanOut fan_out, const FireContext* fired_by, const std::string& client_ip) {
  auto run = new_run(created_by, scheduled_at);
  run.job_id = job.id;
  run.fire_id = fire_id;
  run.operation_type = job.operation_type;
  run.operation_params_json = job.operation_params_json;
  run.env_keys = job.env_keys;
  run.env_sealed = job.env_sealed;
  run.retry_strategy = job.retry_strategy;
  run.max_retries = job.max_retries;
  run.retry_base_delay = job.retry_base_delay;
  if (fired_by) apply_firing(run, *fired_by);
  const auto servers =
      resolve_targets(txn, run, Targets{job.target_server_ids, job.target_tags}, Rate{job.max_concurrency, job.max_errors},
                      false);
  // Why the run must wait for a decision before any target starts (none: it goes now).
  std::optional<std::string> approval_reason;
  if (job.requires_approval) approval_reason = "the job requires approval";

  // Maintenance windows: the scheduler's and the triggers' firings in one are held (skipped, or
  // waiting for approval); an operator's own run goes ahead and records the window.
  const auto gate = maintenance::gate_for(txn, clock().now(), job.id, servers);
  note_window(run, gate);
  const bool automatic = created_by.rfind("job:", 0) == 0 || fired_by != nullptr;
  if (automatic && gate.kind == maintenance::Gate::Kind::skip) {
    return record_skipped(txn, run,
                          fmt::format("skipped: maintenance window '{}' ({}) holds automation still", gate.window_name,
                                      gate.window_id));
  }
  if (automatic && gate.kind == maintenance::Gate::Kind::approval) {
    const auto window_reason = fmt::format("maintenance window '{}' requires approval", gate.window_name);
    approval_reason = approval_reason ? *approval_reason + "; " + window_reason : window_reason;
  }
  if (!automatic) log_manual_run_in_window(run);

  const auto now = clock().now();
  if (fired_by) {
    if (fired_by->refusal) return record_skipped(txn, run, *fired_by->refusal);
    if (fired_by->chain_depth > max_chain_depth) {
      return record_skipped(txn, run,
                            fmt::format("refused: this run would be number {} in a chain of event-fired runs; at most "
                                        "{} are allowed",
                                        fired_by->chain_depth, max_chain_depth));
    }
    if (fired_by->fire_limit_max && fired_by->fire_limit_window) {
      const auto window = schedule::parse_duration(*fired_by->fire_limit_window, "fire_limit.window");
      if (store::runs::fired_by_trigger_since(txn, fired_by->trigger_id, now - window) >= *fired_by->fire_limit_max) {
        return record_skipped(txn, run,
                              fmt::format("dropped: the trigger's fire limit of {} per {} is reached",
                                          *fired_by->fire_limit_max, *fired_by->fire_limit_window));
      }
    }
  }
  if (job.fire_limit_max && job.fire_limit_window) {
    const auto window = schedule::parse_duration(*job.fire_limit_window, "fire_limit.window");
    if (store::runs::fired_since(txn, job.id, now - window) >= *job.fire_limit_max) {
      return record_skipped(txn, run,
                            fmt::format("dropped: the fire limit of {} per {} is reached", *job.fire_limit_max,
                                        *job.fire_limit_window));
    }
  }
  AfterCommit canceled;
  const auto active = store::runs::active_of_job(txn, job.id);
  if (!active.empty()) {
    const auto& previous = active.front();
    if (job.overlap_policy == "skip") {
      const auto* state = previous.status == "pending_approval" ? "is awaiting approval" : "is still running";
      return record_skipped(txn, run,
                            "skipped: run " + previous.id + " of this job " + state + " (overlap_policy skip)");
    }
    if (job.overlap_policy == "queue") {
      for (const auto& other : active) {
        if (other.waiting_for == std::optional<std::string>("previous_run")) {
          return record_skipped(txn, run,
                                "dropped: run " + other.id + " is already queued behind the running one "
                                "(overlap_policy queue keeps at most one waiting)");
        }
      }
      // Approved, it queues then (decide).
      if (approval_reason) {
        return hold_for_approval(txn, std::move(run), servers, job, *approval_reason, created_by, client_ip);
      }
      run.status = "scheduled";
      run.waiting_for = "previous_run";
      store::runs::insert(txn, run);
      store::runs::add_targets(txn, run.id, 1, servers);
      return Created{run, {}};
    }
    if (job.overlap_policy == "cancel_previous") {
      for (const auto& other : active) {
        if (auto locked = store::runs::lock(txn, other.id)) {
          canceled.merge(cancel_locked(txn, *locked, created_by,
                                       "canceled: a newer firing of this job replaced it (overlap_policy "
                                       "cancel_previous)"));
        }
      }
    }
  }
  if (approval_reason) {
    auto held = hold_for_approval(txn, std::move(run), servers, job, *approval_reason, created_by, client_ip);
    held.after.merge(std::move(canceled));
    return held;
  }
  auto created = start(txn, run, servers, fan_out);
  created.after.merge(std::move(canceled));
  if (created_by.rfind("job:", 0) != 0 && !fired_by) audit(txn, created_by, "jobs.trigger", created.run, client_ip);
  return created;
}

Created Fanout::record_skipped(pqxx::transaction_base& txn, store::RunRecord run, const std::string& reason) {
  run.status = "canceled";
  run.skipped = true;
  run.error = reason;
  run.ended_us = run.created_us;
  store::runs::insert(txn, run);
  spdlog::info("event=run_skipped run_id={} job_id={} reason=\"{}\"", run.id, run.job_id.value_or(""), reason);
  return Created{run, {}};
}

Created Fanout::start(pqxx::transaction_base& txn, store::RunRecord run, const std::vector<std::string>& servers,
                      FanOut fan_out) {
  run.started_us = run.created_us;
  store::runs::insert(txn, run);
  store::runs::add_targets(txn, run.id, 1, servers);
  Created created;
  if (fan_out == FanOut::by_driver) {
    created.run = run;
    created.after.runs_to_advance.push_back(run.id);
    return created;
  }
  created.after = advance(txn, run.id);
  created.run = *store::runs::find(txn, run.id);
  return created;
}

proto::Dispatch Fanout::dispatch_for(pqxx::transaction_base& txn, const store::RunRecord& run) {
  const auto fields = operations::fields_from_params(run.operation_type, run.operation_params_json);
  proto::Dispatch dispatch;
  dispatch.operation_type = run.operation_type;
  dispatch.timeout_seconds = fields.timeout_seconds;
  dispatch.command = fields.command;
  dispatch.working_directory = fields.working_directory;
  dispatch.container_name = fields.container_name;
  dispatch.registry_url = fields.registry_url;
  // The event's fields first: the job's own env values win over them.
  if (run.event_env_json) {
    // Named, so that it outlives the loop (a range over a temporary's member would not).
    const auto event_env = boost::json::parse(*run.event_env_json);
    for (const auto& [name, value] : event_env.as_object()) {
      if (value.is_string()) dispatch.env[std::string(name)] = std::string(value.as_string());
    }
  }
  if (run.env_sealed) {
    for (auto& [name, value] : secrets_.open_env(*run.env_sealed)) dispatch.env[name] = std::move(value);
  }
  if (run.operation_type == "deploy") {
    auto application = fields.application_id ? store::applications::find(txn, *fields.application_id) : std::nullopt;
    if (!application) throw ServiceError(Refusal::not_found, "the job's application no longer exists");
    dispatch.command = application->deploy_command;
    dispatch.working_directory = application->directory;
    dispatch.commit_ref = fields.commit_ref.value_or(application->deploy_branch);
  } else if (run.operation_type == "registry_login") {
    const auto credential = credentials_.get(txn, fields.credential_id.value_or(""));
    dispatch.registry_url = credential.registry_url;
    dispatch.username = credential.username;
    dispatch.password = credentials_.password_of(credential);
  }
  return dispatch;
}

AfterCommit Fanout::advance(pqxx::transaction_base& txn, const std::string& run_id,
                            const std::vector<std::string>* ended_operations) {
  const auto settle = [&](const std::string& id) {
    if (ended_operations) {
      store::runs::settle_targets_of(txn, id, *ended_operations);
    } else {
      store::runs::settle_started_targets(txn, id);
    }
  };
  AfterCommit after;
  auto run = store::runs::lock(txn, run_id);
  if (!run) return after;
  if (run->status == "completed" || run->status == "failed" || run->status == "canceled") {
    // A canceled run's operations end after it: their targets still take their outcome.
    settle(run->id);
    return after;
  }
  if (run->status == "pending_approval") return after;  // nothing starts before it is approved
  const auto now = clock().now();
  if (run->status == "scheduled") {
    if (run->waiting_for == std::optional<std::string>("retry") && run->next_attempt_us &&
        *run->next_attempt_us > store::epoch_micros(now)) {
      return after;
    }
    if (run->waiting_for == std::optional<std::string>("previous_run") && run->job_id) {
      for (const auto& other : store::runs::active_of_job(txn, *run->job_id)) {
        if (other.id != run->id && other.waiting_for != std::optional<std::string>("previous_run") &&
            other.status != "pending_approval") {
          return after;
        }
      }
    }
    store::runs::mark_running(txn, run->id, now);
    run->status = "running";
  }

  settle(run->id);
  auto counts = store::runs::attempt_counts(txn, run->id, run->attempt);
  const bool over_errors = run->max_errors && counts.failed > *run->max_errors;
  if (over_errors && counts.pending > 0) {
    store::runs::cancel_pending(txn, run->id, run->attempt,
                                fmt::format("not started: more than max_errors ({}) targets failed", *run->max_errors));
    counts = store::runs::attempt_counts(txn, run->id, run->attempt);
  }
  int slots = run->max_concurrency - counts.started;
  while (slots > 0 && counts.pending > 0) {
    const auto batch = store::runs::next_pending(txn, run->id, run->attempt, slots);
    if (batch.empty()) break;
    // One dispatch serves every target of the pass (its secrets opened once); each gets its own id.
    std::optional<proto::Dispatch> prototype;
    try {
      prototype = dispatch_for(txn, *run);
    } catch (const ServiceError& e) {
      // The run's inputs are gone (an application, a credential): its targets fail with why.
      for (const auto& target : batch) {
        store::runs::mark_target(txn, run->id, run->attempt, target, "failed", std::nullopt, e.what());
      }
      counts = store::runs::attempt_counts(txn, run->id, run->attempt);
      continue;
    }
    std::vector<operations::Submission> submissions;
    const auto& targets = batch;
    for (const auto& target : batch) {
      auto dispatch = *prototype;
      dispatch.operation_id = ids::new_uuid();
      submissions.push_back(operations::Submission{std::move(dispatch), target, "run:" + run->id, std::nullopt,
                                                   std::nullopt, std::nullopt, run->id, run->attempt});
    }
    auto submitted = lifecycle_.submit_many(txn, submissions);
    // A deploy is a deployment of its application, as one made through the v1 API is.
    const auto application_id = run->operation_type == "deploy"
                                    ? operations::fields_from_params(run->operation_type, run->operation_params_json)
                                          .application_id
                                    : std::nullopt;
    std::vector<std::pair<std::string, std::string>> started;
    for (std::size_t i = 0; i < submitted.size(); ++i) {
      if (!submitted[i]) {
        store::runs::mark_target(txn, run->id, run->attempt, targets[i], "failed", std::nullopt,
                                 "the server was decommissioned before the run reached it");
        continue;
      }
      started.emplace_back(targets[i], submitted[i]->dispatch.operation_id);
      if (application_id && submitted[i]->dispatch.commit_ref) {
        store::applications::insert_deployment(txn, ids::new_uuid(), *application_id, submitted[i]->dispatch.operation_id,
                                               *submitted[i]->dispatch.commit_ref);
      }
      after.launches.push_back(std::move(*submitted[i]));
      --slots;
    }
    store::runs::mark_started(txn, run->id, run->attempt, started);
    counts = store::runs::attempt_counts(txn, run->id, run->attempt);
  }

  if (counts.pending > 0 || counts.started > 0) return after;
  // The attempt is over.
  const int unsuccessful = counts.failed + counts.canceled;
  if (counts.failed > 0 && counts.canceled == 0 && run->attempt <= run->max_retries && run->retry_strategy != "none") {
    const RetryPolicy policy{run->retry_strategy, run->max_retries, run->retry_base_delay};
    store::runs::retry_failed(txn, run->id, run->attempt);
    store::runs::schedule_retry(txn, run->id, run->attempt + 1, now + retry_delay(policy, run->attempt));
    spdlog::info("event=run_retry_scheduled run_id={} attempt={} failed_targets={}", run->id, run->attempt + 1,
                 counts.failed);
    return after;
  }
  std::optional<std::string> error;
  if (counts.total == 0) {
    error = "no servers match the run's targets";
  } else if (unsuccessful > 0) {
    error = fmt::format("{} of {} targets failed", counts.failed, counts.total);
    if (counts.canceled > 0) error = *error + fmt::format(", {} not started (max_errors {})", counts.canceled, *run->max_errors);
  }
  const auto status = error ? "failed" : "completed";
  store::runs::finish(txn, run->id, status, error, now);
  spdlog::info("event=run_ended run_id={} status={} targets={} failed={}", run->id, status, counts.total,
               unsuccessful);
  if (run->job_id) {
    if (auto queued = store::runs::queued_of_job(txn, *run->job_id)) after.runs_to_advance.push_back(*queued);
  }
  return after;
}

AfterCommit Fanout::cancel_locked(pqxx::transaction_base& txn, const store::RunRecord& run, const std::string& actor,
                                  const std::string& reason, const std::string& client_ip) {
  AfterCommit after;
  if (run.status == "pending_approval") store::approvals::cancel_of_run(txn, run.id, actor, reason, clock().now());
  store::runs::settle_started_targets(txn, run.id);
  store::runs::cancel_pending(txn, run.id, run.attempt, reason);
  for (const auto& operation_id : store::runs::open_operations(txn, run.id)) {
    auto operation = store::operations::find(txn, operation_id, false);
    if (!operation) continue;
    try {
      after.cancels.push_back(lifecycle_.cancel(txn, *operation, actor, client_ip));
    } catch (const ServiceError&) {
      // It ended meanwhile (refused before anything was written).
    }
  }
  store::runs::finish(txn, run.id, "canceled", reason, clock().now());
  if (run.job_id) {
    if (auto queued = store::runs::queued_of_job(txn, *run.job_id)) after.runs_to_advance.push_back(*queued);
  }
  return after;
}

Created Fanout::cancel(pqxx::transaction_base& txn, const std::string& run_id, const std::string& actor,
                       const std::string& reason, const std::string& client_ip) {
  auto run = store::runs::lock(txn, run_id);
  if (!run) throw ServiceError(Refusal::not_found, "run " + run_id + " not found");
  if (run->status == "completed" || run->status == "failed" || run->status == "canceled") {
    throw ServiceError(Refusal::conflict, "run " + run_id + " has already ended (" + run->status + ")");
  }
  Created created;
  created.after = cancel_locked(txn, *run, actor, reason, client_ip);
  created.run = *store::runs::find(txn, run_id);
  audit(txn, actor, "runs.cancel", created.run, client_ip);
  return created;
}

void Fanout::after_commit(const AfterCommit& after) {
  for (const auto& submitted : after.launches) lifecycle_.launch(submitted);
  for (const auto& outcome : after.cancels) lifecycle_.after_cancel(outcome);
}

}  // namespace tether::runs
