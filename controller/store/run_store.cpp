#include "controller/store/run_store.hpp"

#include "controller/store/page_params.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::runs {
namespace {


const char* const run_columns =
    "id::text, job_id::text, trigger_id::text, fire_id, status, waiting_for, attempt, " TETHER_SQL_US(
        "scheduled_at") ", " TETHER_SQL_US("started_at") ", " TETHER_SQL_US("ended_at") ", " TETHER_SQL_US(
        "next_attempt_at") ", error, skipped, operation_type, operation_params::text, "
    "array_to_json(env_keys)::text, env_sealed, max_concurrency, max_errors, retry_strategy, max_retries, "
    "retry_base_delay, created_by, " TETHER_SQL_US("created_at") ", event_id, chain_depth, event_env::text"
    // The run's approval request, if it was ever held for one.
    ", (SELECT a.id::text FROM approvals a WHERE a.run_id = runs.id ORDER BY a.requested_at DESC LIMIT 1) AS approval_id"
    ", maintenance_window->>'id', maintenance_window->>'name'";

RunRecord to_run(const pqxx::row& row) {
  RunRecord r;
  int i = 0;
  r.id = row[i++].as<std::string>();
  r.job_id = optional_text(row[i++]);
  r.trigger_id = optional_text(row[i++]);
  r.fire_id = optional_text(row[i++]);
  r.status = row[i++].as<std::string>();
  r.waiting_for = optional_text(row[i++]);
  r.attempt = row[i++].as<int>();
  r.scheduled_us = row[i++].as<std::int64_t>();
  r.started_us = optional_int64(row[i++]);
  r.ended_us = optional_int64(row[i++]);
  r.next_attempt_us = optional_int64(row[i++]);
  r.error = optional_text(row[i++]);
  r.skipped = row[i++].as<bool>();
  r.operation_type = row[i++].as<std::string>();
  r.operation_params_json = row[i++].as<std::string>();
  r.env_keys = from_json_array(row[i++]);
  r.env_sealed = optional_text(row[i++]);
  r.max_concurrency = row[i++].as<int>();
  r.max_errors = optional_int(row[i++]);
  r.retry_strategy = row[i++].as<std::string>();
  r.max_retries = row[i++].as<int>();
  r.retry_base_delay = row[i++].as<std::string>();
  r.created_by = row[i++].as<std::string>();
  r.created_us = row[i++].as<std::int64_t>();
  r.event_id = optional_int64(row[i++]);
  r.chain_depth = row[i++].as<int>();
  r.event_env_json = optional_text(row[i++]);
  r.approval_id = optional_text(row[i++]);
  r.maintenance_window_id = optional_text(row[i++]);
  r.maintenance_window_name = optional_text(row[i++]);
  return r;
}

std::vector<RunRecord> to_runs(const pqxx::result& result) {
  std::vector<RunRecord> out;
  for (const auto& row : result) out.push_back(to_run(row));
  return out;
}

void count_state(TargetCounts& counts, const std::string& state, int n) {
  counts.total += n;
  if (state == "pending") counts.pending += n;
  else if (state == "started") counts.started += n;
  else if (state == "succeeded") counts.succeeded += n;
  else if (state == "failed") counts.failed += n;
  else if (state == "canceled") counts.canceled += n;
}

TargetCounts to_counts(const pqxx::result& result) {
  TargetCounts counts;
  for (const auto& row : result) count_state(counts, row[0].as<std::string>(), row[1].as<int>());
  return counts;
}

std::vector<std::string> first_column(const pqxx::result& result) {
  std::vector<std::string> out;
  for (const auto& row : result) out.push_back(row[0].as<std::string>());
  return out;
}

}  // namespace

void insert(pqxx::transaction_base& txn, const RunRecord& r) {
  exec_cached(txn, "insert_run",
              "INSERT INTO runs (id, job_id, trigger_id, fire_id, status, waiting_for, attempt, scheduled_at, "
              "started_at, ended_at, error, skipped, operation_type, operation_params, env_keys, env_sealed, "
              "max_concurrency, max_errors, retry_strategy, max_retries, retry_base_delay, created_by, created_at, "
              "event_id, chain_depth, event_env, maintenance_window) "
              "VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6, $7, " TETHER_SQL_AT("$8") ", "
              TETHER_SQL_AT_OR_NULL("$9::bigint") ", " TETHER_SQL_AT_OR_NULL("$10::bigint") ", $11, $12, $13, $14::jsonb, "
              "ARRAY(SELECT jsonb_array_elements_text($15::jsonb)), $16, $17, $18, $19, $20, $21, $22, "
              TETHER_SQL_AT("$23") ", $24, $25, $26::jsonb, "
              "CASE WHEN $27::text IS NULL THEN NULL ELSE jsonb_build_object('id', $27::text, 'name', $28::text) END)",
              r.id, r.job_id, r.trigger_id, r.fire_id, r.status, r.waiting_for, r.attempt, r.scheduled_us,
              r.started_us, r.ended_us, r.error, r.skipped, r.operation_type, r.operation_params_json,
              to_json_array(r.env_keys), r.env_sealed, r.max_concurrency, r.max_errors, r.retry_strategy,
              r.max_retries, r.retry_base_delay, r.created_by, r.created_us, r.event_id, r.chain_depth,
              r.event_env_json, r.maintenance_window_id, r.maintenance_window_name);
}

void add_targets(pqxx::transaction_base& txn, const std::string& run_id, int attempt,
                 const std::vector<std::string>& server_ids) {
  if (server_ids.empty()) return;
  exec_cached(txn, "add_run_targets",
              "INSERT INTO run_targets (run_id, attempt, server_id, ordinal, state) "
              "SELECT $1, $2, s.id::uuid, s.ordinal - 1, 'pending' "
              "FROM jsonb_array_elements_text($3::jsonb) WITH ORDINALITY AS s(id, ordinal)",
              run_id, attempt, to_json_array(server_ids));
}

std::optional<RunRecord> find(pqxx::transaction_base& txn, const std::string& id) {
  auto result = exec_cached(txn, "run_by_id", std::string("SELECT ") + run_columns + " FROM runs WHERE id = $1", id);
  if (result.empty()) return std::nullopt;
  return to_run(result[0]);
}

std::optional<RunRecord> lock(pqxx::transaction_base& txn, const std::string& id) {
  auto result = exec_cached(txn, "lock_run",
                            std::string("SELECT ") + run_columns + " FROM runs WHERE id = $1 FOR UPDATE", id);
  if (result.empty()) return std::nullopt;
  return to_run(result[0]);
}

namespace {
// An unnamed statement: PostgreSQL plans it with its parameters, so the filters left out and the
// first page's null position fold away and the index range is exact. ORDER BY names the table's
// columns: a bare `id` would be the output column id::text, whose order no index has.
pqxx::result list_rows(pqxx::transaction_base& txn, const std::string& select, const ListFilter& f) {
  return txn.exec_params(
      select +
          " FROM runs WHERE ($1::uuid IS NULL OR job_id = $1::uuid) AND ($2::uuid IS NULL OR trigger_id = $2::uuid) "
          "AND ($3::text IS NULL OR status = $3) "
          "AND ($4::bigint IS NULL OR scheduled_at >= " TETHER_SQL_AT("$4") ") "
          "AND ($5::bigint IS NULL OR scheduled_at < " TETHER_SQL_AT("$5") ") "
          "AND ($6::bigint IS NULL OR (scheduled_at, id) < (" TETHER_SQL_AT("$6") ", $7::uuid)) "
          "ORDER BY runs.scheduled_at DESC, runs.id DESC LIMIT $8",
      f.job_id, f.trigger_id, f.status, f.since_us, f.until_us, after_sort(f.page), after_id(f.page),
      read_limit(f.page));
}
}  // namespace

Page<RunRecord> list(pqxx::transaction_base& txn, const ListFilter& f) {
  return page_of(to_runs(list_rows(txn, std::string("SELECT ") + run_columns, f)), f.page.limit,
                 [](const RunRecord& run) { return PageAfter{std::to_string(run.scheduled_us), run.id}; });
}

std::vector<RunRecord> active_of_job(pqxx::transaction_base& txn, const std::string& job_id) {
  return to_runs(exec_cached(txn, "active_runs_of_job",
                             std::string("SELECT ") + run_columns +
                                 " FROM runs WHERE job_id = $1 AND status IN ('scheduled', 'pending_approval', 'running') "
                                 "ORDER BY scheduled_at",
                             job_id));
}

int fired_by_trigger_since(pqxx::transaction_base& txn, const std::string& trigger_id, Clock::time_point since) {
  return exec_cached(txn, "trigger_fired_since",
                     "SELECT count(*) FROM runs WHERE trigger_id = $1 AND NOT skipped AND created_at > "
                     TETHER_SQL_AT("$2"),
                     trigger_id, epoch_micros(since))[0][0]
      .as<int>();
}

int fired_since(pqxx::transaction_base& txn, const std::string& job_id, Clock::time_point since) {
  return exec_cached(txn, "job_fired_since",
                     "SELECT count(*) FROM runs WHERE job_id = $1 AND NOT skipped AND created_at > " TETHER_SQL_AT("$2"),
                     job_id, epoch_micros(since))[0][0]
      .as<int>();
}

// How a target takes its operation's outcome, shared by the two settle statements.
#define TETHER_SETTLE_TARGETS                                                                              \
  "UPDATE run_targets t SET state = CASE WHEN o.status = 'completed' AND o.exit_code = 0 "                \
  "THEN 'succeeded' ELSE 'failed' END, "                                                                 \
  "error = CASE WHEN o.status = 'completed' AND o.exit_code <> 0 THEN 'exit code ' || o.exit_code "      \
  "WHEN o.status <> 'completed' THEN COALESCE(o.error, o.status) END "                                   \
  "FROM operations o WHERE t.run_id = $1 AND t.state = 'started' AND o.id = t.operation_id "             \
  "AND o.status IN ('completed', 'failed', 'timeout', 'canceled') "

void settle_started_targets(pqxx::transaction_base& txn, const std::string& run_id) {
  exec_cached(txn, "settle_run_targets", TETHER_SETTLE_TARGETS, run_id);
}

void settle_targets_of(pqxx::transaction_base& txn, const std::string& run_id,
                       const std::vector<std::string>& operation_ids) {
  exec_cached(txn, "settle_run_targets_of",
              TETHER_SETTLE_TARGETS "AND t.operation_id = ANY(ARRAY(SELECT jsonb_array_elements_text($2::jsonb)::uuid))",
              run_id, to_json_array(operation_ids));
}

TargetCounts attempt_counts(pqxx::transaction_base& txn, const std::string& run_id, int attempt) {
  return to_counts(exec_cached(txn, "run_attempt_counts",
                               "SELECT state, count(*)::int FROM run_targets WHERE run_id = $1 AND attempt = $2 "
                               "GROUP BY state",
                               run_id, attempt));
}

TargetCounts latest_counts(pqxx::transaction_base& txn, const std::string& run_id) {
  return to_counts(exec_cached(txn, "run_latest_counts",
                               "SELECT state, count(*)::int FROM (SELECT DISTINCT ON (server_id) state "
                               "FROM run_targets WHERE run_id = $1 ORDER BY server_id, attempt DESC) latest "
                               "GROUP BY state",
                               run_id));
}

std::map<std::string, TargetCounts> latest_counts_of(pqxx::transaction_base& txn,
                                                     const std::vector<std::string>& run_ids) {
  std::map<std::string, TargetCounts> out;
  if (run_ids.empty()) return out;
  const auto result = txn.exec_params(
      "SELECT run_id::text, state, count(*)::int FROM (SELECT DISTINCT ON (run_id, server_id) run_id, state "
      "FROM run_targets WHERE run_id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::uuid)) "
      "ORDER BY run_id, server_id, attempt DESC) latest GROUP BY run_id, state",
      to_json_array(run_ids));
  for (const auto& row : result) count_state(out[row[0].as<std::string>()], row[1].as<std::string>(), row[2].as<int>());
  return out;
}

std::vector<std::string> next_pending(pqxx::transaction_base& txn, const std::string& run_id, int attempt, int count) {
  return first_column(exec_cached(txn, "run_next_pending",
                                  "SELECT server_id::text FROM run_targets WHERE run_id = $1 AND attempt = $2 "
                                  "AND state = 'pending' ORDER BY ordinal LIMIT $3",
                                  run_id, attempt, count));
}

void mark_started(pqxx::transaction_base& txn, const std::string& run_id, int attempt,
                  const std::vector<std::pair<std::string, std::string>>& server_operations) {
  if (server_operations.empty()) return;
  std::vector<std::string> servers, operations;
  for (const auto& [server, operation] : server_operations) {
    servers.push_back(server);
    operations.push_back(operation);
  }
  exec_cached(txn, "mark_run_targets_started",
              "UPDATE run_targets t SET state = 'started', operation_id = s.operation_id::uuid, error = NULL "
              "FROM (SELECT unnest(ARRAY(SELECT jsonb_array_elements_text($3::jsonb))) AS server_id, "
              "unnest(ARRAY(SELECT jsonb_array_elements_text($4::jsonb))) AS operation_id) s "
              "WHERE t.run_id = $1 AND t.attempt = $2 AND t.server_id = s.server_id::uuid",
              run_id, attempt, to_json_array(servers), to_json_array(operations));
}

void mark_target(pqxx::transaction_base& txn, const std::string& run_id, int attempt, const std::string& server_id,
                 const std::string& state, const std::optional<std::string>& operation_id,
                 const std::optional<std::string>& error) {
  exec_cached(txn, "mark_run_target",
              "UPDATE run_targets SET state = $4, operation_id = COALESCE($5::uuid, operation_id), error = $6 "
              "WHERE run_id = $1 AND attempt = $2 AND server_id = $3",
              run_id, attempt, server_id, state, operation_id, error);
}

int cancel_pending(pqxx::transaction_base& txn, const std::string& run_id, int attempt, const std::string& reason) {
  return static_cast<int>(exec_cached(txn, "cancel_pending_targets",
                                      "UPDATE run_targets SET state = 'canceled', error = $3 "
                                      "WHERE run_id = $1 AND attempt = $2 AND state = 'pending'",
                                      run_id, attempt, reason)
                              .affected_rows());
}

std::vector<std::string> open_operations(pqxx::transaction_base& txn, const std::string& run_id) {
  return first_column(exec_cached(txn, "run_open_operations",
                                  "SELECT o.id::text FROM run_targets t JOIN operations o ON o.id = t.operation_id "
                                  "WHERE t.run_id = $1 AND t.state = 'started' "
                                  "AND o.status IN ('queued', 'dispatched', 'running')",
                                  run_id));
}

int retry_failed(pqxx::transaction_base& txn, const std::string& run_id, int attempt) {
  return static_cast<int>(exec_cached(txn, "retry_failed_targets",
                                      "INSERT INTO run_targets (run_id, attempt, server_id, ordinal, state) "
                                      "SELECT run_id, attempt + 1, server_id, ordinal, 'pending' FROM run_targets "
                                      "WHERE run_id = $1 AND attempt = $2 AND state = 'failed'",
                                      run_id, attempt)
                              .affected_rows());
}

void mark_running(pqxx::transaction_base& txn, const std::string& id, Clock::time_point now) {
  exec_cached(txn, "mark_run_running",
              "UPDATE runs SET status = 'running', waiting_for = NULL, next_attempt_at = NULL, "
              "started_at = COALESCE(started_at, " TETHER_SQL_AT("$2") ") WHERE id = $1",
              id, epoch_micros(now));
}

void queue_behind_previous(pqxx::transaction_base& txn, const std::string& id) {
  exec_cached(txn, "queue_run_behind_previous",
              "UPDATE runs SET status = 'scheduled', waiting_for = 'previous_run' WHERE id = $1", id);
}

void schedule_retry(pqxx::transaction_base& txn, const std::string& id, int attempt, Clock::time_point at) {
  exec_cached(txn, "schedule_run_retry",
              "UPDATE runs SET status = 'scheduled', waiting_for = 'retry', attempt = $2, "
              "next_attempt_at = " TETHER_SQL_AT("$3") " WHERE id = $1",
              id, attempt, epoch_micros(at));
}

void finish(pqxx::transaction_base& txn, const std::string& id, const std::string& status,
            const std::optional<std::string>& error, Clock::time_point now) {
  exec_cached(txn, "finish_run",
              "UPDATE runs SET status = $2, error = $3, waiting_for = NULL, next_attempt_at = NULL, "
              "ended_at = " TETHER_SQL_AT("$4") " WHERE id = $1",
              id, status, error, epoch_micros(now));
}

std::vector<std::string> needing_advance(pqxx::transaction_base& txn, Clock::time_point now, int limit) {
  return first_column(exec_cached(
      txn, "runs_needing_advance",
      "(SELECT id::text FROM runs WHERE status = 'scheduled' AND waiting_for = 'retry' "
      "  AND next_attempt_at <= " TETHER_SQL_AT("$1") " LIMIT $2) "
      "UNION "
      "(SELECT r.id::text FROM runs r WHERE r.status = 'scheduled' AND r.waiting_for = 'previous_run' "
      "  AND NOT EXISTS (SELECT 1 FROM runs p WHERE p.job_id = r.job_id AND p.id <> r.id "
      "  AND p.status IN ('running', 'scheduled') AND (p.waiting_for IS DISTINCT FROM 'previous_run')) LIMIT $2) "
      "UNION "
      "(SELECT DISTINCT t.run_id::text FROM run_targets t JOIN operations o ON o.id = t.operation_id "
      "  WHERE t.state = 'started' AND o.status IN ('completed', 'failed', 'timeout', 'canceled') LIMIT $2) "
      "UNION "
      "(SELECT r.id::text FROM runs r WHERE r.status = 'running' AND NOT EXISTS "
      "  (SELECT 1 FROM run_targets t WHERE t.run_id = r.id AND t.state = 'started') LIMIT $2)",
      epoch_micros(now), limit));
}

std::optional<std::string> queued_of_job(pqxx::transaction_base& txn, const std::string& job_id) {
  auto result = exec_cached(txn, "queued_run_of_job",
                            "SELECT id::text FROM runs WHERE job_id = $1 AND status = 'scheduled' "
                            "AND waiting_for = 'previous_run' ORDER BY scheduled_at LIMIT 1",
                            job_id);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::string>();
}

std::vector<RunOperation> operations_of(pqxx::transaction_base& txn, const std::string& run_id) {
  std::vector<RunOperation> out;
  for (const auto& row : exec_cached(
           txn, "run_operations",
           "SELECT t.operation_id::text, t.server_id::text, s.name, t.attempt, "
           "COALESCE(o.status, t.state), o.exit_code, o.duration_ms, " TETHER_SQL_US("o.started_at") ", "
           TETHER_SQL_US("o.completed_at") ", COALESCE(o.error, t.error) "
           "FROM run_targets t JOIN servers s ON s.id = t.server_id "
           "LEFT JOIN operations o ON o.id = t.operation_id WHERE t.run_id = $1 ORDER BY t.attempt, t.ordinal",
           run_id)) {
    RunOperation op;
    op.operation_id = optional_text(row[0]);
    op.server_id = row[1].as<std::string>();
    op.server_name = row[2].as<std::string>();
    op.attempt = row[3].as<int>();
    op.status = row[4].as<std::string>();
    op.exit_code = optional_int(row[5]);
    op.duration_ms = optional_int64(row[6]);
    op.started_us = optional_int64(row[7]);
    op.completed_us = optional_int64(row[8]);
    op.error = optional_text(row[9]);
    out.push_back(std::move(op));
  }
  return out;
}

std::vector<AttemptSummary> attempts_of(pqxx::transaction_base& txn, const std::string& run_id) {
  std::vector<AttemptSummary> out;
  for (const auto& row : exec_cached(
           txn, "run_attempts",
           "SELECT t.attempt, count(*)::int, count(*) FILTER (WHERE t.state IN ('failed', 'canceled'))::int, "
           TETHER_SQL_US("min(o.started_at)") ", " TETHER_SQL_US("max(o.completed_at)") " "
           "FROM run_targets t LEFT JOIN operations o ON o.id = t.operation_id WHERE t.run_id = $1 "
           "GROUP BY t.attempt ORDER BY t.attempt",
           run_id)) {
    out.push_back({row[0].as<int>(), row[1].as<int>(), row[2].as<int>(), optional_int64(row[3]),
                   optional_int64(row[4])});
  }
  return out;
}

std::vector<RunChunk> chunks_after(pqxx::transaction_base& txn, const std::string& run_id, const StreamCursor& after,
                                   int limit) {
  std::vector<RunChunk> out;
  for (const auto& row : exec_cached(
           txn, "run_chunks_after",
           "SELECT c.xid::text::bigint, c.operation_id::text, o.server_id::text, c.seq, c.stream, c.data "
           "FROM operation_output c JOIN operations o ON o.id = c.operation_id "
           "WHERE o.automation_run_id = $1 "
           "AND (c.xid, c.operation_id::text, c.seq) > ($2::text::xid8, $3, $4) "
           "AND c.xid < pg_snapshot_xmin(pg_current_snapshot()) "
           "ORDER BY c.xid, c.operation_id::text, c.seq LIMIT $5",
           run_id, std::to_string(after.xid), after.operation_id, static_cast<std::int64_t>(after.seq), limit)) {
    RunChunk chunk;
    chunk.xid = row[0].as<std::uint64_t>();
    chunk.operation_id = row[1].as<std::string>();
    chunk.server_id = row[2].as<std::string>();
    chunk.seq = row[3].as<std::uint64_t>();
    chunk.stream = row[4].as<int>();
    chunk.data = pqxx::binarystring(row[5]).str();
    out.push_back(std::move(chunk));
  }
  return out;
}

bool chunks_held_back(pqxx::transaction_base& txn, const std::string& run_id, const StreamCursor& after) {
  return exec_cached(txn, "run_chunks_held_back",
                     "SELECT EXISTS (SELECT 1 FROM operation_output c JOIN operations o ON o.id = c.operation_id "
                     "WHERE o.automation_run_id = $1 "
                     "AND (c.xid, c.operation_id::text, c.seq) > ($2::text::xid8, $3, $4) "
                     "AND c.xid >= pg_snapshot_xmin(pg_current_snapshot()))",
                     run_id, std::to_string(after.xid), after.operation_id, static_cast<std::int64_t>(after.seq))[0][0]
      .as<bool>();
}

}  // namespace tether::store::runs
