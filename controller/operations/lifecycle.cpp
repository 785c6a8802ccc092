#include "controller/operations/lifecycle.hpp"

#include "controller/metrics/metrics.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/metrics_store.hpp"
#include "controller/store/operation_store.hpp"
#include "controller/store/server_store.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace tether::operations {

using services::Refusal;
using services::ServiceError;

namespace {
store::NewOperation stored_form(const Submission& submission, const std::string& status) {
  const auto& dispatch = submission.dispatch;
  std::vector<std::string> env_keys;
  for (const auto& [name, value] : dispatch.env) env_keys.push_back(name);
  return store::NewOperation{dispatch.operation_id, dispatch.operation_type, submission.server_id,
                             dispatch::params_json(dispatch), env_keys, status, dispatch.timeout_seconds,
                             submission.ci_run_id, submission.run_context_json, submission.created_by,
                             submission.automation_key_id, submission.automation_run_id, submission.run_attempt};
}
}  // namespace

Submitted Lifecycle::submit(pqxx::transaction_base& txn, const Submission& submission) {
  const auto server = store::servers::find(txn, submission.server_id);
  if (!server || server->status == "decommissioned") {
    throw ServiceError(Refusal::not_found, "server " + submission.server_id + " not found");
  }
  Submitted submitted{submission.dispatch, submission.server_id,
                      dispatcher_.connected(submission.server_id) ? "dispatched" : "queued",
                      submission.automation_run_id};
  store::operations::insert(txn, stored_form(submission, submitted.status));
  return submitted;
}

std::vector<std::optional<Submitted>> Lifecycle::submit_many(pqxx::transaction_base& txn,
                                                             const std::vector<Submission>& submissions) {
  std::vector<std::string> server_ids;
  for (const auto& submission : submissions) server_ids.push_back(submission.server_id);
  const auto live_ids = store::servers::live_among(txn, server_ids);
  const std::set<std::string> live(live_ids.begin(), live_ids.end());
  std::vector<std::optional<Submitted>> out;
  std::vector<store::NewOperation> rows;
  for (const auto& submission : submissions) {
    if (!live.count(submission.server_id)) {
      out.emplace_back(std::nullopt);
      continue;
    }
    Submitted submitted{submission.dispatch, submission.server_id,
                        dispatcher_.connected(submission.server_id) ? "dispatched" : "queued",
                        submission.automation_run_id};
    rows.push_back(stored_form(submission, submitted.status));
    out.emplace_back(std::move(submitted));
  }
  store::operations::insert_many(txn, rows);
  return out;
}

void Lifecycle::launch(const Submitted& submitted) {
  const auto& dispatch = submitted.dispatch;
  spdlog::info("event=operation_created operation_id={} type={} server_id={} status={}", dispatch.operation_id,
               dispatch.operation_type, submitted.server_id, submitted.status);
  dispatcher_.remember(dispatch);
  if (submitted.automation_run_id) {
    std::lock_guard lock(runs_mutex_);
    run_of_operation_[dispatch.operation_id] = *submitted.automation_run_id;
  }
  // If the agent dropped in between, the operation stays "dispatched" and its next hello gets it
  // delivered again.
  if (submitted.status == "dispatched") dispatcher_.send(submitted.server_id, dispatch);
}

CancelOutcome Lifecycle::cancel(pqxx::transaction_base& txn, const store::OperationRecord& operation,
                                const std::string& actor, const std::string& client_ip) {
  CancelOutcome outcome;
  if (store::operations::cancel_queued(txn, operation.id)) {
    outcome.ended_now = true;
  } else if (!store::operations::request_cancel(txn, operation.id)) {
    throw ServiceError(Refusal::conflict,
                       "operation " + operation.id + " has already ended (" + operation.status + ")");
  }
  store::audit::record(txn, {actor, "operations.cancel", operation.id,
                             client_ip.empty() ? std::nullopt : std::optional<std::string>(client_ip), "allowed", "{}",
                             std::nullopt,
                             operation.server_id, operation.id, operation.run_id, 202});
  outcome.operation = *store::operations::find(txn, operation.id, true);
  return outcome;
}

void Lifecycle::after_cancel(const CancelOutcome& outcome) {
  const auto& operation = outcome.operation;
  if (outcome.ended_now) {
    if (metrics_) metrics_->operation_ended(operation.type, operation.status, std::nullopt);
    EndNotice notice;
    notice.operation_ids = {operation.id};
    notice.for_waiters = {operation};
    announce_end(notice);
  } else {
    // If the agent is not connected here, its next hello delivers the cancel.
    dispatcher_.send(operation.server_id, proto::Cancel{operation.id});
  }
}

EndNotice Lifecycle::prepare_end(pqxx::transaction_base& read, std::vector<std::string> ids) {
  EndNotice notice;
  if (ids.empty()) return notice;
  for (const auto& id : ids) {
    if (auto record = dispatch::ended_record_for_waiters(read, dispatcher_.waiters(), id)) {
      notice.for_waiters.push_back(std::move(*record));
    }
  }
  // Counted here, once the end is committed: an end reported twice (an agent's `finished` resent
  // after a lost acknowledgement) may count twice.
  // A failure to count must not fail what is already committed.
  if (metrics_) {
    try {
      for (const auto& ended : store::metrics::ended_operations(read, ids)) {
        metrics_->operation_ended(ended.type, ended.status, ended.duration);
      }
    } catch (const pqxx::broken_connection&) {
      throw;
    } catch (const std::exception& e) {
      spdlog::warn("event=operation_metrics_failed error=\"{}\"", e.what());
    }
  }
  notice.operation_ids = std::move(ids);
  return notice;
}

void Lifecycle::announce_end(const EndNotice& notice) {
  for (const auto& id : notice.operation_ids) dispatcher_.forget(id);
  for (const auto& record : notice.for_waiters) dispatcher_.waiters().notify(record);
  std::map<std::string, std::vector<std::string>> by_run;
  {
    std::lock_guard lock(runs_mutex_);
    for (const auto& id : notice.operation_ids) {
      if (auto it = run_of_operation_.find(id); it != run_of_operation_.end()) {
        by_run[it->second].push_back(id);
        run_of_operation_.erase(it);
      }
    }
  }
  if (by_run.empty()) return;
  std::vector<RunsEnded> listeners;
  {
    std::lock_guard lock(listeners_mutex_);
    listeners = run_listeners_;
  }
  for (const auto& listener : listeners) listener(by_run);
}

void Lifecycle::end(pqxx::connection& connection, std::vector<std::string> ids) {
  if (ids.empty()) return;
  pqxx::nontransaction read(connection);
  announce_end(prepare_end(read, std::move(ids)));
}

void Lifecycle::on_runs_touched(RunsEnded listener) {
  std::lock_guard lock(listeners_mutex_);
  run_listeners_.push_back(std::move(listener));
}

std::optional<proto::Dispatch> Lifecycle::redeliver(pqxx::transaction_base& txn, const store::OperationRecord& record,
                                                    std::vector<std::string>& ended) {
  auto dispatch = dispatcher_.redelivery(record);
  if (!dispatch && record.automation_run_id && secret_source_) dispatch = secret_source_(txn, record);
  if (!dispatch) {
    store::operations::fail(txn, record.server_id, record.id,
                            "the controller restarted before the agent accepted the operation, and its "
                            "secrets (env values, registry password) are never stored; submit it again");
    ended.push_back(record.id);
    return std::nullopt;
  }
  if (record.status == "queued") store::operations::mark_dispatched(txn, record.id);
  return dispatch;
}

HelloSettlement Lifecycle::settle_hello(pqxx::transaction_base& txn, const std::string& server_id,
                                        const std::vector<std::string>& listed) {
  HelloSettlement settlement;
  std::map<std::string, store::StoredProgress> stored;
  // Refuses the whole hello (nothing of it stored, nothing told) when it lists an id of another server.
  for (auto& progress : store::operations::progress_on_server(txn, server_id, listed)) {
    stored[progress.operation_id] = progress;
  }
  for (const auto& id : listed) {
    auto it = stored.find(id);
    const bool open = it != stored.end() && !proto::is_finished_status(it->second.status);
    // An operation the controller has ended (or never had) is settled: the agent forgets it.
    settlement.listed.push_back({id, it != stored.end() ? it->second.output_seq : 0, !open});
    // A cancel asked for while the agent was away is delivered now.
    if (open && it->second.cancel_requested) settlement.cancels.push_back(proto::Cancel{id});
  }

  std::vector<store::OperationRecord> to_send;
  const std::set<std::string> listed_set(listed.begin(), listed.end());
  for (const auto& progress : store::operations::open_for_server(txn, server_id)) {
    if (listed_set.count(progress.operation_id)) continue;
    if (progress.status == "running") {
      store::operations::fail(txn, server_id, progress.operation_id,
                              "the agent reconnected without this operation: it restarted or lost its journal "
                              "while the operation was running");
      settlement.ended.push_back(progress.operation_id);
    } else if (auto record = store::operations::find(txn, progress.operation_id, false)) {
      to_send.push_back(std::move(*record));  // dispatched but never accepted
    }
  }
  for (const auto& id : store::operations::queued_for_server(txn, server_id)) {
    if (auto record = store::operations::find(txn, id, false)) to_send.push_back(std::move(*record));
  }
  for (const auto& record : to_send) {
    if (auto dispatch = redeliver(txn, record, settlement.ended)) settlement.dispatches.push_back(std::move(*dispatch));
  }
  return settlement;
}

Lifecycle::Sweep Lifecycle::sweep(pqxx::transaction_base& txn, const std::vector<std::string>& connected_servers,
                                  int overdue_grace_seconds) {
  Sweep sweep;
  const auto now = clock_.now();
  for (auto& id : store::operations::fail_expired_queued(txn, now)) sweep.ended.push_back(std::move(id));
  for (auto& id : store::operations::time_out_overdue_reboots(txn, now)) sweep.ended.push_back(std::move(id));
  for (auto& id : store::operations::fail_overdue_unconnected(txn, now, overdue_grace_seconds)) {
    sweep.ended.push_back(std::move(id));
  }
  for (const auto& id : sweep.ended) spdlog::warn("event=operation_failed_by_deadline operation_id={}", id);
  for (const auto& server_id : connected_servers) {
    for (const auto& id : store::operations::queued_for_server(txn, server_id)) {
      auto record = store::operations::find(txn, id, false);
      if (!record) continue;
      if (auto dispatch = redeliver(txn, *record, sweep.ended)) sweep.to_send.emplace_back(server_id, std::move(*dispatch));
    }
  }
  return sweep;
}

void Lifecycle::send_all(const std::vector<std::pair<std::string, proto::Dispatch>>& dispatches) {
  for (const auto& [server_id, dispatch] : dispatches) dispatcher_.send(server_id, dispatch);
}

}  // namespace tether::operations
