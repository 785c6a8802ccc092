#pragma once
// The one home of a run's life: created (by a job's firing, a manual trigger or an ad hoc call)
// with its targets resolved at that moment, fanned out to one operation per target under its rate
// control, retried on its failed targets, canceled, ended. Every step runs in the caller's
// transaction with the run's row locked, and returns what to do once it is committed (operations
// to send, cancels to deliver), so that nothing is sent for a change that was rolled back.
//
// Invariants kept here:
// - At most max_concurrency operations of a run are in flight; once more than max_errors targets
//   of an attempt have failed, no new target starts and the rest end canceled with that reason.
// - A job's run is created at most once per due time (fire_id unique per job), whoever fires it.
// - Operations are created only through the operation lifecycle.
#include "common/clock.hpp"
#include "controller/operations/lifecycle.hpp"
#include "controller/operations/operation_fields.hpp"
#include "controller/store/approval_store.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/run_store.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::services {
class RegistryCredentials;
class SecretBox;
}  // namespace tether::services

namespace tether::runs {

// Where a run goes and how fast: as a job or an ad hoc run declares it.
struct Targets {
  std::vector<std::string> server_ids;
  std::vector<std::string> tags;
};
struct Rate {
  std::string max_concurrency = "50";      // a number, or "N%" of the targets
  std::optional<std::string> max_errors;   // a number, or "N%" of the targets; none: no limit
};
struct RetryPolicy {
  std::string strategy = "none";  // none | fixed | exponential
  int max_retries = 0;
  std::string base_delay = "30s";
};

// An ad hoc run: the operation with its env values in clear (sealed before it is stored).
struct AdHocRun {
  operations::OperationFields operation;
  Targets targets;
  Rate rate;
  RetryPolicy retry;
  std::string client_ip = {};  // who asked for it, from where (audited)
};

// "N" or "N%" of `total` (percentages round up, and at least 1 for a concurrency).
int resolve_concurrency(const std::string& value, int total);
std::optional<int> resolve_max_errors(const std::optional<std::string>& value, int total);
// The delay before retry number `attempt` (1 for the first retry), capped at an hour.
std::chrono::seconds retry_delay(const RetryPolicy& policy, int attempt);

// A firing by a trigger: what the event brings to the run. Event fields reach the command only as
// environment variables (never in its text); a deploy's commit_ref may come from the event.
struct FireContext {
  std::string trigger_id;
  std::optional<std::int64_t> event_id;  // a controller event (webhook deliveries have none)
  int chain_depth = 1;                   // event-fired runs leading to this one, this one included
  std::map<std::string, std::string> event_env;  // TETHER_EVENT_* (not secret)
  std::optional<std::string> commit_ref;         // a deploy job's ref from the event
  std::optional<RetryPolicy> retry;              // the trigger's, over the job's
  std::optional<int> fire_limit_max;             // the trigger's own fire limit
  std::optional<std::string> fire_limit_window;
  std::optional<std::string> refusal;  // the firing is recorded but not run, for this reason
};
// Runs started by events lead to more events; a chain deeper than this is refused.
inline constexpr int max_chain_depth = 5;

// What to do after the commit.
struct AfterCommit {
  std::vector<operations::Submitted> launches;
  std::vector<operations::CancelOutcome> cancels;
  std::vector<std::string> runs_to_advance;  // e.g. a queued run whose predecessor just ended
  void merge(AfterCommit other);
};

struct Created {
  store::RunRecord run;
  AfterCommit after;
};

// Who decides an approval request (runs/approvals.cpp): the caller's actor, its user when it is a
// login session, and whether it is an admin (a user or key of role admin).
struct ApprovalDecider {
  std::string actor;
  std::optional<std::string> username;
  bool admin = false;
  std::string client_ip;
};
enum class Decision { approve, reject };
struct Decided {
  store::ApprovalRecord approval;
  store::RunRecord run;
  AfterCommit after;
};
// How long a request waits for a decision unless told otherwise (--approval-timeout).
inline constexpr std::chrono::seconds default_approval_timeout{3600};

// Whether a new run's first operations are created in the transaction that creates it (an API
// call answers with them) or by the run driver after its commit (the scheduler: a firing's
// transaction stays short, so that jobs due together are all fired on time).
enum class FanOut { now, by_driver };

class Fanout {
 public:
  // Registers itself with the lifecycle as where a run's operation finds its secrets again.
  Fanout(operations::Lifecycle& lifecycle, const services::RegistryCredentials& credentials,
         const services::SecretBox& secrets);

  const Clock& clock() const { return lifecycle_.clock(); }

  Created create_adhoc(pqxx::transaction_base& txn, const AdHocRun& request, const std::string& created_by);
  // One firing of `job` for due time `scheduled_at` (the scheduler's, or now for a manual trigger);
  // fire limit and overlap policy apply. `created_by` is "job:<id>" for the scheduler's firings,
  // "trigger:<id>" for a trigger's, else the actor of a manual trigger (audited, with `client_ip`,
  // the address the trigger came from). A firing that is not run (fire limits, overlap, a chain
  // too deep) is still recorded, canceled with its reason.
  Created fire_job(pqxx::transaction_base& txn, const store::JobRecord& job, Clock::time_point scheduled_at,
                   const std::optional<std::string>& fire_id, const std::string& created_by,
                   FanOut fan_out = FanOut::now, const FireContext* fired_by = nullptr,
                   const std::string& client_ip = {});
  // Moves the run on: settles ended targets (those of `ended_operations` when given, else every
  // started one), starts pending ones under the rate control, stops at max_errors, retries or
  // ends it.
  AfterCommit advance(pqxx::transaction_base& txn, const std::string& run_id,
                      const std::vector<std::string>* ended_operations = nullptr);
  // Ends the run as canceled: pending targets never start, operations under way are canceled.
  // Refuses (conflict) a run that has already ended, (not_found) an unknown one.
  Created cancel(pqxx::transaction_base& txn, const std::string& run_id, const std::string& actor,
                 const std::string& reason, const std::string& client_ip = {});
  // After the commit: sends the operations and delivers the cancels.
  void after_commit(const AfterCommit& after);

  // Approvals (runs/approvals.cpp). A run held for approval waits as pending_approval with its
  // targets pending, next to a pending approval request that expires after approval_timeout().
  void set_approval_timeout(std::chrono::seconds timeout) { approval_timeout_ = timeout; }
  std::chrono::seconds approval_timeout() const { return approval_timeout_; }
  // Approves or rejects the request. Refused: not_found (no such request), conflict (decided,
  // canceled or expired already), forbidden (the caller asked for the run, or the request lists
  // approvers and the caller is neither one of them nor an admin). Approving starts the run (the
  // run driver fans it out: after.runs_to_advance), or queues it behind a running one of its job
  // when its job's overlap policy is queue; rejecting cancels it with "rejected by <actor>[: comment]".
  // Audited (approvals.approve, approvals.reject).
  Decided decide(pqxx::transaction_base& txn, const std::string& approval_id, const ApprovalDecider& decider,
                 Decision decision, const std::optional<std::string>& comment);
  // Requests expired by now (at most `limit`) end expired and their runs canceled ("approval
  // expired after 1h"); audited (approvals.expire, actor "system"). What the run driver's sweep calls.
  AfterCommit expire_approvals(pqxx::transaction_base& txn, int limit);

 private:
  store::RunRecord new_run(const std::string& created_by, Clock::time_point scheduled_at);
  // The run's servers now (a deploy's: its application's), with its rate limits resolved on them.
  std::vector<std::string> resolve_targets(pqxx::transaction_base& txn, store::RunRecord& run, const Targets& declared,
                                           const Rate& rate, bool refuse_missing_application);
  // Inserts the run with its first attempt's targets and starts what the rate allows.
  Created start(pqxx::transaction_base& txn, store::RunRecord run, const std::vector<std::string>& servers,
                FanOut fan_out);
  Created record_skipped(pqxx::transaction_base& txn, store::RunRecord run, const std::string& reason);
  // Inserts the run as pending_approval (waiting_for "approval") with its targets pending, and its
  // approval request (approvers from the job, requested_by `created_by`); audited
  // (approvals.request). Nothing starts until it is approved.
  Created hold_for_approval(pqxx::transaction_base& txn, store::RunRecord run, const std::vector<std::string>& servers,
                            const store::JobRecord& job, const std::string& reason, const std::string& created_by,
                            const std::string& client_ip);
  AfterCommit cancel_locked(pqxx::transaction_base& txn, const store::RunRecord& run, const std::string& actor,
                            const std::string& reason, const std::string& client_ip = {});
  // The dispatch the run's targets get (secrets included, no operation id yet), built from the
  // run's stored operation.
  proto::Dispatch dispatch_for(pqxx::transaction_base& txn, const store::RunRecord& run);
  // The dispatch of a stored operation of a run, secrets included, for its redelivery.
  std::optional<proto::Dispatch> rebuild(pqxx::transaction_base& txn, const store::OperationRecord& operation);

  operations::Lifecycle& lifecycle_;
  const services::RegistryCredentials& credentials_;
  const services::SecretBox& secrets_;
  std::chrono::seconds approval_timeout_ = default_approval_timeout;
};

}  // namespace tether::runs
