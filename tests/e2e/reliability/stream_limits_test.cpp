// Issue 8: what live output streams may cost and how long they last. Open streams are capped per
// key and in all (429 with Retry-After), the operator route is rate limited, a stream ends soon
// after its key is revoked or expires, many readers that never read cost a bounded amount of the
// controller's memory, and the stream's own timers (keep-alive comment, stalled reader) and its
// `gap` event do what the README says.
#include "tests/e2e/reliability/operations.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/process_usage.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/sse_client.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#ifndef TETHER_CONTROLLER_BINARY
#error "TETHER_CONTROLLER_BINARY must name the tether-controller executable"
#endif

using namespace tether;
using namespace tether::reliability;
using namespace std::chrono_literals;
using testing::SseClient;
using testing::SseRequest;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

// Shell that waits (at most 60 s) until `file` exists.
std::string wait_for_file(const std::filesystem::path& file) {
  return fmt::format("i=0; while [ ! -e {0} ]; do i=$((i+1)); [ $i -le 3000 ] || exit 97; sleep 0.02; done",
                     testing::shell_quote(file.string()));
}

void touch(const std::filesystem::path& file) { std::ofstream(file).put('\n'); }

void check_open(const SseClient& stream) {
  INFO("HTTP " << stream.status() << " " << stream.error_body());
  REQUIRE(stream.status() == 200);
}

// 429 with a Retry-After of whole seconds and a JSON detail.
void check_too_many(const SseClient& stream) {
  INFO("HTTP " << stream.status() << " " << stream.error_body());
  REQUIRE(stream.status() == 429);
  const auto retry_after = stream.header("Retry-After");
  REQUIRE_FALSE(retry_after.empty());
  CHECK(std::stoi(retry_after) >= 1);
  boost::system::error_code ec;
  const auto body = boost::json::parse(stream.error_body(), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(body.is_object());
  REQUIRE(body.as_object().contains("detail"));
}

// Reads events until the server closes the stream; false if it is still open after `within`.
bool closes_within(SseClient& stream, std::chrono::milliseconds within, bool* saw_end = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      const auto event = stream.next(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now() + 1ms));
      if (!event) return true;
      if (saw_end && event->event == "end") *saw_end = true;
    } catch (const std::runtime_error&) {
      return false;  // no event (and no close) before the deadline
    }
  }
  return false;
}

std::string create_operator_key(testing::TetherStack& stack, const std::string& name) {
  const auto created =
      testing::run_command({TETHER_CONTROLLER_BINARY, "admin", "create-key", "--name", name, "--role", "viewer",
                            "--database-url", stack.database().url()},
                           std::chrono::seconds(60), {}, {"TETHER_"});
  INFO(created.err);
  REQUIRE(created.succeeded());
  std::string key = created.out;
  while (!key.empty() && key.back() == '\n') key.pop_back();
  return key;
}

// Every cap small, and the stream timers short, so that each case shows its limit in seconds.
testing::TetherStack& limits_stack() {
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  options.controller_args = {"--max-streams-per-key", "2",          "--max-streams",        "3",
                             "--operator-stream-rate-per-minute", "3", "--stream-keep-alive-seconds", "1",
                             "--max-output-bytes", "65536"};
  return e2e::shared_stack(options);
}

}  // namespace

TEST_CASE("streams over the per-key or the total cap get 429 with Retry-After, and a closed stream frees its place",
          "[e2e][reliability][stream][limits]") {
  auto& stack = limits_stack();
  const auto first_key = stack.create_automation_key({.name = "cap-first"});
  const auto second_key = stack.create_automation_key({.name = "cap-second"});
  const auto go = stack.dir() / "caps.go";
  const auto operation_id = start_running_command(stack, first_key.key, wait_for_file(go));

  auto first_a = std::make_unique<SseClient>(stream_request(stack, v1_target(operation_id), first_key.key));
  check_open(*first_a);
  SseClient first_b(stream_request(stack, v1_target(operation_id), first_key.key));
  check_open(first_b);
  {
    INFO("a third stream of the same key: over --max-streams-per-key 2");
    SseClient refused(stream_request(stack, v1_target(operation_id), first_key.key));
    check_too_many(refused);
  }
  SseClient second_a(stream_request(stack, v1_target(operation_id), second_key.key));
  check_open(second_a);
  {
    INFO("a fourth stream in all, of another key: over --max-streams 3");
    SseClient refused(stream_request(stack, v1_target(operation_id), second_key.key));
    check_too_many(refused);
    SseClient refused_operator(stream_request(stack, operator_target(operation_id), stack.admin_key()));
    check_too_many(refused_operator);
  }
  // The reader goes away; the controller notices at its next write (a keep-alive, every second
  // here) and the key may open a stream again.
  first_a.reset();
  std::optional<SseClient> again;
  const bool admitted = testing::wait_until(
      [&] {
        again.emplace(stream_request(stack, v1_target(operation_id), first_key.key));
        return again->status() == 200;
      },
      15s, 500ms);
  INFO(stack_logs(stack));
  CHECK(admitted);
  // The operation ends and so do the streams, giving their places back for the next cases.
  touch(go);
  CHECK(closes_within(first_b, 30s));
  CHECK(closes_within(second_a, 30s));
  if (again) CHECK(closes_within(*again, 30s));
}

TEST_CASE("the operator stream route is rate limited per key, with Retry-After", "[e2e][reliability][stream][limits]") {
  auto& stack = limits_stack();
  const auto key = stack.create_automation_key({.name = "rate-owner"});
  auto client = stack.client();
  const auto response = testing::exec(client, key.key, e2e::exec_body(stack.server_id(), "echo rated"));
  REQUIRE(response.status == 200);
  const auto operation_id = e2e::string_field(e2e::json_object(response), "operation_id");
  const auto viewer = create_operator_key(stack, "stream-rate-viewer");

  for (int i = 0; i < 3; ++i) {
    INFO("stream request " << i + 1 << " of the 3 a minute allowed");
    SseClient stream(stream_request(stack, operator_target(operation_id) + "?token=" + viewer));
    check_open(stream);
    bool saw_end = false;
    CHECK(closes_within(stream, 10s, &saw_end));
    CHECK(saw_end);
  }
  SseClient refused(stream_request(stack, operator_target(operation_id) + "?token=" + viewer));
  check_too_many(refused);
}

TEST_CASE("a stream ends within a few seconds once its key is revoked or expires", "[e2e][reliability][stream][limits]") {
  auto& stack = limits_stack();
  static int run = 0;  // each section runs the case again, with its own operation
  const auto go = stack.dir() / ("revoke-" + std::to_string(++run) + ".go");
  const auto owner = stack.create_automation_key({.name = "revoke-owner"});
  const auto operation_id = start_running_command(stack, owner.key, wait_for_file(go));

  SECTION("v1 key revoked") {
    const auto reader = stack.create_automation_key({.name = "revoke-reader"});
    SseClient stream(stream_request(stack, v1_target(operation_id), reader.key));
    check_open(stream);
    CHECK_FALSE(closes_within(stream, 1500ms));  // open while the key is valid
    const auto revoked = stack.admin("DELETE", "/api/automation-keys/" + reader.id);
    REQUIRE(revoked.status == 200);
    INFO(stack_logs(stack));
    CHECK(closes_within(stream, 10s));
  }
  SECTION("v1 key expired") {
    const auto expires_at = [] {
      const auto at = std::chrono::system_clock::now() + 6s;
      const auto time = std::chrono::system_clock::to_time_t(at);
      std::tm utc{};
      gmtime_r(&time, &utc);
      char text[32];
      std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
      return std::string(text);
    }();
    const auto reader = stack.create_automation_key({.name = "expiring-reader", .expires_at = expires_at});
    SseClient stream(stream_request(stack, v1_target(operation_id), reader.key));
    check_open(stream);
    INFO(stack_logs(stack));
    CHECK(closes_within(stream, 20s));
  }
  SECTION("operator key revoked") {
    const auto created = stack.admin("POST", "/api/admin/api-keys", R"({"name":"stream-revoked-viewer","role":"viewer"})");
    INFO(created.body);
    REQUIRE(created.status == 201);
    const auto answer = boost::json::parse(created.body);
    const std::string viewer(answer.as_object().at("key").as_string());
    const std::string viewer_id(answer.as_object().at("id").as_string());
    SseClient stream(stream_request(stack, operator_target(operation_id) + "?token=" + viewer));
    check_open(stream);
    CHECK_FALSE(closes_within(stream, 1500ms));
    REQUIRE(stack.admin("DELETE", "/api/admin/api-keys/" + viewer_id).status == 200);
    INFO(stack_logs(stack));
    CHECK(closes_within(stream, 10s));
  }
  touch(go);
}

TEST_CASE("a quiet stream gets a keep-alive comment every interval", "[e2e][reliability][stream][limits]") {
  auto& stack = limits_stack();
  const auto key = stack.create_automation_key({.name = "keep-alive"});
  const auto go = stack.dir() / "keep-alive.go";
  const auto operation_id = start_running_command(stack, key.key, wait_for_file(go));
  SseClient stream(stream_request(stack, v1_target(operation_id), key.key));
  check_open(stream);
  // Comments are not events: next() finds none, but the bytes come (--stream-keep-alive-seconds 1).
  CHECK_THROWS_AS(stream.next(3500ms), std::runtime_error);
  const std::string opening = ": stream of operation " + operation_id + "\n\n";
  const std::string keep_alive = ": keep-alive\n\n";
  const auto after_opening = stream.body_bytes() - opening.size();
  INFO("body bytes " << stream.body_bytes());
  CHECK(after_opening >= 2 * keep_alive.size());
  CHECK(after_opening % keep_alive.size() == 0);
  touch(go);
  CHECK(closes_within(stream, 30s));
}

TEST_CASE("a reader that connects after unstored output was produced gets a gap event for it, then the end",
          "[e2e][reliability][stream][limits]") {
  auto& stack = limits_stack();  // 64 KiB stored per stream
  const auto key = stack.create_automation_key({.name = "gap"});
  auto client = stack.client();
  const auto operation_id = start_running_command(
      stack, key.key, "sleep 1.2; head -c 400000 /dev/zero | tr '\\0' x; echo; echo last-line");
  const auto ended = wait_until_ended(stack, operation_id, 60s);
  REQUIRE(e2e::string_field(ended, "status") == "completed");

  SseClient stream(stream_request(stack, v1_target(operation_id), key.key));
  check_open(stream);
  std::vector<testing::SseEvent> events;
  while (auto event = stream.next(30s)) events.push_back(*event);
  REQUIRE(events.size() >= 3);
  std::int64_t last_output = 0;
  std::size_t stored_bytes = 0;
  std::size_t i = 0;
  for (; i < events.size() && events[i].event == "output"; ++i) {
    const auto data = boost::json::parse(events[i].data).as_object();
    CHECK(e2e::int_field(data, "seq") == last_output + 1);
    last_output = e2e::int_field(data, "seq");
    stored_bytes += e2e::string_field(data, "data").size();
  }
  CHECK(stored_bytes <= 65536);
  REQUIRE(i + 2 == events.size());
  const auto& gap = events[i];
  INFO("gap event: " << gap.data);
  REQUIRE(gap.event == "gap");
  const auto data = boost::json::parse(gap.data).as_object();
  CHECK(e2e::int_field(data, "from_seq") == last_output + 1);
  CHECK(e2e::int_field(data, "to_seq") > last_output + 1);
  CHECK(gap.id == std::to_string(e2e::int_field(data, "to_seq")));
  CHECK_FALSE(e2e::string_field(data, "detail").empty());
  CHECK(events.back().event == "end");

  // Resuming after the gap gives only the end.
  SseClient resumed(stream_request(stack, v1_target(operation_id), key.key, gap.id));
  check_open(resumed);
  const auto next = resumed.next(30s);
  REQUIRE(next);
  CHECK(next->event == "end");
}

TEST_CASE("a reader that takes nothing for the stall timeout is disconnected", "[e2e][reliability][stream][limits]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  options.controller_args = {"--stream-stall-seconds", "2", "--max-output-bytes", "65536"};
  options.agent_args = {"--spool-limit-bytes", "1048576"};
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();
  const auto go = stack.dir() / "stall.go";
  const auto operation_id = start_running_command(
      stack, key.key, fmt::format("{}; head -c {} /dev/zero | tr '\\0' x", wait_for_file(go), 256 * kMiB));

  SseClient stream(stream_request(stack, v1_target(operation_id), key.key));
  check_open(stream);
  touch(go);
  for (int i = 0; i < 5; ++i) REQUIRE(stream.next(30s));
  // The reader stops reading. The socket's buffers fill, and 2 s later the controller lets the
  // reader go: before the hold limit (one 10 s heartbeat interval) could.
  const bool closed = testing::wait_until(
      [&] { return stack.controller_log().find("event=output_stream_closed") != std::string::npos; }, 9s);
  INFO(stack_logs(stack));
  CHECK(closed);
  CHECK(stack.controller_log().find("event=output_stream_dropped") == std::string::npos);
}

TEST_CASE("a hundred readers that never read cost the controller a bounded amount of memory",
          "[e2e][reliability][stream][limits][memory]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  testing::TetherStack stack(database, options);
  // Five keys of 20 streams each: the default per-key cap.
  std::vector<testing::AutomationKey> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back(stack.create_automation_key({.name = "reader-" + std::to_string(i), .rate_limit_per_minute = 1000}));
  }
  // 4 MiB of NUL bytes (each one six bytes of JSON: the costliest output to send) is stored
  // before the readers come, so that each of them replays it; then more follows live.
  const auto go = stack.dir() / "memory.go";
  const auto written = stack.dir() / "memory.written";
  const auto operation_id = start_running_command(
      stack, keys[0].key,
      fmt::format("head -c {} /dev/zero; touch {}; {}; head -c {} /dev/zero", 4 * kMiB,
                  testing::shell_quote(written.string()), wait_for_file(go), 64 * kMiB));
  REQUIRE(testing::wait_until([&] { return std::filesystem::exists(written); }, 30s));
  std::this_thread::sleep_for(2s);  // the agent sends it, the controller stores it

  const pid_t controller = stack.controller().pid();
  const auto baseline = testing::resident_bytes(controller);
  testing::PeakResidentSampler peak(controller, 20ms);
  std::vector<std::unique_ptr<SseClient>> readers;
  for (int i = 0; i < 100; ++i) {
    readers.push_back(std::make_unique<SseClient>(stream_request(stack, v1_target(operation_id), keys[i % 5].key)));
    INFO("reader " << i << ": HTTP " << readers.back()->status() << " " << readers.back()->error_body());
    REQUIRE(readers.back()->status() == 200);
  }
  touch(go);
  std::this_thread::sleep_for(8s);  // nobody reads
  const auto peak_rss = peak.stop();
  const auto growth = peak_rss > baseline ? peak_rss - baseline : 0;
  std::cout << "controller VmRSS with 100 readers that never read: " << baseline / kMiB << " MiB before, peak "
            << peak_rss / kMiB << " MiB (+" << growth / kMiB << " MiB)" << std::endl;
  INFO("controller VmRSS: " << baseline / kMiB << " MiB before, peak " << peak_rss / kMiB << " MiB");
  // The stream buffer budget is 64 MiB; each stream may hold one page and one write beyond it.
  CHECK(growth < 300 * kMiB);
  readers.clear();
  wait_until_ended(stack, operation_id, 120s);
}
