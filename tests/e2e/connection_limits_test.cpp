// The controller holds a bounded number of HTTP connections: over --max-connections-per-address
// (from one client address) or --max-connections (in all), a new connection is closed at once
// without an answer, and served again once an earlier one has closed. When accept fails because
// the process is out of file descriptors (EMFILE), the controller backs off instead of spinning
// on the still-readable listening socket and writing a log line per attempt, and serves again
// once descriptors are free.
#include "tests/e2e/e2e_checks.hpp"
#include "tests/support/raw_connection.hpp"
#include "tests/support/wait.hpp"

#include <thread>
#include <vector>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;
using testing::RawConnection;

namespace {

const std::string health_request = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// Opens a connection and asks for /api/health on it; the connection when it was answered 200
// (and stays open, kept alive), nullopt when the controller closed it without an answer.
std::optional<RawConnection> served_connection(std::uint16_t port) {
  RawConnection connection(port);
  if (!connection.send(health_request)) return std::nullopt;
  const auto response = connection.read_response(10s);
  if (!response) return std::nullopt;
  REQUIRE(testing::status_of(*response) == 200);
  return connection;
}

// Whether the controller closes a new connection without answering its request.
bool refused(std::uint16_t port) {
  RawConnection connection(port);
  connection.send(health_request);  // may fail already: the connection can be reset by then
  const auto received = connection.read_until_closed(10s);
  INFO("received: " << received.bytes.substr(0, 300));
  REQUIRE(received.closed);  // not left open
  return received.bytes.empty();
}

// Opens `count` connections that are served and kept open. The stack's own start-up probe may
// still hold its place for a moment after it closed, so a refusal is retried a few times.
std::vector<RawConnection> hold_served(std::uint16_t port, std::size_t count) {
  std::vector<RawConnection> held;
  for (int attempt = 0; held.size() < count && attempt < static_cast<int>(count) + 20; ++attempt) {
    if (auto connection = served_connection(port)) {
      held.push_back(std::move(*connection));
    } else {
      std::this_thread::sleep_for(100ms);
    }
  }
  REQUIRE(held.size() == count);
  return held;
}

void check_cap(testing::TetherStack& stack, std::size_t cap, const std::string& reason) {
  auto held = hold_served(stack.port(), cap);
  CHECK(refused(stack.port()));
  CHECK(refused(stack.port()));
  // The connections under the cap are still served.
  for (auto& connection : held) {
    REQUIRE(connection.send(health_request));
    const auto response = connection.read_response(10s);
    REQUIRE(response);
    CHECK(testing::status_of(*response) == 200);
  }
  // One closes: a new connection takes its place.
  held.pop_back();
  CHECK(testing::wait_until([&] { return served_connection(stack.port()).has_value(); }, 10s, 50ms));
  CHECK_THAT(stack.controller_log(), Catch::Contains("event=connection_refused reason=" + reason));
}

}  // namespace

TEST_CASE("connections from one address over its cap are closed unanswered until one closes", "[e2e][limits]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.agents = 0;
  options.controller_args = {"--max-connections-per-address", "4"};
  testing::TetherStack stack(database, options);
  check_cap(stack, 4, "per_address_limit");
}

TEST_CASE("connections over the total cap are closed unanswered until one closes", "[e2e][limits]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.agents = 0;
  options.controller_args = {"--max-connections", "3", "--max-connections-per-address", "100"};
  testing::TetherStack stack(database, options);
  check_cap(stack, 3, "total_limit");
}

TEST_CASE("out of file descriptors, the controller backs off, logs little and recovers", "[e2e][limits]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.agents = 0;
  options.controller_max_open_files = 64;
  testing::TetherStack stack(database, options);

  // More connections than the controller has descriptors for. The kernel completes each
  // handshake (the listen backlog is deep), so connect succeeds whether or not they are accepted.
  std::vector<RawConnection> held;
  for (int i = 0; i < 120; ++i) held.emplace_back(stack.port());
  const auto ran_out = [&] { return stack.controller_log().find("event=accept_failed") != std::string::npos; };
  REQUIRE(testing::wait_until(ran_out, 10s, 50ms));
  // Held for a while: a spinning accept loop would write thousands of lines by now.
  std::this_thread::sleep_for(3s);
  const auto log = stack.controller_log();
  std::size_t failure_lines = 0;
  for (auto at = log.find("event=accept_failed"); at != std::string::npos; at = log.find("event=accept_failed", at + 1)) {
    ++failure_lines;
  }
  INFO("accept_failed lines: " << failure_lines);
  CHECK(failure_lines <= 2);
  REQUIRE(stack.controller().running());

  held.clear();
  // Idle connections are let go and descriptors come back: the controller serves again.
  CHECK(testing::wait_until([&] { return served_connection(stack.port()).has_value(); }, 20s, 100ms));
  CHECK(testing::wait_until(
      [&] { return stack.controller_log().find("event=accept_recovered") != std::string::npos; }, 10s, 50ms));
}
