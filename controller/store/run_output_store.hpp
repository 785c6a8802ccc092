#pragma once
// A run's output as one text: the stored chunks of its operations, stdout and stderr together in
// the order they were produced (one sequence per operation), operation after operation in the
// order of the run's targets (attempt, then target). Bounded: at most `max_bytes` are read,
// however much the run stored.
#include <pqxx/pqxx>

#include <cstdint>
#include <string>
#include <vector>

namespace tether::store {

struct RunOutputPart {
  std::string operation_id;
  std::string server_id;
  std::string server_name;
  int attempt = 1;
  std::string data;  // raw bytes, as the command wrote them
};

struct RunOutput {
  std::vector<RunOutputPart> parts;  // operations with output, in order
  bool truncated = false;            // the run stored more than max_bytes
};

namespace run_output {

RunOutput of_run(pqxx::transaction_base& txn, const std::string& run_id, std::int64_t max_bytes);

}  // namespace run_output
}  // namespace tether::store
