#include "controller/store/approval_store.hpp"

#include "controller/store/page_params.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::approvals {
namespace {

#define TETHER_APPROVAL_COLUMNS                                                                               \
  "a.id::text, a.run_id::text, a.job_id::text, a.status, a.reason, array_to_json(a.approvers)::text, "      \
  "a.requested_by, " TETHER_SQL_US("a.requested_at") ", " TETHER_SQL_US("a.expires_at") ", a.decided_by, " \
  TETHER_SQL_US("a.decided_at") ", a.comment, j.name, r.status "
#define TETHER_APPROVAL_FROM \
  "FROM approvals a JOIN runs r ON r.id = a.run_id LEFT JOIN jobs j ON j.id = a.job_id "

ApprovalRecord to_approval(const pqxx::row& row) {
  ApprovalRecord a;
  int i = 0;
  a.id = row[i++].as<std::string>();
  a.run_id = row[i++].as<std::string>();
  a.job_id = optional_text(row[i++]);
  a.status = row[i++].as<std::string>();
  a.reason = row[i++].as<std::string>();
  a.approvers = from_json_array(row[i++]);
  a.requested_by = row[i++].as<std::string>();
  a.requested_us = row[i++].as<std::int64_t>();
  a.expires_us = row[i++].as<std::int64_t>();
  a.decided_by = optional_text(row[i++]);
  a.decided_us = optional_int64(row[i++]);
  a.comment = optional_text(row[i++]);
  a.job_name = optional_text(row[i++]);
  a.run_status = row[i++].as<std::string>();
  return a;
}

std::vector<ApprovalRecord> to_approvals(const pqxx::result& result) {
  std::vector<ApprovalRecord> out;
  for (const auto& row : result) out.push_back(to_approval(row));
  return out;
}

}  // namespace

void insert(pqxx::transaction_base& txn, const ApprovalRecord& a) {
  exec_cached(txn, "insert_approval",
              "INSERT INTO approvals (id, run_id, job_id, status, reason, approvers, requested_by, requested_at, "
              "expires_at) VALUES ($1, $2, $3::uuid, $4, $5, ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), $7, "
              TETHER_SQL_AT("$8") ", " TETHER_SQL_AT("$9") ")",
              a.id, a.run_id, a.job_id, a.status, a.reason, to_json_array(a.approvers), a.requested_by, a.requested_us,
              a.expires_us);
}

std::optional<ApprovalRecord> find(pqxx::transaction_base& txn, const std::string& id, bool for_update) {
  auto result = for_update
                    ? exec_cached(txn, "lock_approval",
                                  "SELECT " TETHER_APPROVAL_COLUMNS TETHER_APPROVAL_FROM
                                  "WHERE a.id = $1 FOR UPDATE OF a",
                                  id)
                    : exec_cached(txn, "approval_by_id",
                                  "SELECT " TETHER_APPROVAL_COLUMNS TETHER_APPROVAL_FROM "WHERE a.id = $1", id);
  if (result.empty()) return std::nullopt;
  return to_approval(result[0]);
}

std::optional<ApprovalRecord> of_run(pqxx::transaction_base& txn, const std::string& run_id) {
  auto result = exec_cached(txn, "approval_of_run",
                            "SELECT " TETHER_APPROVAL_COLUMNS TETHER_APPROVAL_FROM
                            "WHERE a.run_id = $1 ORDER BY a.requested_at DESC LIMIT 1",
                            run_id);
  if (result.empty()) return std::nullopt;
  return to_approval(result[0]);
}

Page<ApprovalRecord> list(pqxx::transaction_base& txn, const std::optional<std::string>& status, const PageRequest& page) {
  // Unnamed: planned with its parameters, so the status left out and the first page's null
  // position fold away and one index range serves the page.
  return page_of(to_approvals(txn.exec_params(
                     "SELECT " TETHER_APPROVAL_COLUMNS TETHER_APPROVAL_FROM
                     "WHERE ($1::text IS NULL OR a.status = $1) "
                     "AND ($2::bigint IS NULL OR (a.requested_at, a.id) < (" TETHER_SQL_AT("$2") ", $3::uuid)) "
                     "ORDER BY a.requested_at DESC, a.id DESC LIMIT $4",
                     status, after_sort(page), after_id(page), read_limit(page))),
                 page.limit, [](const ApprovalRecord& a) { return PageAfter{std::to_string(a.requested_us), a.id}; });
}

int count_pending(pqxx::transaction_base& txn) {
  return exec_cached(txn, "count_pending_approvals", "SELECT count(*)::int FROM approvals WHERE status = 'pending'")[0][0]
      .as<int>();
}

bool decide(pqxx::transaction_base& txn, const std::string& id, const std::string& status, const Decider& decider,
            const std::optional<std::string>& comment, Clock::time_point now) {
  return exec_cached(txn, "decide_approval",
                     "UPDATE approvals SET status = $2, decided_by = $3, decided_at = " TETHER_SQL_AT("$7") ", "
                     "comment = $6 WHERE id = $1 AND status = 'pending' AND $2 IN ('approved', 'rejected') "
                     "AND expires_at > " TETHER_SQL_AT("$7") " AND requested_by <> $3 "
                     "AND ($5 OR cardinality(approvers) = 0 OR ($4::text IS NOT NULL AND $4::text = ANY(approvers)))",
                     id, status, decider.actor, decider.username, decider.admin, comment, epoch_micros(now))
             .affected_rows() == 1;
}

int cancel_of_run(pqxx::transaction_base& txn, const std::string& run_id, const std::string& actor,
                  const std::string& comment, Clock::time_point now) {
  return static_cast<int>(exec_cached(txn, "cancel_approval_of_run",
                                      "UPDATE approvals SET status = 'canceled', decided_by = $2, comment = $3, "
                                      "decided_at = " TETHER_SQL_AT("$4") " WHERE run_id = $1 AND status = 'pending'",
                                      run_id, actor, comment, epoch_micros(now))
                              .affected_rows());
}

std::vector<ApprovalRecord> expired_pending(pqxx::transaction_base& txn, Clock::time_point now, int limit) {
  return to_approvals(exec_cached(txn, "expired_pending_approvals",
                                  "SELECT " TETHER_APPROVAL_COLUMNS TETHER_APPROVAL_FROM
                                  "WHERE a.status = 'pending' AND a.expires_at <= " TETHER_SQL_AT("$1") " "
                                  "ORDER BY a.expires_at LIMIT $2",
                                  epoch_micros(now), limit));
}

bool mark_expired(pqxx::transaction_base& txn, const std::string& id, Clock::time_point now) {
  return exec_cached(txn, "mark_approval_expired",
                     "UPDATE approvals SET status = 'expired', decided_by = 'system', decided_at = " TETHER_SQL_AT("$2") " "
                     "WHERE id = $1 AND status = 'pending' AND expires_at <= " TETHER_SQL_AT("$2"),
                     id, epoch_micros(now))
             .affected_rows() == 1;
}

}  // namespace tether::store::approvals
