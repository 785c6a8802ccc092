#include "controller/store/operation_store.hpp"

#include "common/json_fields.hpp"
#include "controller/store/keyed_page.hpp"
#include "controller/store/sql_text.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

namespace tether::store::operations {
namespace {

const char* const operation_columns =
    "o.id::text, o.type, o.server_id::text, s.name, o.status, o.exit_code, o.duration_ms, o.timeout_seconds, "
    "o.run_id, o.run_context::text, o.error, o.params::text, array_to_json(o.env_keys)::text, o.output_seq, "
    "o.stdout_truncated, o.stderr_truncated, " TETHER_SQL_TS("o.created_at") ", " TETHER_SQL_TS(
        "o.started_at") ", " TETHER_SQL_TS("o.completed_at") ", o.created_by, o.automation_run_id::text, o.run_attempt";

constexpr int operation_column_count = 22;  // the columns of operation_columns, read by operation_record

OperationRecord operation_record(const pqxx::row& row) {
  OperationRecord r;
  r.id = row[0].as<std::string>();
  r.type = row[1].as<std::string>();
  r.server_id = row[2].as<std::string>();
  r.server_name = row[3].as<std::string>();
  r.status = row[4].as<std::string>();
  r.exit_code = optional_int(row[5]);
  r.duration_ms = optional_int64(row[6]);
  r.timeout_seconds = row[7].as<int>();
  r.run_id = optional_text(row[8]);
  r.run_context_json = optional_text(row[9]);
  r.error = optional_text(row[10]);
  r.params_json = row[11].as<std::string>();
  r.env_keys = from_json_array(row[12]);
  r.output_seq = row[13].as<std::uint64_t>();
  r.stdout_truncated = row[14].as<bool>();
  r.stderr_truncated = row[15].as<bool>();
  r.created_at = row[16].as<std::string>();
  r.started_at = optional_text(row[17]);
  r.completed_at = optional_text(row[18]);
  r.created_by = row[19].as<std::string>();
  r.automation_run_id = optional_text(row[20]);
  r.run_attempt = optional_int(row[21]);
  return r;
}

std::vector<std::string> id_column(const pqxx::result& result) {
  std::vector<std::string> ids;
  for (const auto& row : result) ids.push_back(row[0].as<std::string>());
  return ids;
}

std::vector<StoredProgress> progress_rows(const pqxx::result& result) {
  std::vector<StoredProgress> out;
  for (const auto& row : result) {
    out.push_back(StoredProgress{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::uint64_t>(), true,
                                 row[3].as<bool>()});
  }
  return out;
}

}  // namespace

void insert(pqxx::transaction_base& txn, const NewOperation& op) {
  exec_cached(txn, "insert_operation",
      "INSERT INTO operations (id, type, server_id, params, env_keys, status, timeout_seconds, run_id, "
      "run_context, created_by, automation_key_id, dispatched_at, automation_run_id, run_attempt) "
      "VALUES ($1, $2, $3, $4::jsonb, ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6, $7, $8, $9::jsonb, "
      "$10, $11::uuid, CASE WHEN $6 = 'dispatched' THEN now() END, $12::uuid, $13)",
      op.id, op.type, op.server_id, op.params_json, to_json_array(op.env_keys), op.status, op.timeout_seconds,
      op.run_id, op.run_context_json, op.created_by, op.automation_key_id, op.automation_run_id, op.run_attempt);
}

void insert_many(pqxx::transaction_base& txn, const std::vector<NewOperation>& ops) {
  if (ops.empty()) return;
  boost::json::array rows;
  for (const auto& op : ops) {
    boost::json::array env_keys;
    for (const auto& key : op.env_keys) env_keys.emplace_back(key);
    const auto optional = [](const std::optional<std::string>& v) {
      return v ? boost::json::value(*v) : boost::json::value(nullptr);
    };
    rows.push_back(boost::json::object{
        {"id", op.id},
        {"type", op.type},
        {"server_id", op.server_id},
        {"params", boost::json::parse(op.params_json)},
        {"env_keys", std::move(env_keys)},
        {"status", op.status},
        {"timeout_seconds", op.timeout_seconds},
        {"run_id", optional(op.run_id)},
        {"run_context", op.run_context_json ? boost::json::parse(*op.run_context_json) : boost::json::value(nullptr)},
        {"created_by", op.created_by},
        {"automation_key_id", optional(op.automation_key_id)},
        {"automation_run_id", optional(op.automation_run_id)},
        {"run_attempt", op.run_attempt ? boost::json::value(*op.run_attempt) : boost::json::value(nullptr)}});
  }
  exec_cached(txn, "insert_operations",
      "INSERT INTO operations (id, type, server_id, params, env_keys, status, timeout_seconds, run_id, "
      "run_context, created_by, automation_key_id, dispatched_at, automation_run_id, run_attempt) "
      "SELECT (r->>'id')::uuid, r->>'type', (r->>'server_id')::uuid, r->'params', "
      "ARRAY(SELECT jsonb_array_elements_text(r->'env_keys')), r->>'status', (r->>'timeout_seconds')::int, "
      "r->>'run_id', NULLIF(r->'run_context', 'null'::jsonb), r->>'created_by', (r->>'automation_key_id')::uuid, "
      "CASE WHEN r->>'status' = 'dispatched' THEN now() END, (r->>'automation_run_id')::uuid, "
      "(r->>'run_attempt')::int FROM jsonb_array_elements($1::jsonb) r",
      json::serialize(rows));
}

std::optional<OperationRecord> find(pqxx::transaction_base& txn, const std::string& id, bool with_output) {
  auto result = exec_cached(txn, "operation_by_id",
                            std::string("SELECT ") + operation_columns +
                                " FROM operations o JOIN servers s ON s.id = o.server_id WHERE o.id = $1",
                            id);
  if (result.empty()) return std::nullopt;
  auto record = operation_record(result[0]);
  if (with_output && record.output_seq > 0) {
    for (const auto& row : exec_cached(txn, "operation_output_by_id",
                                       "SELECT stream, string_agg(data, ''::bytea ORDER BY seq) FROM operation_output "
                                       "WHERE operation_id = $1 GROUP BY stream",
                                       id)) {
      pqxx::binarystring bytes(row[1]);
      (row[0].as<int>() == 1 ? record.stdout_data : record.stderr_data) = bytes.str();
    }
  }
  return record;
}

Page<OperationRecord> list(pqxx::transaction_base& txn, const ListFilter& filter, const PageRequest& page) {
  std::vector<Keyed<OperationRecord>> rows;
  const auto head = [](int stream) {
    return fmt::format(
        "(SELECT substring(string_agg(data, ''::bytea ORDER BY seq) from 1 for $4) FROM operation_output "
        "WHERE operation_id = o.id AND stream = {})",
        stream);
  };
  // Planned with its parameters: a filter or a start that is not set folds away.
  for (const auto& row : txn.exec_params(
           std::string("SELECT ") + operation_columns + ", " + head(1) + ", " + head(2) +
               ", " TETHER_SQL_US("o.created_at") " FROM operations o JOIN servers s ON s.id = o.server_id "
               "WHERE ($1::text IS NULL OR o.run_id = $1) AND ($2::uuid IS NULL OR o.automation_key_id = $2::uuid) "
               "AND ($5::bigint IS NULL OR (o.created_at, o.id) < (" TETHER_SQL_AT("$5") ", $6::uuid)) "
               "ORDER BY o.created_at DESC, o.id DESC LIMIT $3",
           filter.run_id, filter.automation_key_id, page.limit + 1, filter.output_head_bytes, after_sort(page),
           after_id(page))) {
    auto record = operation_record(row);
    // The heads and the sort key follow the operation's own columns.
    constexpr int head_column = operation_column_count;
    if (!row[head_column].is_null()) record.stdout_data = pqxx::binarystring(row[head_column]).str();
    if (!row[head_column + 1].is_null()) record.stderr_data = pqxx::binarystring(row[head_column + 1]).str();
    PageAfter key{row[head_column + 2].as<std::string>(), record.id};
    rows.push_back({std::move(record), std::move(key)});
  }
  return keyed_page(std::move(rows), page.limit);
}

bool mark_dispatched(pqxx::transaction_base& txn, const std::string& id) {
  return txn
             .exec_params(
                 "UPDATE operations SET status = 'dispatched', dispatched_at = now() "
                 "WHERE id = $1 AND status = 'queued'",
                 id)
             .affected_rows() == 1;
}

ForeignOperation::ForeignOperation(std::string operation_id_, std::string owner_server_id_)
    : AgentReportRefused("operation " + operation_id_ + " belongs to another server"),
      operation_id(std::move(operation_id_)),
      owner_server_id(std::move(owner_server_id_)) {}

namespace {

// Called when a statement scoped to `server_id` touched nothing: an id of another server's
// operation is refused loudly; an unknown id, or one of this server's that has moved on, is not.
void refuse_if_foreign(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id) {
  const auto owner = exec_cached(txn, "operation_owner", "SELECT server_id::text FROM operations WHERE id = $1", id);
  if (!owner.empty() && owner[0][0].as<std::string>() != server_id) {
    throw ForeignOperation(id, owner[0][0].as<std::string>());
  }
}

}  // namespace

bool mark_running(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id, bool started) {
  const bool updated = exec_cached(txn, "mark_operation_running",
                                   "UPDATE operations SET status = 'running', "
                                   "started_at = CASE WHEN $3 THEN coalesce(started_at, now()) ELSE started_at END "
                                   "WHERE id = $1 AND server_id = $2 AND status IN ('dispatched', 'running')",
                                   id, server_id, started)
                           .affected_rows() == 1;
  if (!updated) refuse_if_foreign(txn, server_id, id);
  return updated;
}

std::optional<AppendedOutput> append_output(pqxx::transaction_base& txn, const std::string& server_id,
                                            const std::string& id, const std::vector<OutputChunk>& chunks,
                                            const OutputLimits& limits) {
  auto found = exec_cached(txn, "lock_operation_output",
                           "SELECT output_seq, stdout_bytes, stderr_bytes, stdout_truncated, stderr_truncated "
                           "FROM operations WHERE id = $1 AND server_id = $2 AND status <> 'queued' FOR UPDATE",
                           id, server_id);
  if (found.empty()) {
    refuse_if_foreign(txn, server_id, id);
    return std::nullopt;
  }
  const auto& row = found[0];
  const auto previous_seq = row[0].as<std::uint64_t>();
  std::uint64_t seq = previous_seq;
  std::int64_t bytes[3] = {0, row[1].as<std::int64_t>(), row[2].as<std::int64_t>()};
  bool truncated[3] = {false, row[3].as<bool>(), row[4].as<bool>()};
  bool changed = false;
  for (const auto& chunk : chunks) {
    if (chunk.seq <= seq) continue;  // already stored: a resend after a reconnect
    if (chunk.seq != seq + 1) {
      throw OutputOutOfSequence(fmt::format("output chunk {} of operation {} arrived while chunk {} was expected",
                                            chunk.seq, id, seq + 1));
    }
    seq = chunk.seq;
    changed = true;
    const int s = chunk.stream;
    const std::int64_t room = limits.max_bytes_per_stream - bytes[s];
    if (room <= 0) {
      truncated[s] = true;
      continue;
    }
    std::string_view data = chunk.data;
    if (static_cast<std::int64_t>(data.size()) > room) {
      data = data.substr(0, static_cast<std::size_t>(room));
      truncated[s] = true;
    }
    txn.exec_params("INSERT INTO operation_output (operation_id, seq, stream, data) VALUES ($1, $2, $3, $4)", id,
                    chunk.seq, s, pqxx::binarystring(data.data(), data.size()));
    bytes[s] += static_cast<std::int64_t>(data.size());
  }
  if (changed) {
    txn.exec_params(
        "UPDATE operations SET output_seq = $2, stdout_bytes = $3, stderr_bytes = $4, stdout_truncated = $5, "
        "stderr_truncated = $6 WHERE id = $1",
        id, seq, bytes[1], bytes[2], truncated[1], truncated[2]);
  }
  return AppendedOutput{previous_seq, seq};
}

std::vector<OutputChunk> output_after(pqxx::transaction_base& txn, const std::string& id, std::uint64_t after_seq,
                                      int max_chunks) {
  std::vector<OutputChunk> chunks;
  for (const auto& row : exec_cached(txn, "operation_output_after",
                                     "SELECT seq, stream, data FROM operation_output "
                                     "WHERE operation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                                     id, after_seq, max_chunks)) {
    chunks.push_back(OutputChunk{row[0].as<std::uint64_t>(), row[1].as<int>(), pqxx::binarystring(row[2]).str()});
  }
  return chunks;
}

bool complete(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id,
              const Completion& completion) {
  const bool updated =
      exec_cached(txn, "complete_operation",
                  "UPDATE operations SET status = $3, exit_code = $4, duration_ms = $5, error = $6, "
                  "completed_at = now(), started_at = coalesce(started_at, now()) "
                  "WHERE id = $1 AND server_id = $2 AND status IN ('dispatched', 'running')",
                  id, server_id, completion.status, completion.exit_code, completion.duration_ms, completion.error)
          .affected_rows() == 1;
  if (!updated) refuse_if_foreign(txn, server_id, id);
  return updated;
}

bool fail(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id, const std::string& error) {
  return complete(txn, server_id, id, {"failed", std::nullopt, std::nullopt, error});
}

bool finish(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id,
            const Completion& completion, std::uint64_t last_seq) {
  const auto stored = exec_cached(txn, "operation_output_seq_on_server",
                                  "SELECT output_seq FROM operations WHERE id = $1 AND server_id = $2 FOR UPDATE", id,
                                  server_id);
  if (stored.empty()) {
    refuse_if_foreign(txn, server_id, id);
    return false;
  }
  if (const auto output_seq = stored[0][0].as<std::uint64_t>(); output_seq < last_seq) {
    throw OutputOutOfSequence(fmt::format("finished of operation {} names output up to chunk {}, but only {} arrived",
                                          id, last_seq, output_seq));
  }
  return complete(txn, server_id, id, completion);
}

bool cancel_queued(pqxx::transaction_base& txn, const std::string& id) {
  return txn
             .exec_params(
                 "UPDATE operations SET status = 'canceled', completed_at = now(), cancel_requested_at = now(), "
                 "error = 'canceled before it reached the agent' WHERE id = $1 AND status = 'queued'",
                 id)
             .affected_rows() == 1;
}

bool request_cancel(pqxx::transaction_base& txn, const std::string& id) {
  return txn
             .exec_params(
                 "UPDATE operations SET cancel_requested_at = coalesce(cancel_requested_at, now()) "
                 "WHERE id = $1 AND status IN ('dispatched', 'running')",
                 id)
             .affected_rows() == 1;
}

std::vector<StoredProgress> open_for_server(pqxx::transaction_base& txn, const std::string& server_id) {
  return progress_rows(txn.exec_params(
      "SELECT id::text, status, output_seq, cancel_requested_at IS NOT NULL FROM operations WHERE server_id = $1 "
      "AND status IN ('dispatched', 'running') ORDER BY created_at",
      server_id));
}

std::vector<StoredProgress> progress_on_server(pqxx::transaction_base& txn, const std::string& server_id,
                                               const std::vector<std::string>& ids) {
  auto own = progress_rows(exec_cached(txn, "operation_progress_on_server",
      "SELECT id::text, status, output_seq, cancel_requested_at IS NOT NULL FROM operations "
      "WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::uuid)) AND server_id = $2",
      to_json_array(ids), server_id));
  if (own.size() < ids.size()) {
    const auto foreign = exec_cached(txn, "foreign_operation_of",
        "SELECT id::text, server_id::text FROM operations "
        "WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::uuid)) AND server_id <> $2 LIMIT 1",
        to_json_array(ids), server_id);
    if (!foreign.empty()) throw ForeignOperation(foreign[0][0].as<std::string>(), foreign[0][1].as<std::string>());
  }
  return own;
}

std::vector<StoredProgress> progress_of(pqxx::transaction_base& txn, const std::vector<std::string>& ids) {
  return progress_rows(exec_cached(txn, "operation_progress",
      "SELECT id::text, status, output_seq, cancel_requested_at IS NOT NULL FROM operations "
      "WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::uuid))",
      to_json_array(ids)));
}

std::vector<std::string> queued_for_server(pqxx::transaction_base& txn, const std::string& server_id) {
  return id_column(txn.exec_params(
      "SELECT id::text FROM operations WHERE server_id = $1 AND status = 'queued' ORDER BY created_at", server_id));
}

std::vector<std::string> fail_expired_queued(pqxx::transaction_base& txn, Clock::time_point now) {
  return id_column(txn.exec_params(
      "UPDATE operations SET status = 'failed', completed_at = " TETHER_SQL_AT("$1") ", "
      "error = 'the server''s agent did not connect before the operation''s deadline' "
      "WHERE status = 'queued' AND created_at + make_interval(secs => timeout_seconds) < " TETHER_SQL_AT("$1") " "
      "RETURNING id::text",
      epoch_micros(now)));
}

std::vector<std::string> time_out_overdue_reboots(pqxx::transaction_base& txn, Clock::time_point now) {
  return id_column(txn.exec_params(
      "UPDATE operations o SET status = 'timeout', completed_at = " TETHER_SQL_AT("$1") ", "
      "error = 'the server did not come back under a new boot id within ' || o.timeout_seconds || ' s' "
      "WHERE o.type = 'reboot' AND o.status IN ('dispatched', 'running') "
      "AND o.created_at + make_interval(secs => o.timeout_seconds) < " TETHER_SQL_AT("$1") " "
      "AND NOT EXISTS (SELECT 1 FROM agent_sessions a WHERE a.server_id = o.server_id) "
      "RETURNING o.id::text",
      epoch_micros(now)));
}

std::vector<std::string> fail_overdue_unconnected(pqxx::transaction_base& txn, Clock::time_point now,
                                                  int grace_seconds) {
  return id_column(txn.exec_params(
      "UPDATE operations o SET status = 'failed', completed_at = " TETHER_SQL_AT("$2") ", "
      "error = 'the server''s agent did not report the result before the deadline' "
      "WHERE o.status IN ('dispatched', 'running') "
      "AND o.created_at + make_interval(secs => o.timeout_seconds + $1) < " TETHER_SQL_AT("$2") " "
      "AND NOT EXISTS (SELECT 1 FROM agent_sessions a WHERE a.server_id = o.server_id) "
      "RETURNING o.id::text",
      grace_seconds, epoch_micros(now)));
}

}  // namespace tether::store::operations
