#pragma once
// Where a secret must never be found: the database (pg_dump), the controller's and agents' logs,
// the agents' state dirs (journal, spool). Shared by the tests of env values, env_overrides and
// registry passwords.
#include "common/crypto.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/tether_stack.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace tether::e2e {

// The forms a secret could take when stored by mistake: as is, hex (bytea in a pg_dump), base64.
inline std::vector<std::string> encodings_of(const std::string& secret) {
  return {secret, crypto::hex_encode(secret), crypto::base64_encode(secret)};
}

inline bool contains_any(const std::string& haystack, const std::vector<std::string>& needles) {
  for (const auto& needle : needles) {
    if (haystack.find(needle) != std::string::npos) return true;
  }
  return false;
}

// Files under `root` whose contents contain the secret in any form; counts the files it read.
inline std::vector<std::string> files_containing(const std::filesystem::path& root,
                                                 const std::vector<std::string>& forms, int& files_read) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    ++files_read;
    if (contains_any(testing::read_file(it->path()), forms)) found.push_back(it->path().string());
  }
  return found;
}

// While an operation that was given the secret is live: no file in the agents' state dirs (its
// journal entry, its output spool) holds it. Once an operation ends the agent forgets it and its
// files go, so only a look while it runs proves anything; hence files must have been read.
inline void check_agent_files_hold_no_secret_while_live(testing::TetherStack& stack, const std::string& secret) {
  const auto forms = encodings_of(secret);
  int files_read = 0;
  for (std::size_t i = 0; i < stack.agent_count(); ++i) {
    INFO("agent " << i + 1);
    CHECK(files_containing(stack.agent(i).state_dir, forms, files_read).empty());
  }
  CHECK(files_read > 0);
}

// The secret, in any of its forms, is in no database row, no log and no agent file left behind.
// The logs must not be empty (an empty log proves nothing). The agents' files of a live
// operation are checked by check_agent_files_hold_no_secret_while_live.
inline void check_stored_nowhere(testing::TetherStack& stack, const std::string& secret) {
  const auto forms = encodings_of(secret);
  CHECK_FALSE(contains_any(stack.database().dump(), forms));
  const std::string controller_log = stack.controller_log();
  CHECK_FALSE(controller_log.empty());
  CHECK_FALSE(contains_any(controller_log, forms));
  for (std::size_t i = 0; i < stack.agent_count(); ++i) {
    INFO("agent " << i + 1);
    const std::string agent_log = stack.agent_log(i);
    CHECK_FALSE(agent_log.empty());
    CHECK_FALSE(contains_any(agent_log, forms));
    int files_read = 0;
    CHECK(files_containing(stack.agent(i).state_dir, forms, files_read).empty());
  }
}

}  // namespace tether::e2e
