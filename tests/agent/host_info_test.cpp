#include "agent/host_info.hpp"
#include "agent/process_identity.hpp"

#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <fstream>

using namespace tether::agent;

TEST_CASE("os-release PRETTY_NAME is read unquoted", "[agent][host]") {
  CHECK(os_release_pretty_name("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n") ==
        "Debian GNU/Linux 12 (bookworm)");
  CHECK(os_release_pretty_name("PRETTY_NAME='Single quoted'\n") == "Single quoted");
  CHECK(os_release_pretty_name("PRETTY_NAME=Bare\n") == "Bare");
  CHECK(os_release_pretty_name("PRETTY_NAME=\"Has \\\"quotes\\\"\"\n") == "Has \"quotes\"");
  CHECK(os_release_pretty_name("NAME=x\n").empty());
}

TEST_CASE("host info reports this machine's kernel, arch and the boot id file's line", "[agent][host]") {
  tether::testing::TempDir dir("agent-host");
  std::ofstream(dir / "boot_id") << "  5f2c7a0e-0000-4000-8000-000000000001\n";
  const auto info = read_host_info((dir / "boot_id").string());
  CHECK(info.boot_id == "5f2c7a0e-0000-4000-8000-000000000001");
  CHECK_FALSE(info.hostname.empty());
  CHECK_FALSE(info.kernel.empty());
  CHECK_FALSE(info.arch.empty());
  CHECK(read_host_info((dir / "missing").string()).boot_id.empty());
}

TEST_CASE("process start time is field 22 of /proc/<pid>/stat even with odd command names", "[agent][host]") {
  const std::string line = "4242 (evil) name (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
  CHECK(parse_stat_start_ticks(line) == 987654u);
  CHECK_FALSE(parse_stat_start_ticks("garbage").has_value());
  CHECK_FALSE(parse_stat_start_ticks("1 (x) S 1 2").has_value());
}

TEST_CASE("a process is recognised by pid and start time, not by pid alone", "[agent][host]") {
  const auto ticks = process_start_ticks(::getpid());
  REQUIRE(ticks.has_value());
  CHECK(is_same_process(ProcessIdentity{::getpid(), ::getpgrp(), *ticks}));
  CHECK_FALSE(is_same_process(ProcessIdentity{::getpid(), ::getpgrp(), *ticks + 1}));
  CHECK_FALSE(is_same_process(ProcessIdentity{0, 0, 0}));
}
