#include "controller/store/system_automation_store.hpp"

#include "controller/store/sql_text.hpp"

namespace tether::store::system_automations {

std::vector<Row> load(pqxx::transaction_base& txn, const std::vector<std::string>& keys) {
  std::vector<Row> out;
  for (const auto& row : txn.exec_params(
           "SELECT key, paused, " TETHER_SQL_US("last_started_at") ", " TETHER_SQL_US("last_completed_at")
           ", last_duration_ms, last_error, last_instance, metrics::text, runs, failures "
           "FROM system_automations WHERE key = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))",
           to_json_array(keys))) {
    Row r;
    r.key = row[0].as<std::string>();
    r.paused = row[1].as<bool>();
    r.last_started_us = optional_int64(row[2]);
    r.last_completed_us = optional_int64(row[3]);
    r.last_duration_ms = optional_int64(row[4]);
    r.last_error = optional_text(row[5]);
    r.last_instance = optional_text(row[6]);
    r.metrics_json = row[7].as<std::string>();
    r.runs = row[8].as<std::int64_t>();
    r.failures = row[9].as<std::int64_t>();
    out.push_back(std::move(r));
  }
  return out;
}

LockAttempt try_lock(pqxx::connection& connection, const std::string& key) {
  pqxx::nontransaction txn(connection);
  const auto row = txn.exec_params1(
      "SELECT pg_try_advisory_lock(hashtext('tether.automation'), hashtext($1)), "
      "coalesce((SELECT paused FROM system_automations WHERE key = $1), false)",
      key);
  return {row[0].as<bool>(), row[1].as<bool>()};
}

void unlock(pqxx::connection& connection, const std::string& key) {
  pqxx::nontransaction txn(connection);
  txn.exec_params("SELECT pg_advisory_unlock(hashtext('tether.automation'), hashtext($1))", key);
}

void set_paused(pqxx::transaction_base& txn, const std::string& key, bool paused, Clock::time_point now,
                const std::string& by) {
  txn.exec_params(
      "INSERT INTO system_automations (key, paused, paused_at, paused_by) VALUES ($1, $2, "
      "CASE WHEN $2 THEN " TETHER_SQL_AT("$3") " END, CASE WHEN $2 THEN $4 END) "
      "ON CONFLICT (key) DO UPDATE SET paused = EXCLUDED.paused, paused_at = EXCLUDED.paused_at, "
      "paused_by = EXCLUDED.paused_by",
      key, paused, epoch_micros(now), by);
}

void record_pass(pqxx::transaction_base& txn, const PassRecord& pass) {
  const auto duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(pass.completed - pass.started).count();
  txn.exec_params(
      "INSERT INTO system_automations AS a (key, last_started_at, last_completed_at, last_duration_ms, last_error, "
      "last_instance, metrics, runs, failures) VALUES ($1, " TETHER_SQL_AT("$2") ", " TETHER_SQL_AT("$3")
      ", $4, $5::text, $6, coalesce($7::jsonb, '{}'), 1, CASE WHEN $5::text IS NULL THEN 0 ELSE 1 END) "
      "ON CONFLICT (key) DO UPDATE SET last_started_at = EXCLUDED.last_started_at, "
      "last_completed_at = EXCLUDED.last_completed_at, last_duration_ms = EXCLUDED.last_duration_ms, "
      "last_error = EXCLUDED.last_error, last_instance = EXCLUDED.last_instance, "
      "metrics = CASE WHEN $7::jsonb IS NULL THEN a.metrics ELSE $7::jsonb END, runs = a.runs + 1, "
      "failures = a.failures + EXCLUDED.failures",
      pass.key, epoch_micros(pass.started), epoch_micros(pass.completed), duration_ms, pass.error, pass.instance,
      pass.error ? std::optional<std::string>() : std::optional<std::string>(pass.metrics_json));
}

SessionReconciliation reconcile_sessions(pqxx::transaction_base& txn, const std::string& instance,
                                         const std::vector<std::string>& held, int grace_seconds) {
  SessionReconciliation out;
  out.held = static_cast<int>(held.size());
  const auto held_json = to_json_array(held);
  out.dropped = static_cast<int>(
      txn.exec_params("DELETE FROM agent_sessions WHERE controller_instance = $1 "
                      "AND server_id::text NOT IN (SELECT jsonb_array_elements_text($2::jsonb)) "
                      "AND connected_at < now() - make_interval(secs => $3)",
                      instance, held_json, grace_seconds)
          .affected_rows());
  out.claimed = static_cast<int>(
      txn.exec_params(
             "INSERT INTO agent_sessions (server_id, controller_instance) "
             "SELECT s.id, $1::text FROM servers s WHERE s.id::text IN (SELECT jsonb_array_elements_text($2::jsonb)) "
             "ON CONFLICT (server_id) DO UPDATE SET controller_instance = EXCLUDED.controller_instance, "
             "connected_at = now() WHERE agent_sessions.controller_instance <> EXCLUDED.controller_instance",
             instance, held_json)
          .affected_rows());
  return out;
}

}  // namespace tether::store::system_automations
