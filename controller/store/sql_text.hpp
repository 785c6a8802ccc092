#pragma once
// Small pieces shared by the store files: timestamp rendering and JSON <-> array conversion.
#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::store {

// SQL expression rendering a timestamptz column as RFC 3339 UTC text (seed 003 format).
#define TETHER_SQL_TS(column) "to_char((" column ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

// The same with microseconds, where ordering within a second matters (runs, jobs' schedules).
#define TETHER_SQL_TS_US(column) "to_char((" column ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

// A time from the caller's clock as a statement parameter: pass epoch_micros(t) and write
// TETHER_SQL_AT("$n") where the timestamptz is wanted (exact: integer microseconds).
#define TETHER_SQL_AT(param) "(timestamptz 'epoch' + (" param ")::bigint * interval '1 microsecond')"
// A timestamptz column read back as epoch microseconds (exact: extract gives a numeric).
#define TETHER_SQL_US(column) "(extract(epoch from " column ") * 1000000)::bigint"
// The same for an optional parameter: NULL stays NULL.
#define TETHER_SQL_AT_OR_NULL(param) "CASE WHEN " param " IS NULL THEN NULL ELSE " TETHER_SQL_AT(param) " END"
inline std::int64_t epoch_micros(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
}
// The way back, for the epoch-microsecond fields of the records (`*_us`).
inline std::chrono::system_clock::time_point from_epoch_micros(std::int64_t micros) {
  return std::chrono::system_clock::time_point(std::chrono::microseconds(micros));
}

std::optional<std::string> optional_text(const pqxx::field& field);
std::optional<int> optional_int(const pqxx::field& field);
std::optional<std::int64_t> optional_int64(const pqxx::field& field);

// Arrays travel as JSON text ($1::jsonb on the way in, array_to_json(col) on the way out), which
// keeps element quoting in one well-tested place (Boost.JSON).
std::string to_json_array(const std::vector<std::string>& values);
std::vector<std::string> from_json_array(const pqxx::field& field);

// Runs `sql` as a named prepared statement: declared on each connection at first use (a repeat
// declaration with the same text is free), planned once by PostgreSQL. For the statements on the
// operation path, where parsing and planning each time costs more than executing.
template <class... Args>
pqxx::result exec_cached(pqxx::transaction_base& txn, const std::string& name, const std::string& sql,
                         Args&&... args) {
  txn.conn().prepare(name, sql);
  return txn.exec_prepared(name, std::forward<Args>(args)...);
}

// For a transaction whose loss in a crash is harmless: commit without waiting for the WAL flush.
void relax_commit_durability(pqxx::transaction_base& txn);

}  // namespace tether::store
