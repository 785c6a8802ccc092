// Operation cgroups on this machine's real cgroup v2 file system (where the test process may make
// them; elsewhere the tests say so and check nothing).
#include "agent/operation_cgroups.hpp"

#include "common/ids.hpp"
#include "orphan_reaping.hpp"
#include "test_cgroups.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tether::agent;
using namespace tether::agent::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string own_cgroup_line() {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("0::", 0) == 0) return line;
  }
  return {};
}

bool has_id(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

TEST_CASE("cgroup detection makes the agent's directory below its own cgroup, or says why it cannot",
          "[agent][cgroup]") {
  tether::testing::TempDir dir("agent-cgroups");
  std::string why_not;
  const auto cgroups = OperationCgroups::detect(dir.path(), why_not);
  if (!cgroups) {
    CHECK_FALSE(why_not.empty());
    WARN("this machine gives the agent no cgroups: " << why_not);
    return;
  }
  CHECK(why_not.empty());
  CHECK(fs::is_directory(cgroups->base()));
  CHECK(fs::exists(cgroups->base() / "cgroup.kill"));
  CHECK_THAT(cgroups->base().filename().string(), Catch::StartsWith("tether-"));
  // Below the test process's own cgroup, and the probe is gone.
  const auto own = own_cgroup_line().substr(3);
  if (own != "/") CHECK_THAT(cgroups->base().parent_path().string(), Catch::EndsWith(own));
  CHECK(cgroups->operation_ids().empty());

  // The same state dir names the same directory (a restarted agent finds its predecessor's).
  std::string again_why_not;
  const auto again = OperationCgroups::detect(dir.path(), again_why_not);
  REQUIRE(again);
  CHECK(again->base() == cgroups->base());
}

TEST_CASE("an operation cgroup holds what is born in it, even after setsid, until kill_and_remove", "[agent][cgroup]") {
  TETHER_REQUIRE_CGROUPS_OR_RETURN();
  become_subreaper();
  const auto id = tether::ids::new_uuid();
  std::string error;
  const auto cgroup = test_cgroups()->create(id, error);
  REQUIRE(cgroup);
  CHECK(error.empty());
  CHECK_FALSE(cgroup->populated());
  CHECK(has_id(test_cgroups()->operation_ids(), id));

  tether::testing::TempDir dir("agent-cgroups");
  const auto pid_file = dir / "escaped.pid";
  const pid_t shell = start_in_cgroup(*cgroup, "setsid sleep 100 & echo $! > '" + pid_file.string() + "'; wait");
  const pid_t escaped = read_pid_file(pid_file, 2s);
  // A session of its own, out of the shell's process group (once setsid(1) has run).
  CHECK(tether::testing::wait_until([&] { return ::getsid(escaped) == escaped; }, 2s));
  CHECK(cgroup->populated());
  CHECK(test_cgroups()->populated(id));

  test_cgroups()->kill_and_remove(id);
  for (const pid_t pid : {shell, escaped}) {
    const auto status = reap(pid, 3s);
    REQUIRE(status.has_value());
    CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
  }
  CHECK_FALSE(fs::exists(cgroup->path()));
  CHECK_FALSE(has_id(test_cgroups()->operation_ids(), id));
}

TEST_CASE("an operation cgroup sends other signals to each of its processes and is removed once empty",
          "[agent][cgroup]") {
  TETHER_REQUIRE_CGROUPS_OR_RETURN();
  std::string error;
  auto cgroup = test_cgroups()->create(tether::ids::new_uuid(), error);
  REQUIRE(cgroup);
  const pid_t shell = start_in_cgroup(*cgroup, "sleep 100");
  REQUIRE(tether::testing::wait_until([&] { return cgroup->populated(); }, 2s));
  CHECK_FALSE(cgroup->remove());  // still busy

  cgroup->signal_all(SIGTERM);
  const auto status = reap(shell, 3s);
  REQUIRE(status.has_value());
  CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGTERM));
  CHECK(tether::testing::wait_until([&] { return !cgroup->populated(); }, 2s));
  CHECK(cgroup->remove());
  CHECK_FALSE(fs::exists(cgroup->path()));
  CHECK(cgroup->remove());  // already gone counts as removed
}

TEST_CASE("creating an operation cgroup replaces a leftover of the same id and refuses names that are not plain",
          "[agent][cgroup]") {
  TETHER_REQUIRE_CGROUPS_OR_RETURN();
  const auto id = tether::ids::new_uuid();
  std::string error;
  auto leftover = test_cgroups()->create(id, error);
  REQUIRE(leftover);
  const pid_t old_command = start_in_cgroup(*leftover, "sleep 100");

  auto fresh = test_cgroups()->create(id, error);
  REQUIRE(fresh);
  const auto status = reap(old_command, 3s);
  REQUIRE(status.has_value());
  CHECK(WIFSIGNALED(*status));
  CHECK_FALSE(fresh->populated());
  CHECK(fresh->remove());

  for (const std::string bad : {"../escape", "a/b", "", "op id"}) {
    CHECK_FALSE(test_cgroups()->create(bad, error));
    CHECK(error == "the operation id cannot name a cgroup");
  }
}
