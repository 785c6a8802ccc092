#include "controller/store/job_store.hpp"

#include "controller/store/page_params.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::jobs {
namespace {

const char* const job_columns =
    "id::text, name, enabled, source, schedule_mode, schedule_expr, schedule_interval, " TETHER_SQL_US(
        "schedule_time") ", timezone, operation_type, operation_params::text, array_to_json(env_keys)::text, "
    "env_sealed, array_to_json(target_server_ids)::text, array_to_json(target_tags)::text, max_concurrency, "
    "max_errors, retry_strategy, max_retries, retry_base_delay, fire_limit_max, fire_limit_window, overlap_policy, "
    "misfire_grace_seconds, catch_up_policy, " TETHER_SQL_US("schedule_anchor") ", " TETHER_SQL_US(
        "next_run_at") ", " TETHER_SQL_US("last_run_at") ", " TETHER_SQL_US("last_scheduled_at") ", last_fire_id, "
    "misfire_count, " TETHER_SQL_US("last_misfire_at") ", " TETHER_SQL_US("scheduler_updated_at") ", created_by, "
    TETHER_SQL_US("created_at") ", " TETHER_SQL_US("updated_at") ", requires_approval, "
    "array_to_json(approvers)::text";

JobRecord to_job(const pqxx::row& row) {
  JobRecord j;
  int i = 0;
  j.id = row[i++].as<std::string>();
  j.name = row[i++].as<std::string>();
  j.enabled = row[i++].as<bool>();
  j.source = row[i++].as<std::string>();
  j.schedule_mode = optional_text(row[i++]);
  j.schedule_expr = optional_text(row[i++]);
  j.schedule_interval = optional_text(row[i++]);
  j.schedule_time_us = optional_int64(row[i++]);
  j.timezone = row[i++].as<std::string>();
  j.operation_type = row[i++].as<std::string>();
  j.operation_params_json = row[i++].as<std::string>();
  j.env_keys = from_json_array(row[i++]);
  j.env_sealed = optional_text(row[i++]);
  j.target_server_ids = from_json_array(row[i++]);
  j.target_tags = from_json_array(row[i++]);
  j.max_concurrency = row[i++].as<std::string>();
  j.max_errors = optional_text(row[i++]);
  j.retry_strategy = row[i++].as<std::string>();
  j.max_retries = row[i++].as<int>();
  j.retry_base_delay = row[i++].as<std::string>();
  j.fire_limit_max = optional_int(row[i++]);
  j.fire_limit_window = optional_text(row[i++]);
  j.overlap_policy = row[i++].as<std::string>();
  j.misfire_grace_seconds = row[i++].as<int>();
  j.catch_up_policy = row[i++].as<std::string>();
  j.schedule_anchor_us = optional_int64(row[i++]);
  j.next_run_us = optional_int64(row[i++]);
  j.last_run_us = optional_int64(row[i++]);
  j.last_scheduled_us = optional_int64(row[i++]);
  j.last_fire_id = optional_text(row[i++]);
  j.misfire_count = row[i++].as<int>();
  j.last_misfire_us = optional_int64(row[i++]);
  j.scheduler_updated_us = optional_int64(row[i++]);
  j.created_by = row[i++].as<std::string>();
  j.created_us = row[i++].as<std::int64_t>();
  j.updated_us = row[i++].as<std::int64_t>();
  j.requires_approval = row[i++].as<bool>();
  j.approvers = from_json_array(row[i++]);
  return j;
}

std::vector<JobRecord> to_jobs(const pqxx::result& result) {
  std::vector<JobRecord> out;
  for (const auto& row : result) out.push_back(to_job(row));
  return out;
}

// The parameters $2..$25 shared by insert and update, in this order.
#define TETHER_JOB_FIELDS                                                                                        \
  job.name, job.enabled, job.source, job.schedule_mode, job.schedule_expr, job.schedule_interval,                \
      job.schedule_time_us, job.timezone, job.operation_type, job.operation_params_json, to_json_array(job.env_keys), \
      job.env_sealed, to_json_array(job.target_server_ids), to_json_array(job.target_tags), job.max_concurrency,  \
      job.max_errors, job.retry_strategy, job.max_retries, job.retry_base_delay, job.fire_limit_max,             \
      job.fire_limit_window, job.overlap_policy, job.misfire_grace_seconds, job.catch_up_policy,                 \
      job.schedule_anchor_us, job.next_run_us, job.updated_us


}  // namespace

void insert(pqxx::transaction_base& txn, const JobRecord& job) {
  txn.exec_params(
      "INSERT INTO jobs (id, name, enabled, source, schedule_mode, schedule_expr, schedule_interval, schedule_time, "
      "timezone, operation_type, operation_params, env_keys, env_sealed, target_server_ids, target_tags, "
      "max_concurrency, max_errors, retry_strategy, max_retries, retry_base_delay, fire_limit_max, "
      "fire_limit_window, overlap_policy, misfire_grace_seconds, catch_up_policy, schedule_anchor, next_run_at, "
      "updated_at, created_by, created_at, requires_approval, approvers) VALUES ($1, $2, $3, $4, $5, $6, $7, " TETHER_SQL_AT_OR_NULL("$8::bigint") ", "
      "$9, $10, $11::jsonb, ARRAY(SELECT jsonb_array_elements_text($12::jsonb)), $13, "
      "ARRAY(SELECT jsonb_array_elements_text($14::jsonb)::uuid), ARRAY(SELECT jsonb_array_elements_text($15::jsonb)), "
      "$16, $17, $18, $19, $20, $21, $22, $23, $24, $25, " TETHER_SQL_AT_OR_NULL("$26::bigint") ", "
      TETHER_SQL_AT_OR_NULL("$27::bigint") ", " TETHER_SQL_AT("$28") ", $29, " TETHER_SQL_AT("$30") ", "
      "$31, ARRAY(SELECT jsonb_array_elements_text($32::jsonb)))",
      job.id, TETHER_JOB_FIELDS, job.created_by, job.created_us, job.requires_approval, to_json_array(job.approvers));
}

bool update(pqxx::transaction_base& txn, const JobRecord& job) {
  return txn
             .exec_params(
                 "UPDATE jobs SET name = $2, enabled = $3, source = $4, schedule_mode = $5, schedule_expr = $6, "
                 "schedule_interval = $7, schedule_time = " TETHER_SQL_AT_OR_NULL("$8::bigint") ", timezone = $9, "
                 "operation_type = $10, operation_params = $11::jsonb, "
                 "env_keys = ARRAY(SELECT jsonb_array_elements_text($12::jsonb)), env_sealed = $13, "
                 "target_server_ids = ARRAY(SELECT jsonb_array_elements_text($14::jsonb)::uuid), "
                 "target_tags = ARRAY(SELECT jsonb_array_elements_text($15::jsonb)), max_concurrency = $16, "
                 "max_errors = $17, retry_strategy = $18, max_retries = $19, retry_base_delay = $20, "
                 "fire_limit_max = $21, fire_limit_window = $22, overlap_policy = $23, misfire_grace_seconds = $24, "
                 "catch_up_policy = $25, schedule_anchor = " TETHER_SQL_AT_OR_NULL("$26::bigint") ", "
                 "next_run_at = " TETHER_SQL_AT_OR_NULL("$27::bigint") ", updated_at = " TETHER_SQL_AT("$28") ", "
                 "requires_approval = $29, approvers = ARRAY(SELECT jsonb_array_elements_text($30::jsonb)) "
                 "WHERE id = $1",
                 job.id, TETHER_JOB_FIELDS, job.requires_approval, to_json_array(job.approvers))
             .affected_rows() == 1;
}

std::optional<JobRecord> find(pqxx::transaction_base& txn, const std::string& id, bool for_update) {
  auto result = txn.exec_params(std::string("SELECT ") + job_columns + " FROM jobs WHERE id = $1" +
                                    (for_update ? " FOR UPDATE" : ""),
                                id);
  if (result.empty()) return std::nullopt;
  return to_job(result[0]);
}

namespace {
// Unnamed statements: PostgreSQL plans each with its parameters, so a null filter or the first
// page's null position folds away and the index range is exact. ORDER BY names the table's
// columns: a bare `id` would be the output column id::text, whose order no index has.
pqxx::result list_rows(pqxx::transaction_base& txn, const std::string& select, const std::optional<std::string>& source,
                       const PageRequest& page) {
  return txn.exec_params(select +
                             " FROM jobs WHERE ($1::text IS NULL OR source = $1) "
                             "AND ($2::bigint IS NULL OR (created_at, id) < (" TETHER_SQL_AT("$2") ", $3::uuid)) "
                             "ORDER BY jobs.created_at DESC, jobs.id DESC LIMIT $4",
                         source, after_sort(page), after_id(page), read_limit(page));
}
}  // namespace

Page<JobRecord> list(pqxx::transaction_base& txn, const std::optional<std::string>& source, const PageRequest& page) {
  return page_of(to_jobs(list_rows(txn, std::string("SELECT ") + job_columns, source, page)), page.limit,
                 [](const JobRecord& job) { return PageAfter{std::to_string(job.created_us), job.id}; });
}

bool remove(pqxx::transaction_base& txn, const std::string& id) {
  return txn.exec_params("DELETE FROM jobs WHERE id = $1", id).affected_rows() == 1;
}

std::vector<JobRecord> claim_due(pqxx::transaction_base& txn, Clock::time_point now, int limit) {
  return to_jobs(exec_cached(txn, "claim_due_jobs",
                             std::string("SELECT ") + job_columns +
                                 " FROM jobs WHERE enabled AND next_run_at <= " TETHER_SQL_AT("$1") " "
                                 "ORDER BY next_run_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                             epoch_micros(now), limit));
}

std::optional<std::int64_t> earliest_due_us(pqxx::transaction_base& txn) {
  return optional_int64(exec_cached(txn, "earliest_due_job",
                                    "SELECT " TETHER_SQL_US("min(next_run_at)") " FROM jobs "
                                    "WHERE enabled AND next_run_at IS NOT NULL")[0][0]);
}

void record_firing(pqxx::transaction_base& txn, const std::string& id, const Firing& firing) {
  exec_cached(txn, "record_job_firing",
              "UPDATE jobs SET next_run_at = " TETHER_SQL_AT_OR_NULL("$2::bigint") ", enabled = $3, "
              "last_run_at = COALESCE(" TETHER_SQL_AT_OR_NULL("$4::bigint") ", last_run_at), "
              "last_scheduled_at = COALESCE(" TETHER_SQL_AT_OR_NULL("$5::bigint") ", last_scheduled_at), "
              "last_fire_id = COALESCE($6, last_fire_id), misfire_count = misfire_count + $7, "
              "last_misfire_at = CASE WHEN $7 > 0 THEN " TETHER_SQL_AT("$8") " ELSE last_misfire_at END, "
              "scheduler_updated_at = " TETHER_SQL_AT("$8") " WHERE id = $1",
              id, firing.next_run_us, firing.enabled, firing.last_run_us, firing.last_scheduled_us,
              firing.last_fire_id, firing.misfires, firing.now_us);
}

}  // namespace tether::store::jobs
