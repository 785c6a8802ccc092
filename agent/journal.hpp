#pragma once
// The operation journal: one JSON record per operation in DIR/operations/<id>.json, next to its
// output spool DIR/operations/<id>.spool. A record is written before the agent answers `accepted`,
// so an operation id found here is never started again (PROTOCOL.md rule 1).
#include "agent/durable_file.hpp"
#include "agent/operation_record.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace tether::agent {

class Journal {
 public:
  // Creates DIR/operations (mode 0700) when missing.
  explicit Journal(std::filesystem::path state_dir);

  // Throws std::system_error when the record cannot be written.
  void save(const OperationRecord& record, Durability durability) const;

  struct Loaded {
    std::vector<OperationRecord> records;
    std::vector<std::string> problems;  // one readable line per file that could not be used
  };
  // Reads every record. An unreadable record is renamed to <id>.json.corrupt (kept for a human,
  // never loaded again); leftover temporary files and spools without a record are deleted.
  Loaded load_all() const;

  // Deletes the operation's record and spool. Missing files are not an error.
  void forget(const std::string& operation_id) const;

  std::filesystem::path record_path(const std::string& operation_id) const;
  std::filesystem::path spool_path(const std::string& operation_id) const;
  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::filesystem::path directory_;
};

}  // namespace tether::agent
