#pragma once
// The one home of an operation's life: submit (stored without its secrets, in the caller's
// transaction) → send to its agent after the commit → cancel → end (whatever ended it: the agent's
// report, a deadline, a lost agent, a cancel) → redelivery (to a reconnecting agent, or by the
// periodic sweep, under one policy). The v1 API, the run fan-out and triggers all create
// operations here; AgentLink only carries frames and batches the agent's reports.
//
// Invariants kept here:
// - Secrets (env values, registry passwords) live only in the dispatcher's memory until the agent
//   accepts; an operation whose secrets this process no longer holds is never sent without them:
//   a run's operation gets them again from its run (sealed there), any other fails with a message
//   that says so.
// - Everyone who must hear of an operation's end (sync waiters, the run it belongs to) hears of it
//   once its end is committed, through announce_end, whoever ended it.
#include "common/clock.hpp"
#include "controller/dispatch/dispatcher.hpp"
#include "controller/operations/operation_fields.hpp"
#include "controller/store/records.hpp"
#include "proto/messages.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

namespace tether::metrics {
class Metrics;
}

namespace tether::operations {

// What a caller asks to run on one server.
struct Submission {
  proto::Dispatch dispatch;  // complete, secrets included: never stored as such
  std::string server_id;
  std::string created_by;  // "automation_key:<id>", "api_key:<id>", "run:<id>"
  std::optional<std::string> automation_key_id;
  std::optional<std::string> ci_run_id;  // seed 003's run_id of a CI workflow
  std::optional<std::string> run_context_json;
  std::optional<std::string> automation_run_id;  // the fan-out run it belongs to
  std::optional<int> run_attempt;
};

// A stored operation, to be launched once the caller's transaction is committed.
struct Submitted {
  proto::Dispatch dispatch;
  std::string server_id;
  std::string status;  // "dispatched" (its agent is connected here) or "queued"
  std::optional<std::string> automation_run_id;
};

struct CancelOutcome {
  store::OperationRecord operation;  // as it stands after the request
  bool ended_now = false;            // it was still queued: canceled without the agent
};

// What announce_end tells: the ended operations, with the records their waiters want.
struct EndNotice {
  std::vector<std::string> operation_ids;
  std::vector<store::OperationRecord> for_waiters;
  bool empty() const { return operation_ids.empty(); }
};

// What an agent's hello settles: per listed operation what is stored (and whether it is over),
// cancels asked for while it was away, and the operations to (re)send.
struct HelloSettlement {
  std::vector<proto::StoredOperationState> listed;
  std::vector<proto::Cancel> cancels;
  std::vector<proto::Dispatch> dispatches;
  std::vector<std::string> ended;  // ended by this settlement (lost, or secrets gone)
};

class Lifecycle {
 public:
  // Run id -> its operations that ended.
  using RunsEnded = std::function<void(const std::map<std::string, std::vector<std::string>>& ended)>;

  Lifecycle(dispatch::Dispatcher& dispatcher, const Clock& clock) : dispatcher_(dispatcher), clock_(clock) {}

  const Clock& clock() const { return clock_; }
  dispatch::Dispatcher& dispatcher() { return dispatcher_; }

  // In the caller's transaction: stores the operation without its secrets. Refuses (not_found) an
  // unknown or decommissioned server.
  Submitted submit(pqxx::transaction_base& txn, const Submission& submission);
  // Many at once (a run's fan-out), stored in one statement; nullopt where the server is unknown
  // or decommissioned (nothing stored for it).
  std::vector<std::optional<Submitted>> submit_many(pqxx::transaction_base& txn,
                                                    const std::vector<Submission>& submissions);
  // After the caller's commit: keeps the secrets until the agent accepts, and sends the dispatch
  // if its agent is connected here (else the agent's hello or the sweep delivers it).
  void launch(const Submitted& submitted);

  // In the caller's transaction: a queued operation ends at once; a dispatched or running one is
  // marked for its agent to kill. Refuses (conflict) an operation that has already ended.
  CancelOutcome cancel(pqxx::transaction_base& txn, const store::OperationRecord& operation, const std::string& actor,
                       const std::string& client_ip);
  // After the commit: tells the agent, or announces the end of an operation canceled while queued.
  void after_cancel(const CancelOutcome& outcome);

  // After a commit that ended `ids` (on a database worker): what announce_end will tell.
  EndNotice prepare_end(pqxx::transaction_base& read, std::vector<std::string> ids);
  // Forgets the operations' secrets, wakes their waiters and tells the runs they belong to.
  void announce_end(const EndNotice& notice);
  // Prepares and announces in one go, for callers with nothing to publish in between.
  void end(pqxx::connection& connection, std::vector<std::string> ids);
  // Called with the runs whose operations ended, for the operations of runs launched by this
  // process (known from memory, so that no query is added to the path that answers a waiting
  // caller); the run driver's sweep finds the others (launched by another controller).
  void on_runs_touched(RunsEnded listener);

  // In the hello's transaction: settles the operations the agent lists against what is stored,
  // fails those it lost while running, and takes the ones to (re)send under the redelivery policy.
  HelloSettlement settle_hello(pqxx::transaction_base& txn, const std::string& server_id,
                               const std::vector<std::string>& listed);

  struct Sweep {
    std::vector<std::pair<std::string, proto::Dispatch>> to_send;  // server id, dispatch
    std::vector<std::string> ended;
  };
  // The periodic upkeep's share: operations past their deadline without an agent end, and those
  // queued for agents connected here are sent (the hello's own sweep can miss them).
  Sweep sweep(pqxx::transaction_base& txn, const std::vector<std::string>& connected_servers, int overdue_grace_seconds);
  // Sends what a sweep or a hello took, after the commit.
  void send_all(const std::vector<std::pair<std::string, proto::Dispatch>>& dispatches);

  // Where the secrets of an operation this process does not hold may be found again: a run's
  // operation is rebuilt from its run, whose env values are stored sealed (the fan-out sets this).
  // nullopt: not to be found.
  using SecretSource =
      std::function<std::optional<proto::Dispatch>(pqxx::transaction_base&, const store::OperationRecord&)>;
  void set_secret_source(SecretSource source) { secret_source_ = std::move(source); }

  // Where operations that end (prepare_end, a cancel while queued) and agents' output are counted;
  // null: nowhere. Set once at start-up.
  void set_metrics(metrics::Metrics* metrics) { metrics_ = metrics; }
  metrics::Metrics* metrics() const { return metrics_; }

 private:
  // The redelivery policy: the dispatch to send for a stored operation (marking a queued one
  // dispatched), or nullopt after failing it when its secrets are gone.
  std::optional<proto::Dispatch> redeliver(pqxx::transaction_base& txn, const store::OperationRecord& record,
                                           std::vector<std::string>& ended);

  dispatch::Dispatcher& dispatcher_;
  const Clock& clock_;
  std::mutex listeners_mutex_;
  std::vector<RunsEnded> run_listeners_;
  SecretSource secret_source_;  // set once at start-up, before any operation
  metrics::Metrics* metrics_ = nullptr;
  std::mutex runs_mutex_;
  std::unordered_map<std::string, std::string> run_of_operation_;  // launched here, not yet ended
};

}  // namespace tether::operations
