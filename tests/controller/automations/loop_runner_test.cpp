// The loop runner's state machine on an injected clock and a backend without a database: what a
// pass records, when it is skipped (paused, running here, locked by a replica), and the state seed
// 001 derives from it. Nothing sleeps.
#include "controller/automations/catalog.hpp"
#include "controller/automations/loop_runner.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace tether::automations;
using namespace std::chrono_literals;

namespace {

const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1'800'000'000));

struct FakeBackend : LoopBackend {
  bool free = true;    // nobody else holds the loop's lock
  bool paused = false;  // the persisted flag
  int locks = 0, unlocks = 0;
  std::vector<Record> records;

  Lock try_lock(const std::string&) override {
    ++locks;
    return {free, paused};
  }
  void unlock(const std::string&) override { ++unlocks; }
  void record(const std::string&, const Record& record) override { records.push_back(record); }
  PassContext context() override { return PassContext(nullptr, "test"); }
};

LoopSpec scheduled_spec() { return *find_spec("session-cleanup"); }
LoopSpec manual_spec() { return *find_spec("agent-session-reconciliation"); }

}  // namespace

TEST_CASE("a pass runs under the lock and records its start, end, duration and metrics from the clock",
          "[automations]") {
  ManualClock clock(t0);
  int passes = 0;
  LoopRunner runner(scheduled_spec(), [&](const PassContext&) {
    ++passes;
    clock.advance(1200ms);
    return PassResult{{{"sessionsPurged", 3}}, false, std::nullopt};
  }, clock, "test");
  FakeBackend backend;
  const auto result = runner.run(backend, Trigger::cadence);
  CHECK(result.outcome == Outcome::ran);
  CHECK(passes == 1);
  CHECK(backend.locks == 1);
  CHECK(backend.unlocks == 1);
  REQUIRE(backend.records.size() == 1);
  CHECK(backend.records[0].started == t0);
  CHECK(backend.records[0].completed == t0 + 1200ms);
  CHECK_FALSE(backend.records[0].error);
  CHECK(backend.records[0].metrics.at("sessionsPurged") == 3);
  CHECK_FALSE(runner.running());
}

TEST_CASE("a loop whose lock a replica holds does not run, here or on an operator's demand", "[automations]") {
  ManualClock clock(t0);
  int passes = 0;
  LoopRunner runner(scheduled_spec(), [&](const PassContext&) {
    ++passes;
    return PassResult{};
  }, clock, "test");
  FakeBackend backend;
  backend.free = false;
  CHECK(runner.run(backend, Trigger::cadence).outcome == Outcome::locked);
  CHECK(runner.run(backend, Trigger::manual).outcome == Outcome::locked);
  CHECK(passes == 0);
  CHECK(backend.unlocks == 0);  // nothing was taken
  CHECK(backend.records.empty());
}

TEST_CASE("a paused loop skips its cadence's passes but runs when an operator asks", "[automations]") {
  ManualClock clock(t0);
  int passes = 0;
  LoopRunner runner(scheduled_spec(), [&](const PassContext&) {
    ++passes;
    return PassResult{};
  }, clock, "test");
  FakeBackend backend;
  backend.paused = true;
  CHECK(runner.run(backend, Trigger::cadence).outcome == Outcome::paused);
  CHECK(passes == 0);
  CHECK(backend.unlocks == 1);  // the lock taken to read the flag is given back
  CHECK(backend.records.empty());
  CHECK(runner.run(backend, Trigger::manual).outcome == Outcome::ran);
  CHECK(passes == 1);
  CHECK(backend.records.size() == 1);
}

TEST_CASE("a run asked for while a pass runs here starts no second pass", "[automations]") {
  ManualClock clock(t0);
  FakeBackend backend;
  int passes = 0;
  std::optional<RunResult> nested;
  std::string state_inside;
  std::shared_ptr<LoopRunner> runner;
  runner = std::make_shared<LoopRunner>(manual_spec(), [&](const PassContext&) {
    ++passes;
    state_inside = derive_state(runner->spec(), runner->running(), false, false);
    nested = runner->run(backend, Trigger::manual);
    return PassResult{};
  }, clock, "test");
  CHECK(runner->run(backend, Trigger::manual).outcome == Outcome::ran);
  CHECK(passes == 1);
  REQUIRE(nested);
  CHECK(nested->outcome == Outcome::busy);
  CHECK(state_inside == "running");
  CHECK(backend.locks == 1);
  CHECK_FALSE(runner->running());
}

TEST_CASE("a pass that throws is recorded with its error, and the next pass clears it", "[automations]") {
  ManualClock clock(t0);
  bool fail = true;
  LoopRunner runner(scheduled_spec(), [&](const PassContext&) -> PassResult {
    clock.advance(5ms);
    if (fail) throw std::runtime_error("database said no");
    return PassResult{{{"sessionsPurged", 0}}, false, std::nullopt};
  }, clock, "test");
  FakeBackend backend;
  const auto failed = runner.run(backend, Trigger::cadence);
  CHECK(failed.outcome == Outcome::failed);
  CHECK(failed.error == "database said no");
  REQUIRE(backend.records.size() == 1);
  CHECK(backend.records[0].error == std::optional<std::string>("database said no"));
  CHECK(backend.records[0].completed - backend.records[0].started == 5ms);
  CHECK(backend.unlocks == 1);
  CHECK_FALSE(runner.running());
  fail = false;
  CHECK(runner.run(backend, Trigger::cadence).outcome == Outcome::ran);
  REQUIRE(backend.records.size() == 2);
  CHECK_FALSE(backend.records[1].error);
}

TEST_CASE("seed 001's state: running, paused, degraded, idle for a manual loop, else active", "[automations]") {
  const auto scheduled = scheduled_spec();
  const auto manual = manual_spec();
  CHECK(derive_state(scheduled, false, false, false) == "active");
  CHECK(derive_state(scheduled, true, true, true) == "running");
  CHECK(derive_state(scheduled, false, true, true) == "paused");
  CHECK(derive_state(scheduled, false, false, true) == "degraded");
  CHECK(derive_state(manual, false, false, false) == "idle");
  CHECK(derive_state(manual, false, true, false) == "idle");  // it cannot be paused
  CHECK(derive_state(manual, false, false, true) == "degraded");
}

TEST_CASE("the catalog declares the controller's loops once, with seed 001's abilities", "[automations]") {
  std::vector<std::string> keys;
  for (const auto& spec : catalog()) {
    keys.push_back(spec.key);
    CHECK_FALSE(spec.name.empty());
    CHECK_FALSE(spec.description.empty());
    CHECK_FALSE(spec.cadence_label.empty());
    CHECK(spec.scheduled == spec.pausable);
    if (spec.scheduled) CHECK(spec.period > 0ms);
  }
  CHECK(keys == std::vector<std::string>{"job-scheduler", "operation-reaper", "server-health", "session-cleanup",
                                         "webhook-replay-pruner", "retention-pruner",
                                         "agent-session-reconciliation"});
  CHECK_FALSE(find_spec("agent-session-reconciliation")->pausable);
  CHECK(find_spec("agent-session-reconciliation")->triggerable);
  CHECK(find_spec("no-such-loop") == nullptr);
}
