#include "controller/store/run_output_store.hpp"

#include "controller/store/sql_text.hpp"

namespace tether::store::run_output {

RunOutput of_run(pqxx::transaction_base& txn, const std::string& run_id, std::int64_t max_bytes) {
  RunOutput out;
  // `bytes_before` is what the run's earlier chunks hold: a chunk is read only when it starts under
  // the bound, and only its part under the bound. octet_length of a stored bytea is read from its
  // header, without fetching the bytes of the chunks left out.
  const auto result = exec_cached(
      txn, "run_output_of_run",
      "WITH chunks AS ("
      "  SELECT t.attempt, t.ordinal, t.operation_id, t.server_id, c.seq, octet_length(c.data) AS chunk_size, "
      "         sum(octet_length(c.data)) OVER (ORDER BY t.attempt, t.ordinal, c.seq ROWS UNBOUNDED PRECEDING) "
      "           - octet_length(c.data) AS bytes_before, "
      "         sum(octet_length(c.data)) OVER () AS total "
      "  FROM run_targets t JOIN operation_output c ON c.operation_id = t.operation_id "
      "  WHERE t.run_id = $1::uuid AND t.operation_id IS NOT NULL) "
      "SELECT k.operation_id::text, k.server_id::text, s.name, k.attempt, "
      "       substring(c.data FROM 1 FOR least(k.chunk_size, $2::bigint - k.bytes_before)::int), k.total > $2::bigint "
      "FROM chunks k JOIN operation_output c ON c.operation_id = k.operation_id AND c.seq = k.seq "
      "JOIN servers s ON s.id = k.server_id "
      "WHERE k.bytes_before < $2::bigint ORDER BY k.attempt, k.ordinal, k.seq",
      run_id, max_bytes);
  for (const auto& row : result) {
    auto operation_id = row[0].as<std::string>();
    if (out.parts.empty() || out.parts.back().operation_id != operation_id) {
      RunOutputPart part;
      part.operation_id = std::move(operation_id);
      part.server_id = row[1].as<std::string>();
      part.server_name = row[2].as<std::string>();
      part.attempt = row[3].as<int>();
      out.parts.push_back(std::move(part));
    }
    out.parts.back().data += pqxx::binarystring(row[4]).str();
    if (row[5].as<bool>()) out.truncated = true;
  }
  return out;
}

}  // namespace tether::store::run_output
