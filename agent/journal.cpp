#include "agent/journal.hpp"

#include "common/ids.hpp"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace tether::agent {
namespace fs = std::filesystem;

Journal::Journal(fs::path state_dir) : directory_(std::move(state_dir) / "operations") {
  fs::create_directories(directory_);
  fs::permissions(directory_, fs::perms::owner_all, fs::perm_options::replace);
}

fs::path Journal::record_path(const std::string& operation_id) const { return directory_ / (operation_id + ".json"); }
fs::path Journal::spool_path(const std::string& operation_id) const { return directory_ / (operation_id + ".spool"); }

void Journal::save(const OperationRecord& record, Durability durability) const {
  write_file_atomically(record_path(record.id), encode_record(record), durability);
}

Journal::Loaded Journal::load_all() const {
  Loaded loaded;
  std::set<std::string> recorded_ids;
  std::vector<fs::path> spools;
  for (const auto& entry : fs::directory_iterator(directory_)) {
    const auto path = entry.path();
    const auto extension = path.extension().string();
    if (extension == ".tmp") {
      fs::remove(path);  // a write that never reached its rename
      continue;
    }
    if (extension == ".spool") {
      spools.push_back(path);
      continue;
    }
    if (extension != ".json") continue;
    try {
      std::ifstream in(path);
      std::ostringstream text;
      text << in.rdbuf();
      auto record = decode_record(text.str());
      if (record.id != path.stem().string()) throw std::invalid_argument("id does not match the file name");
      recorded_ids.insert(record.id);
      loaded.records.push_back(std::move(record));
    } catch (const std::exception& error) {
      auto quarantined = path;
      quarantined += ".corrupt";
      std::error_code ignored;
      fs::rename(path, quarantined, ignored);
      loaded.problems.push_back(fmt::format("{}: {} (moved to {})", path.string(), error.what(), quarantined.string()));
    }
  }
  for (const auto& spool : spools) {
    if (!recorded_ids.count(spool.stem().string())) fs::remove(spool);
  }
  return loaded;
}

void Journal::forget(const std::string& operation_id) const {
  // The spool goes first: a record without a spool is harmless, a spool without a record is swept at start-up.
  std::error_code ignored;
  fs::remove(spool_path(operation_id), ignored);
  std::error_code error;
  fs::remove(record_path(operation_id), error);
  if (error) throw std::system_error(error, "cannot delete " + record_path(operation_id).string());
}

}  // namespace tether::agent
