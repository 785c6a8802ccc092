// Seed 001's automations API over the controller's real background loops, with two controller
// processes on one database: list, get, run (waits and answers the updated view), pause and resume
// (empty body, with and without Content-Type: application/json), the unpausable loop's 500, an
// unknown key's 400 (404 on get), 401 without a key; a pause that stops the loop on both replicas
// and survives a restart; and, from both controllers' logs, that no loop's passes ever overlapped
// across the two (each pass holds the loop's PostgreSQL advisory lock).
#include "tests/e2e/e2e_checks.hpp"
#include "tests/support/automation_api.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> required_keys = {"job-scheduler",      "operation-reaper",      "server-health",
                                                "session-cleanup",    "webhook-replay-pruner", "retention-pruner",
                                                "agent-session-reconciliation"};

struct Controller {
  http::ClientOptions options;
  std::string key;

  http::Response call(std::string_view method, const std::string& path, bool json_content_type = false,
                      std::optional<std::string> token = std::nullopt) const {
    http::Client client(options);
    http::Headers headers;
    if (token) {
      if (!token->empty()) headers.push_back(http::bearer(*token));
    } else {
      headers.push_back(http::bearer(key));
    }
    if (json_content_type) headers.emplace_back("Content-Type", "application/json");
    return client.request(method, "/api/client/v1/automations" + path, {}, headers);
  }

  boost::json::object automation(std::string_view method, const std::string& path, bool json_content_type = false) const {
    const auto response = call(method, path, json_content_type);
    INFO(method << " " << path << ": " << describe(response));
    REQUIRE(response.status == 200);
    const auto body = json_object(response);
    REQUIRE(body.size() == 1);
    return testing::object_at(body, "automation");
  }
  boost::json::object get(const std::string& key_name) const { return automation("GET", "/" + key_name); }
};

void check_view(const boost::json::object& view) {
  INFO(boost::json::serialize(view));
  for (const char* field : {"key", "name", "description", "domain", "cadenceLabel", "state"}) {
    REQUIRE(view.contains(field));
    CHECK(view.at(field).is_string());
  }
  CHECK(view.at("distributed") == true);
  CHECK(view.at("supportsPause").is_bool());
  CHECK(view.at("supportsTrigger") == true);
  const auto& metrics = testing::object_at(view, "metrics");
  CHECK(metrics.at("lockProvider") == "postgres");
  for (const char* field : {"lastStartedAt", "lastCompletedAt", "lastError"}) {
    REQUIRE(view.contains(field));
    CHECK((view.at(field).is_null() || view.at(field).is_string()));
  }
  REQUIRE(view.contains("lastDurationMs"));
  CHECK((view.at("lastDurationMs").is_null() || view.at("lastDurationMs").is_number()));
  static const std::set<std::string> states = {"active", "running", "paused", "idle", "degraded"};
  CHECK(states.contains(std::string(view.at("state").as_string())));
  CHECK(view.size() == 14);
}

std::optional<std::string> last_started(const boost::json::object& view) {
  return testing::optional_string(view, "lastStartedAt");
}

struct Pass {
  std::string instance;
  std::int64_t started_us = 0, ended_us = 0;
};

// Every "event=automation_pass" line of a controller's log, by loop key.
void read_passes(const std::string& log, std::map<std::string, std::vector<Pass>>& passes) {
  static const std::regex line(
      R"(event=automation_pass key=(\S+) instance=(\S+) started_us=(\d+) ended_us=(\d+))");
  std::istringstream in(log);
  std::string text;
  while (std::getline(in, text)) {
    std::smatch m;
    if (std::regex_search(text, m, line)) {
      passes[m[1]].push_back({m[2], std::stoll(m[3]), std::stoll(m[4])});
    }
  }
}

}  // namespace

TEST_CASE("seed 001's automations on two controllers: the flow, a pause that holds across a restart and a replica, "
          "and no loop running on both at once",
          "[e2e][automations]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.log_level = "debug";
  options.controller_args = {"--instance-id", "loops-a"};
  testing::TetherStack stack(database, options);  // its agent connects to this one
  testing::ExtraController second(stack, "loops-b", {}, "debug");
  const Controller a{stack.client_options(), stack.admin_key()};
  const Controller b{second.client_options(), stack.admin_key()};
  const auto logs = [&] {
    const auto tail = [](const std::string& log) { return log.size() > 6000 ? "..." + log.substr(log.size() - 6000) : log; };
    return "--- controller a (tail):\n" + tail(stack.controller_log()) + "\n--- controller b (tail):\n" +
           tail(second.log());
  };

  // List: one entry per loop, seed 001's view.
  {
    const auto response = a.call("GET", "");
    INFO(describe(response));
    REQUIRE(response.status == 200);
    const auto body = json_object(response);
    const auto& list = testing::array_at(body, "automations");
    std::vector<std::string> keys;
    for (const auto& view : testing::objects(list)) {
      check_view(view);
      keys.push_back(string_field(view, "key"));
    }
    CHECK(keys == required_keys);
  }
  {
    const auto manual = a.get("agent-session-reconciliation");
    CHECK(manual.at("supportsPause") == false);
    CHECK(manual.at("cadenceLabel") == "Manual maintenance");
    CHECK(manual.at("state") == "idle");
    CHECK(b.get("job-scheduler").at("supportsPause") == true);
  }

  // Errors.
  check_error(a.call("GET", "", false, std::string()), 401);
  check_error(a.call("POST", "/retention-pruner/run", true, std::string("tak_not_a_key")), 401);
  check_error(a.call("GET", "/no-such-loop"), 404);
  check_error(a.call("GET", "/Not_A_Key"), 400);
  for (const char* action : {"run", "pause", "resume"}) {
    check_error(a.call("POST", fmt::format("/no-such-loop/{}", action), true), 400);
  }
  for (const char* action : {"pause", "resume"}) {
    const auto response = b.call("POST", fmt::format("/agent-session-reconciliation/{}", action), true);
    check_error(response, 500);
    CHECK(string_field(json_object(response), "error").find("does not support") != std::string::npos);
  }

  // Run: waits for the pass and answers the updated view, from whichever controller.
  {
    const auto view = a.automation("POST", "/retention-pruner/run", true);
    check_view(view);
    CHECK(view.at("state") == "active");
    REQUIRE(last_started(view));
    CHECK(view.at("lastError").is_null());
    CHECK(testing::epoch_micros(view.at("lastCompletedAt")) >= testing::epoch_micros(view.at("lastStartedAt")));
    const auto& metrics = testing::object_at(view, "metrics");
    CHECK(metrics.at("lastInstance") == "loops-a");
    CHECK(int_field(metrics, "runsDeleted") == 0);
    CHECK(b.get("retention-pruner").at("lastStartedAt") == view.at("lastStartedAt"));
  }
  {
    const auto held_here = a.automation("POST", "/agent-session-reconciliation/run");  // no body, no Content-Type
    CHECK(int_field(testing::object_at(held_here, "metrics"), "sessionsHeld") == 1);
    CHECK(held_here.at("state") == "idle");
    const auto held_there = b.automation("POST", "/agent-session-reconciliation/run", true);
    CHECK(int_field(testing::object_at(held_there, "metrics"), "sessionsHeld") == 0);
    CHECK(int_field(testing::object_at(held_there, "metrics"), "sessionsDropped") == 0);  // a's row is a's
  }

  // Pause through one controller: the loop stops on both.
  {
    const auto paused = a.automation("POST", "/operation-reaper/pause");
    CHECK(paused.at("state") == "paused");
    CHECK(b.get("operation-reaper").at("state") == "paused");
    std::this_thread::sleep_for(1500ms);  // a pass under way when it was paused ends
    const auto before = last_started(a.get("operation-reaper"));
    std::this_thread::sleep_for(3s);  // three periods of the loop
    CHECK(last_started(b.get("operation-reaper")) == before);
  }

  // The pause survives a restart, and the restarted controller still honours it.
  stack.restart_controller();
  {
    const auto before = last_started(a.get("operation-reaper"));
    CHECK(a.get("operation-reaper").at("state") == "paused");
    CHECK(b.get("operation-reaper").at("state") == "paused");
    std::this_thread::sleep_for(2500ms);
    CHECK(last_started(a.get("operation-reaper")) == before);
    // Resumed through the other controller: it runs again ("running" while a replica's pass holds
    // its lock).
    const auto active_or_running = [](const boost::json::object& view) {
      return view.at("state") == "active" || view.at("state") == "running";
    };
    CHECK(active_or_running(b.automation("POST", "/operation-reaper/resume", true)));
    CHECK(active_or_running(a.get("operation-reaper")));
    const bool ran = testing::wait_until([&] { return last_started(a.get("operation-reaper")) != before; }, 10s,
                                         100ms);
    CHECK(ran);
  }

  // Both controllers asking for runs of the same loop at once: every answer is a view (a run
  // already under way answers the current state), never an error.
  {
    std::vector<std::thread> callers;
    std::vector<unsigned> statuses(20, 0);
    for (int i = 0; i < 20; ++i) {
      callers.emplace_back([&, i] {
        const auto& controller = (i % 2 == 0) ? a : b;
        statuses[static_cast<std::size_t>(i)] = controller.call("POST", "/webhook-replay-pruner/run", true).status;
      });
    }
    for (auto& caller : callers) caller.join();
    CHECK(std::count(statuses.begin(), statuses.end(), 200u) == 20);
  }

  // Mutual exclusion, from both logs: per loop, no two passes overlap, whichever replica ran them.
  INFO(logs());
  std::map<std::string, std::vector<Pass>> passes;
  read_passes(stack.controller_log(), passes);
  read_passes(second.log(), passes);
  std::size_t loops_run_by_both = 0;
  for (auto& [key, list] : passes) {
    std::sort(list.begin(), list.end(), [](const Pass& x, const Pass& y) { return x.started_us < y.started_us; });
    std::set<std::string> instances;
    std::string overlaps;
    for (std::size_t i = 0; i < list.size(); ++i) {
      instances.insert(list[i].instance);
      CHECK(list[i].ended_us >= list[i].started_us);
      if (i > 0 && list[i].started_us < list[i - 1].ended_us) {
        overlaps += fmt::format("{} [{}, {}] and {} [{}, {}]; ", list[i - 1].instance, list[i - 1].started_us,
                                list[i - 1].ended_us, list[i].instance, list[i].started_us, list[i].ended_us);
      }
    }
    INFO("loop " << key << ": " << list.size() << " passes; overlapping: " << overlaps);
    CHECK(overlaps.empty());
    if (instances.size() == 2) ++loops_run_by_both;
  }
  CHECK(passes.size() >= 5);
  CHECK(passes["job-scheduler"].size() >= 10);
  CHECK(loops_run_by_both >= 3);  // both replicas took part: the exclusion was tested, not idle
}
