// Issue 9: ad hoc fan-out runs (POST /api/automation/runs) over six real agents whose servers are
// tagged `web`: rate.max_concurrency bounds how many operations run at once, rate.max_errors stops
// a failing run, POST /runs/{id}/cancel stops every operation of a run, and the run's event stream
// (GET /runs/{id}/stream) carries every operation's output and resumes after Last-Event-ID.
#include "tests/e2e/jobs_checks.hpp"

#include "tests/support/sse_client.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;

namespace {

constexpr int kAgents = 6;

testing::TetherStack& fanout_stack() {
  testing::StackOptions options;
  options.agents = kAgents;
  options.master_key = true;
  return shared_stack(options);
}

// The six agents' servers, tagged `web` through PATCH /api/servers/{id}, and one more server
// (no agent) that is not: a run targeting `web` must leave it out.
struct Fleet {
  std::set<std::string> web;
  std::string other;
  // What `echo "$E2E_AGENT_PID_FILE"` prints in a command run by each server's agent.
  std::map<std::string, std::string> agent_file;
};

const Fleet& fleet() {
  static const Fleet fleet = [] {
    auto& stack = fanout_stack();
    Fleet f;
    for (std::size_t i = 0; i < stack.agent_count(); ++i) {
      const auto& agent = stack.agent(i);
      const auto response = stack.admin("PATCH", "/api/servers/" + agent.server_id, R"({"tags":["web","e2e"]})");
      if (response.status != 200) throw std::runtime_error("PATCH /api/servers/{id}: " + describe(response));
      f.web.insert(agent.server_id);
      f.agent_file[agent.server_id] = agent.pid_file.string();
    }
    f.other = string_field(stack.create_server("not-web"), "id");
    return f;
  }();
  return fleet;
}

boost::json::object fanout_body(const std::string& command, boost::json::object rate, int timeout_seconds = 60) {
  return {{"operation", testing::exec_operation(command, timeout_seconds)},
          {"targets", testing::tag_targets({"web"})},
          {"rate", std::move(rate)}};
}

std::optional<std::int64_t> optional_time(const boost::json::object& obj, std::string_view key) {
  const auto* value = obj.if_contains(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  return epoch_micros(*value);
}

// The most intervals [start, end] that hold one instant; an interval that ends when another
// starts does not overlap it.
int max_overlap(const std::vector<std::pair<std::int64_t, std::int64_t>>& intervals) {
  std::vector<std::pair<std::int64_t, int>> edges;
  for (const auto& [start, end] : intervals) {
    edges.emplace_back(start, +1);
    edges.emplace_back(end, -1);
  }
  std::sort(edges.begin(), edges.end());  // at one instant, -1 sorts before +1
  int now = 0, most = 0;
  for (const auto& [at, delta] : edges) {
    now += delta;
    most = std::max(most, now);
  }
  return most;
}

std::set<std::string> servers_of(const std::vector<boost::json::object>& operations) {
  std::set<std::string> out;
  for (const auto& operation : operations) out.insert(string_field(operation, "server_id"));
  return out;
}

// ---- the run's event stream

struct OutputEvent {
  std::string id;
  std::string operation_id;
  std::string server_id;
  std::string stream;
  std::int64_t seq = 0;
  std::string data;
  // Which chunk of output this is (seq numbers are shared by an operation's stdout and stderr).
  std::string key() const { return fmt::format("{}#{}", operation_id, seq); }
};

struct StreamRead {
  std::vector<OutputEvent> outputs;
  std::vector<boost::json::object> operation_events;
  std::optional<boost::json::object> end;
  bool closed = false;
};

testing::SseRequest run_stream_request(const std::string& run_id, std::optional<std::string> last_event_id = {}) {
  auto& stack = fanout_stack();
  testing::SseRequest request;
  request.port = stack.port();
  request.target = "/api/automation/runs/" + run_id + "/stream";
  request.headers.push_back(http::bearer(stack.admin_key()));
  if (last_event_id) request.headers.emplace_back("Last-Event-ID", *last_event_id);
  return request;
}

void check_stream_head(const testing::SseClient& stream) {
  INFO("HTTP " << stream.status() << " " << stream.error_body());
  REQUIRE(stream.status() == 200);
  CHECK(stream.header("Content-Type").rfind("text/event-stream", 0) == 0);
}

// Takes one event into `read`, checking its shape; false once the server closed the stream.
bool take_event(testing::SseClient& stream, StreamRead& read) {
  const auto event = stream.next(30s);
  if (!event) {
    read.closed = true;
    return false;
  }
  INFO("event '" << event->event << "' id '" << event->id << "': " << event->data.substr(0, 400));
  REQUIRE_FALSE(read.end);  // nothing after end
  boost::system::error_code ec;
  auto parsed = boost::json::parse(event->data, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(parsed.is_object());
  const auto& data = parsed.as_object();
  if (event->event == "output") {
    OutputEvent output;
    output.id = event->id;
    CHECK_FALSE(output.id.empty());
    output.operation_id = string_field(data, "operation_id");
    output.server_id = string_field(data, "server_id");
    output.stream = string_field(data, "stream");
    CHECK((output.stream == "stdout" || output.stream == "stderr"));
    output.seq = int_field(data, "seq");
    output.data = string_field(data, "data");
    read.outputs.push_back(std::move(output));
  } else if (event->event == "operation") {
    CHECK(ids::is_uuid(string_field(data, "operation_id")));
    CHECK(ids::is_uuid(string_field(data, "server_id")));
    CHECK_FALSE(string_field(data, "status").empty());
    CHECK(data.contains("exit_code"));
    read.operation_events.push_back(data);
  } else if (event->event == "end") {
    read.end = data;
  } else {
    FAIL("unexpected event type '" << event->event << "'");
  }
  return true;
}

void read_to_close(testing::SseClient& stream, StreamRead& read) {
  while (take_event(stream, read)) {
  }
  CHECK(read.end.has_value());  // the stream ends with `end`, then closes
}

std::set<std::string> keys_of(const std::vector<OutputEvent>& outputs) {
  std::set<std::string> keys;
  for (const auto& output : outputs) keys.insert(output.key());
  return keys;
}

}  // namespace

TEST_CASE("a fan-out run over the servers tagged web never runs more than max_concurrency (2) operations at once, "
          "and does run 2 at once",
          "[e2e][runs][fanout]") {
  const auto& servers = fleet();
  AutomationApi api(fanout_stack());
  const auto created = api.create_run(fanout_body("sleep 1; echo \"out:$E2E_AGENT_PID_FILE\"", {{"max_concurrency", 2}}));
  const auto run_id = string_field(created, "id");
  INFO("created " << boost::json::serialize(created));
  CHECK(ids::is_uuid(run_id));
  CHECK(created.at("job_id").is_null());
  CHECK(int_field(object_at(created, "rate"), "max_concurrency") == 2);

  const auto run = api.wait_for_run_end(run_id, 90s);
  INFO("run " << boost::json::serialize(run));
  CHECK(string_field(run, "status") == "completed");
  CHECK(target_count(run, "total") == kAgents);
  CHECK(target_count(run, "succeeded") == kAgents);
  for (const char* zero : {"pending", "running", "failed", "canceled"}) CHECK(target_count(run, zero) == 0);

  const auto operations = run_operations(run);
  REQUIRE(operations.size() == kAgents);
  CHECK(servers_of(operations) == servers.web);  // every web server once; not the other one

  std::vector<std::pair<std::int64_t, std::int64_t>> intervals;
  for (const auto& operation : operations) {
    INFO("operation " << boost::json::serialize(operation));
    CHECK(string_field(operation, "status") == "completed");
    CHECK(int_field(operation, "exit_code") == 0);
    const auto started = optional_time(operation, "started_at");
    const auto completed = optional_time(operation, "completed_at");
    REQUIRE(started);
    REQUIRE(completed);
    CHECK(*completed - *started >= 900'000);  // it slept 1 s
    intervals.emplace_back(*started, *completed);
    // Each command ran on its own server's agent.
    const auto server_id = string_field(operation, "server_id");
    CHECK(operation_stdout(api, string_field(operation, "id")) == "out:" + servers.agent_file.at(server_id) + "\n");
  }
  const int most = max_overlap(intervals);
  CHECK(most <= 2);
  CHECK(most == 2);  // the limit was used, not just respected

  const auto& attempts = array_at(run, "attempts");
  REQUIRE(attempts.size() == 1);
  CHECK(int_field(attempts.at(0).as_object(), "attempt") == 1);
  CHECK(int_field(attempts.at(0).as_object(), "targets") == kAgents);
  CHECK(int_field(attempts.at(0).as_object(), "failed") == 0);
}

TEST_CASE("with max_errors 1 a run whose command fails everywhere ends failed, and the targets never started are "
          "canceled for max_errors",
          "[e2e][runs][fanout]") {
  fleet();
  AutomationApi api(fanout_stack());
  const auto created =
      api.create_run(fanout_body("echo failing; exit 3", {{"max_concurrency", 2}, {"max_errors", 1}}));
  const auto run = api.wait_for_run_end(string_field(created, "id"), 90s);
  INFO("run " << boost::json::serialize(run));
  CHECK(string_field(run, "status") == "failed");
  CHECK(int_field(object_at(run, "rate"), "max_errors") == 1);

  // Two start at once and both fail; past one error nothing more starts. Whatever the order in
  // which results come back, at most 3 started (1 error seen, 2 running) and so 3 never did.
  const auto failed = target_count(run, "failed");
  const auto canceled = target_count(run, "canceled");
  CHECK(target_count(run, "total") == kAgents);
  CHECK(target_count(run, "succeeded") == 0);
  CHECK(target_count(run, "pending") == 0);
  CHECK(target_count(run, "running") == 0);
  CHECK(failed >= 2);
  CHECK(failed <= 3);
  CHECK(canceled >= 3);
  CHECK(failed + canceled == kAgents);

  const auto operations = run_operations(run);
  std::size_t started = 0;
  std::vector<boost::json::object> canceled_operations;
  for (const auto& operation : operations) {
    INFO("operation " << boost::json::serialize(operation));
    if (optional_time(operation, "started_at")) {
      ++started;
      CHECK(string_field(operation, "status") == "completed");
      CHECK(int_field(operation, "exit_code") == 3);
    } else {
      CHECK(string_field(operation, "status") == "canceled");
      canceled_operations.push_back(operation);
    }
  }
  CHECK(started == static_cast<std::size_t>(failed));
  // Targets that never started are either listed as canceled operations or not listed at all.
  CHECK((operations.size() == kAgents || operations.size() == static_cast<std::size_t>(failed)));

  // Why they were canceled is said: on the run, or on each canceled operation.
  const auto run_error = optional_string(run, "error").value_or("");
  bool every_operation_says_why = !canceled_operations.empty();
  for (const auto& operation : canceled_operations) {
    if (optional_string(operation, "error").value_or("").find("max_errors") == std::string::npos) {
      every_operation_says_why = false;
    }
  }
  CHECK((run_error.find("max_errors") != std::string::npos || every_operation_says_why));
}

TEST_CASE("canceling a fan-out run ends every operation at once and the run canceled; a second cancel gets 409",
          "[e2e][runs][fanout]") {
  fleet();
  AutomationApi api(fanout_stack());
  const auto created = api.create_run(fanout_body("sleep 30", {{"max_concurrency", kAgents}}, 120));
  const auto run_id = string_field(created, "id");

  api.wait_for_run(
      run_id,
      [](const boost::json::object& run) {
        const auto operations = run_operations(run);
        return operations.size() == kAgents && std::all_of(operations.begin(), operations.end(), [](const auto& o) {
                 return string_field(o, "status") == "running";
               });
      },
      30s, "running on every server");

  const auto response = api.cancel_run(run_id);
  {
    INFO(describe(response));
    REQUIRE(response.status == 202);
    const auto answer = json_object(response);
    const auto run = object_at(answer, "run");
    CHECK(string_field(run, "id") == run_id);
    CHECK(string_field(run, "status") == "canceled");
  }

  // Well before the commands' 30 s are up, every operation has ended: the agents stopped them. The
  // run's targets take their operations' ends when the run driver next settles them (at once when
  // the end is noticed here, else within its 1 s sweep), so the wait covers both.
  const auto run = api.wait_for_run(
      run_id,
      [](const boost::json::object& run) {
        const auto operations = run_operations(run);
        return std::all_of(operations.begin(), operations.end(),
                           [](const auto& o) {
                             const auto status = string_field(o, "status");
                             return status == "canceled" || status == "failed";
                           }) &&
               target_count(run, "running") == 0 && target_count(run, "pending") == 0;
      },
      20s, "with every operation ended and every target settled");
  INFO("run " << boost::json::serialize(run));
  CHECK(string_field(run, "status") == "canceled");
  CHECK(is_rfc3339_utc(run.at("ended_at")));
  CHECK(target_count(run, "running") == 0);
  CHECK(target_count(run, "pending") == 0);
  CHECK(target_count(run, "succeeded") == 0);
  CHECK(target_count(run, "canceled") + target_count(run, "failed") == kAgents);
  const auto operations = run_operations(run);
  CHECK(operations.size() == kAgents);
  for (const auto& operation : operations) {
    const auto view = operation_view(api, string_field(operation, "id"));
    INFO("operation " << boost::json::serialize(view));
    const auto status = string_field(view, "status_detail");
    CHECK((status == "canceled" || status == "failed"));
  }

  check_jobs_error(api.cancel_run(run_id), 409);
  check_jobs_error(api.cancel_run(ids::new_uuid()), 404);
}

TEST_CASE("the run stream carries every operation's output naming its operation and server, ends with end, and "
          "resumes after Last-Event-ID with nothing repeated or lost",
          "[e2e][runs][fanout][stream]") {
  const auto& servers = fleet();
  auto& stack = fanout_stack();
  AutomationApi api(stack);
  static int streams = 0;
  const auto go = stack.dir() / fmt::format("stream-go-{}", ++streams);
  // Two lines, then the command waits for the test before its last one, so that the first
  // reader surely leaves while the run is live.
  const std::string command = "echo \"a:$E2E_AGENT_PID_FILE\"; sleep 0.2; echo \"b:$E2E_AGENT_PID_FILE\"; " +
                              wait_for_file_snippet(go) + "; echo \"c:$E2E_AGENT_PID_FILE\"";
  const auto run_id = string_field(api.create_run(fanout_body(command, {{"max_concurrency", kAgents}})), "id");

  {
    auto anonymous = stack.client();
    CHECK(anonymous.get("/api/automation/runs/" + run_id + "/stream").status == 401);
  }

  // A first reader takes a few output events and goes away.
  StreamRead first;
  {
    testing::SseClient stream(run_stream_request(run_id));
    check_stream_head(stream);
    while (first.outputs.size() < 4) REQUIRE(take_event(stream, first));
    REQUIRE_FALSE(first.end);
    stream.close();
  }
  constexpr std::size_t kResumeAfter = 1;  // the second output event
  const auto resume_id = first.outputs.at(kResumeAfter).id;

  // It comes back with Last-Event-ID while the run is still live, and follows it to its end.
  StreamRead second;
  {
    testing::SseClient stream(run_stream_request(run_id, resume_id));
    check_stream_head(stream);
    std::ofstream(go).put('\n');
    read_to_close(stream, second);
  }

  // A reader from the start after the run ended gets the whole of it.
  StreamRead all;
  {
    testing::SseClient stream(run_stream_request(run_id));
    check_stream_head(stream);
    read_to_close(stream, all);
  }

  const auto run = api.wait_for_run_end(run_id, 30s);
  INFO("run " << boost::json::serialize(run));
  CHECK(string_field(run, "status") == "completed");
  std::map<std::string, std::string> server_of;  // operation id → server id
  for (const auto& operation : run_operations(run)) {
    server_of[string_field(operation, "id")] = string_field(operation, "server_id");
  }
  REQUIRE(server_of.size() == kAgents);

  // The whole stream: each operation's output, in order, from its own server's agent.
  std::map<std::string, std::string> text_of;  // operation id → stdout
  std::set<std::string> ids_seen, keys_seen;
  for (const auto& output : all.outputs) {
    INFO("output " << output.key() << " id " << output.id << ": " << output.data);
    CHECK(ids_seen.insert(output.id).second);  // ids are unique
    CHECK(keys_seen.insert(output.key()).second);  // no chunk twice
    REQUIRE(server_of.count(output.operation_id) == 1);
    CHECK(output.server_id == server_of.at(output.operation_id));
    CHECK(output.stream == "stdout");
    text_of[output.operation_id] += output.data;
  }
  REQUIRE(text_of.size() == kAgents);
  for (const auto& [operation_id, text] : text_of) {
    const auto& file = servers.agent_file.at(server_of.at(operation_id));
    INFO("operation " << operation_id);
    CHECK(text == "a:" + file + "\nb:" + file + "\nc:" + file + "\n");
  }
  REQUIRE(all.end);
  CHECK(string_field(*all.end, "id") == run_id);
  CHECK(string_field(*all.end, "status") == "completed");
  CHECK(all.closed);

  // What the first reader got is the start of the same stream, under the same ids.
  std::map<std::string, std::string> id_of;  // key → event id, in the whole stream
  for (const auto& output : all.outputs) id_of[output.key()] = output.id;
  for (const auto& output : first.outputs) {
    INFO("first reader's " << output.key());
    REQUIRE(id_of.count(output.key()) == 1);
    CHECK(id_of.at(output.key()) == output.id);
  }

  // After Last-Event-ID: nothing up to that event again, nothing after it missing, nothing twice.
  std::set<std::string> before_resume;
  for (std::size_t i = 0; i <= kResumeAfter; ++i) before_resume.insert(first.outputs[i].key());
  std::set<std::string> resumed;
  for (const auto& output : second.outputs) {
    INFO("resumed " << output.key() << " id " << output.id);
    CHECK(before_resume.count(output.key()) == 0);
    CHECK(resumed.insert(output.key()).second);
    REQUIRE(id_of.count(output.key()) == 1);
    CHECK(id_of.at(output.key()) == output.id);
  }
  std::set<std::string> together = before_resume;
  together.insert(resumed.begin(), resumed.end());
  CHECK(together == keys_of(all.outputs));

  // The resumed reader was there when the operations ended: one operation event each.
  std::map<std::string, int> ended;
  for (const auto& event : second.operation_events) {
    INFO("operation event " << boost::json::serialize(event));
    const auto operation_id = string_field(event, "operation_id");
    ++ended[operation_id];
    REQUIRE(server_of.count(operation_id) == 1);
    CHECK(string_field(event, "server_id") == server_of.at(operation_id));
    CHECK(string_field(event, "status") == "completed");
    CHECK(int_field(event, "exit_code") == 0);
  }
  CHECK(ended.size() == kAgents);
  for (const auto& [operation_id, count] : ended) CHECK(count == 1);
  REQUIRE(second.end);
  CHECK(string_field(*second.end, "status") == "completed");
  CHECK(second.closed);
}

TEST_CASE("the run stream sends no end while output that an older open transaction holds back is stored; it "
          "serves that output first",
          "[e2e][runs][fanout][stream]") {
  fleet();
  auto& stack = fanout_stack();
  AutomationApi api(stack);
  static int holds = 0;
  const auto go = stack.dir() / fmt::format("hold-go-{}", ++holds);
  const std::string command = "echo a; " + wait_for_file_snippet(go) + "; echo b";
  const auto run_id = string_field(api.create_run(fanout_body(command, {{"max_concurrency", kAgents}})), "id");

  StreamRead read;
  testing::SseClient stream(run_stream_request(run_id));
  check_stream_head(stream);
  REQUIRE(take_event(stream, read));  // the run is under way

  // A transaction that began before the last output was written, on any database of the server
  // (here, a transaction that only took an id), keeps that output from being served in order. It
  // stays open until well after the run has ended: the stream must wait for that output, not end.
  pqxx::connection holder(stack.database().url());
  {
    pqxx::work hold(holder);
    hold.exec("SELECT pg_current_xact_id()");
    std::ofstream(go).put('\n');
    const auto run = api.wait_for_run_end(run_id, 30s);
    CHECK(string_field(run, "status") == "completed");
    std::this_thread::sleep_for(1500ms);  // several of the stream's polls see the run over
    hold.abort();
  }
  read_to_close(stream, read);

  std::map<std::string, std::string> text_of;  // operation id → stdout
  for (const auto& output : read.outputs) text_of[output.operation_id] += output.data;
  CHECK(text_of.size() == static_cast<std::size_t>(kAgents));
  for (const auto& [operation_id, text] : text_of) {
    INFO("operation " << operation_id);
    CHECK(text == "a\nb\n");
  }
  // Each operation is announced once, after its output.
  CHECK(read.operation_events.size() == static_cast<std::size_t>(kAgents));
  REQUIRE(read.end);
  CHECK(string_field(*read.end, "status") == "completed");
}
