// The scheduler and the run fan-out on an injected clock against a real PostgreSQL: misfires with
// each catch-up policy, each overlap policy, the fire limit, fixed and exponential retry. Time
// moves only when a test moves it; nothing sleeps.
#include "../automation_fixture.hpp"

#include "controller/scheduler/scheduler.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;

namespace {

using testing::t0;
using testing::us;

struct SchedulerFixture : testing::AutomationFixture {
  // A scheduler tick, then what the run driver does with the runs it fired: fan them out.
  scheduler::Tick tick() {
    scheduler::Tick result;
    {
      pqxx::work txn(fx.connection);
      result = scheduler::fire_due(txn, fanout, 100);
      txn.commit();
    }
    for (const auto& run_id : result.after.runs_to_advance) {
      pqxx::work txn(fx.connection);
      result.after.merge(fanout.advance(txn, run_id));
      txn.commit();
    }
    return result;
  }
};

}  // namespace

TEST_CASE("an interval job fires each due time once, on its grid, whoever ticks", "[scheduler]") {
  SchedulerFixture s;
  const auto job = s.create(s.interval_job("1m"));
  REQUIRE(job.next_run_us == us(t0 + 1min));
  CHECK(s.tick().claimed == 0);  // not due yet

  s.clock.set(t0 + 1min + 300ms);
  const auto first = s.tick();
  CHECK(first.claimed == 1);
  CHECK(s.tick().claimed == 0);  // the same due time is never fired twice
  const auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].scheduled_us == us(t0 + 1min));
  CHECK(runs[0].created_us == us(t0 + 1min + 300ms));
  CHECK(s.job(job.id).next_run_us == us(t0 + 2min));
  CHECK(s.job(job.id).misfire_count == 0);
}

TEST_CASE("a misfire with catch_up_policy skip counts every missed time and runs none", "[scheduler][misfire]") {
  SchedulerFixture s;
  const auto job = s.create(s.interval_job("1m"));
  s.clock.set(t0 + 10min + 30s);  // due times 1..10 min were missed, past the 60 s grace
  CHECK(s.tick().claimed == 1);
  CHECK(s.runs_of(job.id).empty());
  const auto after = s.job(job.id);
  CHECK(after.misfire_count == 10);
  CHECK(after.last_misfire_us == us(t0 + 10min + 30s));
  CHECK(after.next_run_us == us(t0 + 11min));
}

TEST_CASE("a misfire with catch_up_policy run_once runs the latest missed time once", "[scheduler][misfire]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1m");
  spec.catch_up_policy = "run_once";
  const auto job = s.create(spec);
  s.clock.set(t0 + 10min + 30s);
  s.tick();
  const auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].scheduled_us == us(t0 + 10min));
  CHECK(s.job(job.id).misfire_count == 10);
  CHECK(s.job(job.id).next_run_us == us(t0 + 11min));
}

TEST_CASE("a misfire with catch_up_policy run_all runs each missed time, at most 100", "[scheduler][misfire]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1m");
  spec.catch_up_policy = "run_all";
  spec.overlap_policy = "allow";
  const auto job = s.create(spec);
  s.clock.set(t0 + 10min + 30s);
  s.tick();
  auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(runs[i].scheduled_us == us(t0 + (i + 1) * 1min));

  SchedulerFixture many;
  auto every_second = many.interval_job("1s");
  every_second.catch_up_policy = "run_all";
  every_second.overlap_policy = "allow";
  const auto busy = many.create(every_second);
  many.clock.set(t0 + 500s);
  many.tick();
  runs = many.runs_of(busy.id);
  REQUIRE(runs.size() == 100);
  CHECK(runs.back().scheduled_us == us(t0 + 500s));  // the latest ones
  CHECK(many.job(busy.id).misfire_count == 500);
}

TEST_CASE("overlap_policy skip records the skipped firing with its reason", "[scheduler][overlap]") {
  SchedulerFixture s;
  const auto job = s.create(s.interval_job("1m"));
  s.clock.set(t0 + 1min);
  s.tick();  // its operation stays queued: no agent is connected, so the run keeps running
  s.clock.set(t0 + 2min);
  s.tick();
  const auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].status == "running");
  CHECK(runs[1].status == "canceled");
  CHECK(runs[1].skipped);
  REQUIRE(runs[1].error);
  CHECK(runs[1].error->find("skipped: run " + runs[0].id) != std::string::npos);
  CHECK(s.operations_of(runs[1].id).empty());
}

TEST_CASE("overlap_policy allow runs firings side by side", "[scheduler][overlap]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1m");
  spec.overlap_policy = "allow";
  const auto job = s.create(spec);
  s.clock.set(t0 + 1min);
  s.tick();
  s.clock.set(t0 + 2min);
  s.tick();
  const auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].status == "running");
  CHECK(runs[1].status == "running");
}

TEST_CASE("overlap_policy queue keeps one firing waiting and starts it when the previous run ends",
          "[scheduler][overlap]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1m");
  spec.overlap_policy = "queue";
  const auto job = s.create(spec);
  for (int minute = 1; minute <= 3; ++minute) {
    s.clock.set(t0 + minute * 1min);
    s.tick();
  }
  auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].status == "running");
  CHECK(runs[1].status == "scheduled");
  CHECK(runs[1].waiting_for == std::optional<std::string>("previous_run"));
  CHECK(runs[2].status == "canceled");  // at most one waits
  CHECK(runs[2].error->find("already queued") != std::string::npos);
  CHECK(s.operations_of(runs[1].id).size() == 1);  // its target is known, not started
  CHECK_FALSE(s.operations_of(runs[1].id)[0].operation_id);

  s.end_operations(runs[0].id, 0);
  CHECK(s.run(runs[0].id).status == "completed");
  s.advance(runs[1].id);  // what the run driver does when it hears of the end
  CHECK(s.run(runs[1].id).status == "running");
  CHECK(s.operations_of(runs[1].id)[0].operation_id);
}

TEST_CASE("overlap_policy cancel_previous cancels the running run and its operations", "[scheduler][overlap]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1m");
  spec.overlap_policy = "cancel_previous";
  const auto job = s.create(spec);
  s.clock.set(t0 + 1min);
  s.tick();
  s.clock.set(t0 + 2min);
  const auto second = s.tick();
  CHECK(second.after.cancels.size() == 1);
  const auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].status == "canceled");
  CHECK(runs[0].error->find("cancel_previous") != std::string::npos);
  CHECK(s.operations_of(runs[0].id)[0].status == "canceled");  // it was still queued: ended at once
  CHECK(runs[1].status == "running");
}

TEST_CASE("the fire limit drops firings past max per window and says why", "[scheduler][fire_limit]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1m");
  spec.overlap_policy = "allow";
  spec.fire_limit_max = 2;
  spec.fire_limit_window = "1h";
  spec.misfire_grace_seconds = 7200;  // the hour-long jump below is not a misfire
  const auto job = s.create(spec);
  for (int minute = 1; minute <= 3; ++minute) {
    s.clock.set(t0 + minute * 1min);
    s.tick();
  }
  auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 3);
  CHECK_FALSE(runs[0].skipped);
  CHECK_FALSE(runs[1].skipped);
  CHECK(runs[2].skipped);
  CHECK(runs[2].error->find("fire limit of 2 per 1h") != std::string::npos);
  // An hour after the first firing, the window has room again (for one: the second is in it).
  s.clock.set(t0 + 61min + 1s);
  s.tick();
  s.tick();
  runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 5);
  CHECK_FALSE(runs[3].skipped);
  CHECK(runs[4].skipped);
}

TEST_CASE("a failed target is retried after a fixed delay, on the failed targets only", "[scheduler][retry]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1h");
  spec.run.retry = {"fixed", 2, "30s"};
  const auto job = s.create(spec);
  s.clock.set(t0 + 1h);
  s.tick();
  const auto run_id = s.runs_of(job.id)[0].id;
  s.end_operations(run_id, 1);
  auto run = s.run(run_id);
  CHECK(run.status == "scheduled");
  CHECK(run.waiting_for == std::optional<std::string>("retry"));
  CHECK(run.attempt == 2);
  CHECK(run.next_attempt_us == us(t0 + 1h + 30s));

  s.clock.set(t0 + 1h + 29s);
  s.advance(run_id);
  CHECK(s.run(run_id).status == "scheduled");  // not yet
  s.clock.set(t0 + 1h + 30s);
  s.advance(run_id);
  CHECK(s.run(run_id).status == "running");
  auto ops = s.operations_of(run_id);
  REQUIRE(ops.size() == 2);
  CHECK(ops[1].attempt == 2);

  s.end_operations(run_id, 1);
  s.clock.set(t0 + 1h + 60s);
  s.advance(run_id);
  s.end_operations(run_id, 1);  // third attempt fails too: max_retries 2 reached
  run = s.run(run_id);
  CHECK(run.status == "failed");
  CHECK(run.attempt == 3);
}

TEST_CASE("exponential retry doubles the delay from base_delay", "[scheduler][retry]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1h");
  spec.run.retry = {"exponential", 3, "10s"};
  const auto job = s.create(spec);
  s.clock.set(t0 + 1h);
  s.tick();
  const auto run_id = s.runs_of(job.id)[0].id;
  auto now = t0 + 1h;
  for (const auto delay : {10s, 20s, 40s}) {
    s.end_operations(run_id, 7);
    CHECK(s.run(run_id).next_attempt_us == us(now + delay));
    now += delay;
    s.clock.set(now);
    s.advance(run_id);
    CHECK(s.run(run_id).status == "running");
  }
  s.end_operations(run_id, 0);  // the fourth attempt succeeds
  CHECK(s.run(run_id).status == "completed");
  CHECK(runs::retry_delay({"exponential", 10, "10s"}, 20) == 3600s);  // capped at an hour
}

TEST_CASE("a one-time at job fires once and disables itself", "[scheduler]") {
  SchedulerFixture s;
  auto spec = s.interval_job("1m");
  spec.schedule = schedule::parse_spec("at", std::nullopt, std::nullopt, std::string_view("2026-12-01T00:05:00Z"));
  const auto job = s.create(spec);
  CHECK(job.next_run_us == us(t0 + 5min));
  s.clock.set(t0 + 5min);
  s.tick();
  s.clock.set(t0 + 6min);
  s.tick();
  CHECK(s.runs_of(job.id).size() == 1);
  CHECK_FALSE(s.job(job.id).enabled);
  CHECK_FALSE(s.job(job.id).next_run_us);
}

TEST_CASE("max_concurrency and max_errors resolve numbers and percentages of the targets", "[runs]") {
  CHECK(runs::resolve_concurrency("2", 6) == 2);
  CHECK(runs::resolve_concurrency("10%", 6) == 1);
  CHECK(runs::resolve_concurrency("50%", 7) == 4);
  CHECK(runs::resolve_concurrency("100%", 10000) == 10000);
  CHECK(runs::resolve_max_errors(std::nullopt, 6) == std::nullopt);
  CHECK(runs::resolve_max_errors("1", 6) == 1);
  CHECK(runs::resolve_max_errors("50%", 7) == 3);
}

TEST_CASE("a run's operation whose secrets a restarted controller lost is delivered with them from its run",
          "[runs][secrets]") {
  SchedulerFixture s;
  runs::AdHocRun request;
  request.operation.type = "exec";
  request.operation.command = "echo \"$RUN_SECRET\"";
  request.operation.env = {{"RUN_SECRET", "s3cret-value"}};
  request.targets.server_ids = {s.fx.server_id};
  std::string run_id;
  {
    pqxx::work txn(s.fx.connection);
    run_id = s.fanout.create_adhoc(txn, request, "test").run.id;
    txn.commit();
  }
  // An operation outside any run, with env values, submitted before the restart too.
  operations::Submission plain;
  plain.dispatch.operation_id = ids::new_uuid();
  plain.dispatch.operation_type = "exec";
  plain.dispatch.command = "true";
  plain.dispatch.env = {{"PLAIN_SECRET", "x"}};
  plain.server_id = s.fx.server_id;
  plain.created_by = "test";
  {
    pqxx::work txn(s.fx.connection);
    s.lifecycle.submit(txn, plain);
    txn.commit();
  }

  // The restart: a new process's memory holds no secrets.
  dispatch::Dispatcher dispatcher{s.pool, {}};
  operations::Lifecycle lifecycle{dispatcher, s.clock};
  runs::Fanout fanout{lifecycle, s.credentials, s.secrets};
  pqxx::work txn(s.fx.connection);
  const auto sweep = lifecycle.sweep(txn, {s.fx.server_id}, 60);
  txn.commit();

  REQUIRE(sweep.to_send.size() == 1);
  const auto& dispatch = sweep.to_send[0].second;
  CHECK(dispatch.operation_id == *s.operations_of(run_id)[0].operation_id);
  CHECK(dispatch.env == std::map<std::string, std::string>{{"RUN_SECRET", "s3cret-value"}});
  CHECK(dispatch.command == "echo \"$RUN_SECRET\"");
  // The other cannot be rebuilt: it fails at once, saying why.
  CHECK(sweep.ended == std::vector<std::string>{plain.dispatch.operation_id});
}

TEST_CASE("a pass tells the observer each committed firing's lateness", "[scheduler][metrics]") {
  SchedulerFixture s;
  s.create(s.interval_job("1m"));
  s.clock.set(t0 + 1min + 300ms);
  std::vector<double> lateness;
  scheduler::SchedulerSettings settings;
  settings.observe_lateness = [&lateness](double seconds) { lateness.push_back(seconds); };
  scheduler::pass(s.fx.connection, s.fanout, {}, settings);
  REQUIRE(lateness.size() == 1);
  CHECK(lateness[0] == Approx(0.3));
  scheduler::pass(s.fx.connection, s.fanout, {}, settings);  // nothing due: nothing told
  CHECK(lateness.size() == 1);
}
