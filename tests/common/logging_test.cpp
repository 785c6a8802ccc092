// Log lines stay one line whatever a value carries, and quote() keeps a peer's value from posing
// as another key=value field (issue 8: a newline in a hello's hostname forged a log line).
#include "common/logging.hpp"

#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

using namespace tether;

namespace {

// Runs `log` with the logger writing to a file in place of stderr; returns what it wrote.
template <class Log>
std::string logged(Log log) {
  testing::TempDir dir("logging-test");
  const auto path = dir / "stderr";
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  REQUIRE(std::freopen(path.c_str(), "w", stderr) != nullptr);
  spdlog::drop("logging-test");
  logging::init("logging-test", "info");
  log();
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("control characters in a log message are escaped so one event stays one line", "[logging]") {
  const auto text = logged([] { spdlog::info("event=agent_connected hostname={}", "web\n2026-12-01 info forged\r\x01"); });
  INFO(text);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(text.find("hostname=web\\n2026-12-01 info forged\\r\\x01") != std::string::npos);
}

TEST_CASE("quote escapes quotes, backslashes and control characters", "[logging]") {
  CHECK(logging::quote("web-1") == "\"web-1\"");
  CHECK(logging::quote("a\" event=forged x=\"b") == "\"a\\\" event=forged x=\\\"b\"");
  CHECK(logging::quote("back\\slash\n") == "\"back\\\\slash\\n\"");
}
