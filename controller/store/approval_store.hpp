#pragma once
// The approvals table: one request per run held for approval (runs in status pending_approval),
// who may decide it, and its outcome. The decision's UPDATE carries the rules that make it
// allowed (still pending, not expired, not decided by whoever asked for the run, by a listed
// approver or an admin), so that a caller the service let through by mistake changes nothing.
#include "common/clock.hpp"
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::store {

struct ApprovalRecord {
  std::string id;
  std::string run_id;
  std::optional<std::string> job_id;
  std::string status;  // pending | approved | rejected | expired | canceled
  std::string reason;
  std::vector<std::string> approvers;  // usernames; empty: any operator or admin
  std::string requested_by;            // the actor that created the run
  std::int64_t requested_us = 0;
  std::int64_t expires_us = 0;
  std::optional<std::string> decided_by;
  std::optional<std::int64_t> decided_us;
  std::optional<std::string> comment;
  // Read with it (not stored in the row): the job's current name and the run's status.
  std::optional<std::string> job_name;
  std::string run_status;
};

namespace approvals {

void insert(pqxx::transaction_base& txn, const ApprovalRecord& approval);
// With for_update, the approval's row is locked until the end of the transaction. Whoever changes
// a request locks its run first (store::runs::lock), then the request, as a run's cancel does.
std::optional<ApprovalRecord> find(pqxx::transaction_base& txn, const std::string& id, bool for_update = false);
// The run's request (the latest, should there ever be more than one).
std::optional<ApprovalRecord> of_run(pqxx::transaction_base& txn, const std::string& run_id);
// One page, newest first by (requested_at, id); `status` none: every status (indexes
// approvals_by_status, approvals_by_requested).
Page<ApprovalRecord> list(pqxx::transaction_base& txn, const std::optional<std::string>& status, const PageRequest& page);
int count_pending(pqxx::transaction_base& txn);

// Who decides, as the decision's UPDATE checks it.
struct Decider {
  std::string actor;                    // user:<name>, api_key:<id>
  std::optional<std::string> username;  // a session's user
  bool admin = false;
};
// approved or rejected: only while pending and unexpired at `now`, never by requested_by, and,
// when the request lists approvers, only by one of them or an admin. False when it changed nothing.
bool decide(pqxx::transaction_base& txn, const std::string& id, const std::string& status, const Decider& decider,
            const std::optional<std::string>& comment, Clock::time_point now);
// The run's pending request ends canceled (its run was canceled by `actor`); how many did.
int cancel_of_run(pqxx::transaction_base& txn, const std::string& run_id, const std::string& actor,
                  const std::string& comment, Clock::time_point now);
// Pending requests expired at `now`, oldest first (not locked: whoever expires one locks its run,
// then the request, as a decision and a cancel do, and looks again).
std::vector<ApprovalRecord> expired_pending(pqxx::transaction_base& txn, Clock::time_point now, int limit);
// The request ends expired (decided_by 'system') if it is still pending and expired at `now`.
bool mark_expired(pqxx::transaction_base& txn, const std::string& id, Clock::time_point now);

}  // namespace approvals
}  // namespace tether::store
