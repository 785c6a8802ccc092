#include "agent/operation_table.hpp"

#include "agent/deploy_script.hpp"
#include "common/time.hpp"

#include <signal.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace tether::agent {

namespace {

std::string exit_code_text(const std::optional<int>& code) { return code ? std::to_string(*code) : "null"; }

// Milliseconds since the record's accepted_at (0 when it cannot be read).
std::int64_t millis_since(const std::string& rfc3339) {
  const auto then = timeutil::parse_rfc3339(rfc3339);
  if (!then) return 0;
  const auto elapsed = std::chrono::system_clock::now() - *then;
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
}

}  // namespace

OperationTable::OperationTable(boost::asio::any_io_executor executor, Journal& journal, OperationSettings settings,
                               Outbound& outbound)
    : executor_(executor), journal_(journal), writer_(journal, executor), settings_(std::move(settings)), outbound_(outbound) {}

OperationTable::~OperationTable() = default;

OperationTable::Operation* OperationTable::find(const std::string& operation_id) {
  auto it = operations_.find(operation_id);
  return it == operations_.end() ? nullptr : it->second.get();
}

void OperationTable::send(const proto::AgentMessage& message) {
  if (outbound_.ready()) outbound_.send_text(proto::encode(message));
}

void OperationTable::recover() {
  auto loaded = journal_.load_all();
  for (const auto& problem : loaded.problems) spdlog::error("event=journal_record_unreadable detail=\"{}\"", problem);

  for (auto& record : loaded.records) {
    auto operation = std::make_unique<Operation>();
    operation->journaled = true;
    try {
      operation->spool = std::make_unique<OutputSpool>(journal_.spool_path(record.id));
    } catch (const std::exception& error) {
      spdlog::error("event=spool_unreadable operation_id={} error=\"{}\"", record.id, error.what());
      std::filesystem::remove(journal_.spool_path(record.id));
      operation->spool = std::make_unique<OutputSpool>(journal_.spool_path(record.id));
    }

    bool awaiting_reboot = false;
    if (record.state != OperationState::finished && record.type == "reboot") {
      if (auto verdict = reboot_verdict(record, operation->spool->last_seq())) {
        record.state = OperationState::finished;
        record.result = verdict;
        journal_.save(record, Durability::synced);
        spdlog::info("event=operation_settled operation_id={} type=reboot status={} recorded_boot_id={} boot_id={}",
                     record.id, verdict->status, record.boot_id, settings_.boot_id);
      } else {
        awaiting_reboot = true;
      }
    } else if (record.state != OperationState::finished) {
      kill_leftovers(record);
      record.state = OperationState::finished;
      OperationResult result;
      result.status = "failed";
      result.error = std::string(restarted_error);
      result.last_seq = operation->spool->last_seq();
      record.result = result;
      journal_.save(record, Durability::synced);
      spdlog::warn("event=operation_settled operation_id={} status=failed reason=agent_restarted last_seq={}", record.id,
                   result.last_seq);
    }
    operation->spool->close_file();
    operation->record = std::move(record);
    auto& kept = *operations_.emplace(operation->record.id, std::move(operation)).first->second;
    if (awaiting_reboot) {
      // The same boot, and the reboot command is still at work: wait for it until the deadline.
      const auto left = std::chrono::milliseconds(kept.record.timeout_seconds * 1000LL - millis_since(kept.record.accepted_at));
      kept.deadline = std::chrono::steady_clock::now() + std::max(left, std::chrono::milliseconds(0));
      spdlog::info("event=reboot_pending operation_id={} reason=reboot_command_still_running wait_ms={}", kept.record.id,
                   std::max<std::int64_t>(0, left.count()));
      await_reboot(kept);
    }
  }
  if (!operations_.empty()) spdlog::info("event=journal_loaded operations={}", operations_.size());

  if (!settings_.cgroups) return;
  for (const auto& id : settings_.cgroups->operation_ids()) {
    const auto* operation = find(id);
    if (operation && operation->reboot_wait) continue;  // the reboot command still at work
    kill_cgroup(id);
  }
}

void OperationTable::kill_cgroup(const std::string& operation_id) const {
  if (!settings_.cgroups) return;
  if (settings_.cgroups->populated(operation_id)) spdlog::warn("event=orphan_killed operation_id={} cgroup=true", operation_id);
  settings_.cgroups->kill_and_remove(operation_id);
}

void OperationTable::kill_leftovers(const OperationRecord& record) const {
  const bool same_boot = !record.boot_id.empty() && record.boot_id == settings_.boot_id;
  if (record.process && same_boot && is_same_process(*record.process)) {
    ::kill(-record.process->pgid, SIGKILL);
    spdlog::warn("event=orphan_killed operation_id={} pgid={}", record.id, record.process->pgid);
  }
  kill_cgroup(record.id);
  const auto marker = fmt::format("{}={}", operation_id_variable, record.id);
  for (const pid_t pid : processes_with_environment_entry(marker)) {
    ::kill(pid, SIGKILL);
    spdlog::warn("event=orphan_killed operation_id={} pid={}", record.id, pid);
  }
}

// The recorded process, or any process carrying the operation's id (the record of the spawn is
// written without fsync and may not have landed when the previous agent died).
bool OperationTable::reboot_command_running(const OperationRecord& record) const {
  if (record.process && is_same_process(*record.process)) return true;
  if (settings_.cgroups && settings_.cgroups->populated(record.id)) return true;
  return !processes_with_environment_entry(fmt::format("{}={}", operation_id_variable, record.id)).empty();
}

std::optional<OperationResult> OperationTable::reboot_verdict(const OperationRecord& record, std::uint64_t last_seq) const {
  OperationResult result;
  result.duration_ms = millis_since(record.accepted_at);
  result.last_seq = last_seq;
  if (record.boot_id.empty() || settings_.boot_id.empty()) {
    result.status = "failed";
    result.error = "cannot tell whether the server rebooted: the boot id is unknown";
  } else if (record.boot_id != settings_.boot_id) {
    result.status = "completed";
    result.exit_code = 0;
  } else if (reboot_command_running(record)) {
    return std::nullopt;
  } else {
    result.status = "failed";
    result.error = std::string(not_rebooted_error);
  }
  return result;
}

std::vector<proto::JournalEntrySummary> OperationTable::hello_operations() const {
  std::vector<proto::JournalEntrySummary> out;
  for (const auto& [id, operation] : operations_) {
    if (!operation->journaled) continue;
    const bool finished = operation->record.state == OperationState::finished;
    out.push_back({id, finished, finished ? operation->record.result->last_seq : operation->spool->last_seq()});
  }
  return out;
}

void OperationTable::on_welcome(const proto::Welcome& welcome) {
  std::unordered_map<std::string, const proto::StoredOperationState*> stored;
  for (const auto& entry : welcome.operations) stored[entry.operation_id] = &entry;

  std::vector<std::string> ids;
  for (const auto& [id, operation] : operations_) {
    if (operation->journaled) ids.push_back(id);
  }
  for (const auto& id : ids) {
    auto& operation = *operations_.at(id);
    const bool finished = operation.record.state == OperationState::finished;
    const auto it = stored.find(id);
    if (it != stored.end() && it->second->finished_stored) {
      if (finished) {
        forget(id);
      } else {
        spdlog::warn("event=welcome_mismatch operation_id={} detail=\"controller stored a result for a running operation\"", id);
      }
      continue;
    }
    // Operations the welcome does not mention resend from what was last acknowledged.
    const auto stored_seq = it != stored.end() ? it->second->stored_seq : operation.spool->acked_seq();
    try {
      operation.spool->acknowledge(stored_seq);
    } catch (const std::exception& error) {
      spdlog::error("event=spool_error operation_id={} error=\"{}\"", id, error.what());
    }
    resend(operation, stored_seq);
    if (finished) send_finished(operation);
    relieve_back_pressure(operation);
  }
}

void OperationTable::resend(Operation& operation, std::uint64_t after_seq) {
  if (!outbound_.ready()) return;
  try {
    auto frames = operation.spool->frames_after(after_seq);
    if (!frames.empty()) {
      spdlog::info("event=output_resent operation_id={} after_seq={} chunks={}", operation.record.id, after_seq, frames.size());
    }
    for (auto& frame : frames) outbound_.send_binary(std::move(frame));
  } catch (const std::exception& error) {
    spdlog::error("event=spool_error operation_id={} error=\"{}\"", operation.record.id, error.what());
  }
}

void OperationTable::send_finished(const Operation& operation) {
  const auto& result = *operation.record.result;
  send(proto::Finished{operation.record.id, result.status, result.exit_code, result.duration_ms, result.error,
                       result.last_seq, result.resolved_commit});
}

void OperationTable::reject(const std::string& operation_id, const std::string& error) {
  spdlog::warn("event=dispatch_rejected operation_id={} error=\"{}\"", operation_id, error);
  send(proto::Rejected{operation_id, error});
}

void OperationTable::on_dispatch(proto::Dispatch dispatch) {
  const auto& id = dispatch.operation_id;
  if (auto* existing = find(id)) {
    // At most once: a known id is reported, never started again.
    spdlog::info("event=duplicate_dispatch operation_id={} state={}", id, to_string(existing->record.state));
    if (!existing->journaled) return;  // `accepted` follows once the journal write completes
    if (existing->record.state != OperationState::finished) {
      send(proto::Accepted{id});
    } else {
      resend(*existing, existing->spool->acked_seq());
      send_finished(*existing);
    }
    return;
  }
  if (auto problem = dispatch_problem(dispatch, settings_.commands)) return reject(id, *problem);

  auto operation = std::make_unique<Operation>();
  auto& record = operation->record;
  record.id = id;
  record.type = dispatch.operation_type;
  record.command = dispatch.command;
  if (dispatch.working_directory && !dispatch.working_directory->empty()) record.working_directory = dispatch.working_directory;
  record.commit_ref = dispatch.commit_ref;
  record.container_name = dispatch.container_name;
  record.registry_url = dispatch.registry_url;
  record.username = dispatch.username;
  record.timeout_seconds = dispatch.timeout_seconds;
  for (const auto& entry : dispatch.env) record.env_keys.push_back(entry.first);
  record.state = OperationState::accepted;
  record.accepted_at = timeutil::now_utc();
  record.boot_id = settings_.boot_id;
  operation->spool = std::make_unique<OutputSpool>(journal_.spool_path(id));
  writer_.save(record, Durability::synced,
               [this, id, secrets = Secrets{std::move(dispatch.env), std::move(dispatch.password)}](
                   std::optional<std::string> error) mutable { on_journaled(id, std::move(secrets), std::move(error)); });
  operations_.emplace(id, std::move(operation));
}

void OperationTable::on_journaled(const std::string& operation_id, Secrets secrets, std::optional<std::string> error) {
  auto* operation = find(operation_id);
  if (!operation) return;
  if (error) {
    spdlog::error("event=journal_write_failed operation_id={} error=\"{}\"", operation_id, *error);
    operations_.erase(operation_id);
    writer_.forget(operation_id);
    reject(operation_id, "the agent could not write its journal: " + *error);
    return;
  }
  operation->journaled = true;
  spdlog::info("event=operation_accepted operation_id={} type={} timeout_s={} env_keys={}", operation_id,
               operation->record.type, operation->record.timeout_seconds, operation->record.env_keys.size());
  send(proto::Accepted{operation_id});
  if (operation->cancel_requested) {
    finish(*operation, ProcessOutcome{"canceled", std::nullopt, 0, "operation canceled before it started"});
    return;
  }
  start(*operation, std::move(secrets));
}

void OperationTable::start(Operation& operation, Secrets secrets) {
  const auto& record = operation.record;
  auto process = operation_process(record, settings_.commands, secrets.password);
  if (auto* problem = std::get_if<std::string>(&process)) {
    spdlog::warn("event=spawn_failed operation_id={} error=\"{}\"", record.id, *problem);
    finish(operation, ProcessOutcome{"failed", std::nullopt, 0, *problem});
    return;
  }
  auto& spec = std::get<ProcessSpec>(process);
  spec.env = std::move(secrets.env);
  spec.env[std::string(operation_id_variable)] = record.id;
  spec.timeout = std::chrono::seconds(record.timeout_seconds);
  spec.kill_grace = settings_.kill_grace;
  spec.drain_limit = settings_.drain_limit;
  if (settings_.cgroups) {
    std::string problem;
    spec.cgroup = settings_.cgroups->create(record.id, problem);
    if (!spec.cgroup) {
      spdlog::warn("event=operation_cgroup_failed operation_id={} error=\"{}\" fallback=process_group", record.id, problem);
    }
  }

  operation.deadline = std::chrono::steady_clock::now() + spec.timeout;
  auto runner = std::make_shared<ProcessRunner>(executor_, std::move(spec));
  const std::string id = record.id;
  auto started = runner->start(
      [this, id](proto::Stream stream, std::string_view data) { on_output(id, stream, data); },
      [this, id](const ProcessOutcome& outcome) { on_process_finished(id, outcome); });
  if (auto* problem = std::get_if<std::string>(&started)) {
    spdlog::warn("event=spawn_failed operation_id={} error=\"{}\"", id, *problem);
    finish(operation, ProcessOutcome{"failed", std::nullopt, 0, *problem});
    return;
  }
  const auto& identity = std::get<ProcessIdentity>(started);
  operation.runner = std::move(runner);
  operation.record.state = OperationState::running;
  operation.record.process = identity;
  // Not fsynced: the pid only matters if the agent process dies while the command lives on, and
  // a crash of the agent keeps the page cache; after a power loss there is no process to find.
  // Should the agent die before this write lands, recover() still finds the command by its
  // TETHER_OPERATION_ID.
  writer_.save(operation.record, Durability::unsynced);
  spdlog::info("event=operation_started operation_id={} pid={}", id, identity.pid);
  send(proto::Started{id});
}

void OperationTable::on_output(const std::string& operation_id, proto::Stream stream, std::string_view data) {
  auto* operation = find(operation_id);
  if (!operation) return;
  const auto seq = operation->spool->last_seq() + 1;
  auto frame = proto::encode_output_frame(stream, operation_id, seq, data);
  try {
    operation->spool->append(seq, frame);
  } catch (const std::exception& error) {
    // Output that cannot be kept until acknowledged cannot be delivered reliably: stop the command.
    spdlog::error("event=spool_write_failed operation_id={} error=\"{}\"", operation_id, error.what());
    if (operation->runner) operation->runner->abort(fmt::format("cannot write the output spool: {}", error.what()));
    return;
  }
  if (outbound_.ready()) outbound_.send_binary(std::move(frame));
  if (operation->runner && !operation->runner->output_paused() &&
      operation->spool->unacked_bytes() > settings_.spool_limit_bytes) {
    operation->runner->pause_output();
    spdlog::info("event=output_paused operation_id={} unacked_bytes={}", operation_id, operation->spool->unacked_bytes());
  }
}

void OperationTable::relieve_back_pressure(Operation& operation) {
  if (operation.runner && operation.runner->output_paused() &&
      operation.spool->unacked_bytes() <= settings_.spool_limit_bytes) {
    spdlog::info("event=output_resumed operation_id={} unacked_bytes={}", operation.record.id,
                 operation.spool->unacked_bytes());
    operation.runner->resume_output();
  }
}

void OperationTable::on_process_finished(const std::string& operation_id, const ProcessOutcome& outcome) {
  auto* operation = find(operation_id);
  if (!operation) return;
  const auto& record = operation->record;
  if (record.type == "deploy") {
    auto result = deploy_result(outcome, record.commit_ref.value_or(""), record.working_directory.value_or(""));
    finish(*operation, result.outcome, std::move(result.resolved_commit));
    return;
  }
  // A reboot command that succeeded has only asked for the reboot; the operation completes when
  // the agent starts again under a new boot id. One ended by a signal counts the same: the
  // shutdown it started may be what stopped it.
  // What the command left running is ended with the operation, not now: it may be what reboots.
  if (record.type == "reboot" && outcome.status == "completed" && (outcome.exit_code == 0 || outcome.signal)) {
    spdlog::info("event=reboot_pending operation_id={} reboot_command_exit_code={} wait_ms={}", operation_id,
                 exit_code_text(outcome.exit_code),
                 std::chrono::duration_cast<std::chrono::milliseconds>(operation->deadline - std::chrono::steady_clock::now())
                     .count());
    await_reboot(*operation);
    return;
  }
  finish(*operation, outcome);
}

void OperationTable::await_reboot(Operation& operation) {
  operation.reboot_wait = std::make_unique<boost::asio::steady_timer>(executor_, operation.deadline);
  operation.reboot_wait->async_wait([this, id = operation.record.id](const boost::system::error_code& error) {
    if (!error) on_reboot_deadline(id);
  });
}

void OperationTable::on_reboot_deadline(const std::string& operation_id) {
  auto* operation = find(operation_id);
  if (!operation || !operation->reboot_wait) return;
  const auto& record = operation->record;
  // A reboot command from before an agent restart (or what it left in the background) may still
  // be at work: at the deadline it goes, as a running command's process group would.
  kill_leftovers(record);
  finish(*operation, ProcessOutcome{"timeout", std::nullopt, millis_since(record.accepted_at),
                                    fmt::format("{} within {} s", not_rebooted_error, record.timeout_seconds)});
}

void OperationTable::finish(Operation& operation, const ProcessOutcome& outcome, std::optional<std::string> resolved_commit) {
  // Nothing the command started outlives the operation (the runner keeps itself alive for that).
  if (operation.runner) operation.runner->end_remaining();
  operation.runner.reset();
  operation.reboot_wait.reset();
  auto& record = operation.record;
  record.state = OperationState::finished;
  record.result = OperationResult{outcome.status,    outcome.exit_code,           outcome.duration_ms,
                                  outcome.error,     operation.spool->last_seq(), std::move(resolved_commit)};
  // Sent before the journal write, which is not needed to deliver it.
  send_finished(operation);
  operation.spool->close_file();
  // Not fsynced, so that the disk stays free for the next dispatch's fsync. After a power
  // cut that lost this write the operation reads as running and is settled as failed; by then the
  // controller has usually stored the real result and answers with finished_stored.
  // A reboot's result is the exception: read back as running after a power cut, it would be
  // settled by the boot id, and a new boot would turn a failed reboot into a completed one.
  writer_.save(record, record.type == "reboot" ? Durability::synced : Durability::unsynced);
  spdlog::info("event=operation_finished operation_id={} status={} exit_code={} duration_ms={} last_seq={}{}", record.id,
               outcome.status, exit_code_text(outcome.exit_code), outcome.duration_ms, record.result->last_seq,
               record.result->resolved_commit ? " resolved_commit=" + *record.result->resolved_commit : "");
}

void OperationTable::on_ack(const proto::Ack& ack) {
  auto* operation = find(ack.operation_id);
  if (!operation) return;
  try {
    operation->spool->acknowledge(ack.seq);
  } catch (const std::exception& error) {
    spdlog::error("event=spool_error operation_id={} error=\"{}\"", ack.operation_id, error.what());
  }
  relieve_back_pressure(*operation);
}

void OperationTable::on_finished_ack(const proto::FinishedAck& ack) {
  auto* operation = find(ack.operation_id);
  if (!operation) return;
  if (operation->record.state != OperationState::finished) {
    spdlog::warn("event=premature_finished_ack operation_id={}", ack.operation_id);
    return;
  }
  forget(ack.operation_id);
}

void OperationTable::forget(const std::string& operation_id) {
  operations_.erase(operation_id);  // closes the spool file before the disk thread deletes it
  writer_.forget(operation_id);
  spdlog::debug("event=operation_forgotten operation_id={}", operation_id);
}

void OperationTable::on_cancel(const proto::Cancel& cancel) {
  auto* operation = find(cancel.operation_id);
  if (!operation) {
    spdlog::info("event=cancel_ignored operation_id={} reason=unknown_operation", cancel.operation_id);
    return;
  }
  if (!operation->journaled) {
    operation->cancel_requested = true;
  } else if (operation->reboot_wait) {
    const auto& record = operation->record;
    kill_leftovers(record);
    finish(*operation, ProcessOutcome{"canceled", std::nullopt, millis_since(record.accepted_at),
                                      "operation canceled while waiting for the server to reboot"});
  } else if (!operation->runner || !operation->runner->cancel()) {
    spdlog::info("event=cancel_ignored operation_id={} reason=not_running", cancel.operation_id);
    return;
  }
  spdlog::info("event=cancel_requested operation_id={}", cancel.operation_id);
}

}  // namespace tether::agent
