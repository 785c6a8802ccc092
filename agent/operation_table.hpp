#pragma once
// Every operation this agent knows: journaled, running or finished-but-unacknowledged. It turns
// controller messages (dispatch, ack, finished_ack, cancel, welcome) into journal writes, process
// starts and outgoing messages, following PROTOCOL.md's delivery rules.
#include "agent/journal.hpp"
#include "agent/journal_writer.hpp"
#include "agent/operation_cgroups.hpp"
#include "agent/operation_commands.hpp"
#include "agent/output_spool.hpp"
#include "agent/process_runner.hpp"
#include "proto/messages.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace tether::agent {

// The controller connection as the operations see it.
class Outbound {
 public:
  // False while disconnected and until `welcome` has been handled; nothing is sent then, the
  // journal and the spools keep what the resync after the next `welcome` needs.
  virtual bool ready() const = 0;
  virtual void send_text(std::string message) = 0;
  virtual void send_binary(std::string frame) = 0;

 protected:
  ~Outbound() = default;
};

struct OperationSettings {
  std::chrono::milliseconds kill_grace{5'000};
  std::uint64_t spool_limit_bytes = 64ull * 1024 * 1024;
  std::string boot_id;
  std::chrono::milliseconds drain_limit{2'000};
  CommandSettings commands;
  // Where the agent may create cgroups: each operation runs in one of its own (else null: its
  // process group is all the agent can reach).
  std::shared_ptr<OperationCgroups> cgroups;
};

inline constexpr std::string_view restarted_error = "agent restarted while the operation was running";
inline constexpr std::string_view not_rebooted_error = "the server did not reboot";

// Every command gets its operation id in this variable: it lets a restarted agent find the
// processes of an operation it lost track of (see OperationTable::recover), and lets the
// command know which operation it is.
inline constexpr std::string_view operation_id_variable = "TETHER_OPERATION_ID";

class OperationTable {
 public:
  OperationTable(boost::asio::any_io_executor executor, Journal& journal, OperationSettings settings, Outbound& outbound);
  ~OperationTable();
  OperationTable(const OperationTable&) = delete;
  OperationTable& operator=(const OperationTable&) = delete;

  // Loads the journal. Operations a previous agent process left unfinished are settled as
  // `failed` (restarted_error), after killing what is left of them: their cgroup, the recorded
  // process group if its leader is still the same process (pid and start time), and every process
  // that still carries the operation's TETHER_OPERATION_ID (which also finds a command the previous
  // agent started but died before recording, and descendants that left the process group).
  // A reboot is settled by the boot id instead: a new boot completes it (exit code 0), the same
  // boot fails it (not_rebooted_error) once its reboot command is gone; while that command still
  // runs, the operation waits for its deadline. Its processes are never killed here.
  // Then every other operation cgroup the previous agent process left is emptied and removed
  // (an operation that finished while the agent was stopping).
  // Call once, before the first connection.
  void recover();

  // `operations` of the next hello.
  std::vector<proto::JournalEntrySummary> hello_operations() const;

  void on_welcome(const proto::Welcome& welcome);
  void on_dispatch(proto::Dispatch dispatch);
  void on_ack(const proto::Ack& ack);
  void on_finished_ack(const proto::FinishedAck& ack);
  void on_cancel(const proto::Cancel& cancel);

  // Reject a dispatch that could not even be decoded (its id was still readable).
  void reject(const std::string& operation_id, const std::string& error);

  // Waits for submitted journal writes (shutdown and tests).
  void flush_journal() { writer_.drain(); }
  bool knows(const std::string& operation_id) const { return operations_.count(operation_id) > 0; }
  std::size_t size() const { return operations_.size(); }

 private:
  // What a dispatch carries that the journal must not: it lives in memory until the spawn.
  struct Secrets {
    std::map<std::string, std::string> env;
    std::optional<std::string> password;
  };

  struct Operation {
    OperationRecord record;
    std::unique_ptr<OutputSpool> spool;
    // Kept after the command's exit until the operation ends (a reboot waits for the new boot
    // first): then it ends what the command left running.
    std::shared_ptr<ProcessRunner> runner;
    bool journaled = false;         // the record is durably on disk
    bool cancel_requested = false;  // a cancel arrived before the process could start
    std::chrono::steady_clock::time_point deadline;  // of the whole operation
    // A reboot whose command succeeded waits here for the new boot, or for its deadline.
    std::unique_ptr<boost::asio::steady_timer> reboot_wait;
  };

  Operation* find(const std::string& operation_id);
  void kill_leftovers(const OperationRecord& record) const;
  void kill_cgroup(const std::string& operation_id) const;
  bool reboot_command_running(const OperationRecord& record) const;
  std::optional<OperationResult> reboot_verdict(const OperationRecord& record, std::uint64_t last_seq) const;
  void on_journaled(const std::string& operation_id, Secrets secrets, std::optional<std::string> error);
  void start(Operation& operation, Secrets secrets);
  void on_output(const std::string& operation_id, proto::Stream stream, std::string_view data);
  void on_process_finished(const std::string& operation_id, const ProcessOutcome& outcome);
  void await_reboot(Operation& operation);
  void on_reboot_deadline(const std::string& operation_id);
  void finish(Operation& operation, const ProcessOutcome& outcome,
              std::optional<std::string> resolved_commit = std::nullopt);
  void resend(Operation& operation, std::uint64_t after_seq);
  void send_finished(const Operation& operation);
  void forget(const std::string& operation_id);
  void relieve_back_pressure(Operation& operation);
  void send(const proto::AgentMessage& message);

  boost::asio::any_io_executor executor_;
  Journal& journal_;
  JournalWriter writer_;
  OperationSettings settings_;
  Outbound& outbound_;
  std::unordered_map<std::string, std::unique_ptr<Operation>> operations_;
};

}  // namespace tether::agent
