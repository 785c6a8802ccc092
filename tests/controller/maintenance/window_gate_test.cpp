// Maintenance windows against a real PostgreSQL on an injected clock: what they do to the
// scheduler's, a trigger's and an operator's runs, and the service's validation, activate,
// deactivate and audit entries. Time moves only when a test moves it.
#include "../automation_fixture.hpp"

#include "common/time.hpp"
#include "controller/maintenance/window_gate.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "controller/services/maintenance_service.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/approval_store.hpp"
#include "controller/store/audit_store.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;

namespace {

using testing::t0;

struct MaintenanceFixture : testing::AutomationFixture {
  services::Maintenance maintenance{clock};

  void tick() {
    scheduler::Tick result;
    {
      pqxx::work txn(fx.connection);
      result = scheduler::fire_due(txn, fanout, 100);
      txn.commit();
    }
    for (const auto& run_id : result.after.runs_to_advance) advance(run_id);
  }

  store::MaintenanceWindowRecord window(services::MaintenanceInput input) {
    pqxx::work txn(fx.connection);
    auto created = maintenance.create(txn, actor, input, "127.0.0.1");
    txn.commit();
    return created;
  }

  // A window from now + `from` to now + `to` (UTC), over `servers`.
  services::MaintenanceInput one_time(const std::string& name, std::chrono::seconds from, std::chrono::seconds to) {
    services::MaintenanceInput input;
    input.name = name;
    input.start = timeutil::format_utc(clock.now() + from);
    input.end = timeutil::format_utc(clock.now() + to);
    return input;
  }

  runs::Created fire(const store::JobRecord& job, const std::string& created_by, const runs::FireContext* fired_by = nullptr) {
    pqxx::work txn(fx.connection);
    auto created = fanout.fire_job(txn, job, clock.now(), std::nullopt, created_by, runs::FanOut::by_driver, fired_by);
    txn.commit();
    return created;
  }

  std::vector<store::audit::Row> audit(const std::string& action) {
    pqxx::read_transaction txn(fx.connection);
    store::audit::Filter filter;
    filter.action = action;
    return store::audit::query(txn, filter, 0);
  }

  template <class Call>
  std::string refusal(Call&& call) {
    try {
      pqxx::work txn(fx.connection);
      call(txn);
    } catch (const services::ServiceError& e) {
      return e.what();
    } catch (const cron::InvalidSchedule& e) {
      return e.what();
    }
    return "accepted";
  }
};

}  // namespace

TEST_CASE("a scheduled run in a disabled window is skipped naming the window; a manual trigger goes and carries it",
          "[maintenance]") {
  MaintenanceFixture s;
  auto spec = s.interval_job("1m");
  spec.overlap_policy = "allow";
  spec.catch_up_policy = "run_once";  // the times missed while the test moves the clock on: the latest runs
  const auto job = s.create(spec);
  auto input = s.one_time("Patch night", 30s, 10min);
  input.server_ids = {s.fx.server_id};
  const auto window = s.window(input);
  CHECK(window.autonomy_override == "disabled");

  s.clock.set(t0 + 1min);
  s.tick();
  auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "canceled");
  CHECK(runs[0].skipped);
  REQUIRE(runs[0].error);
  CHECK(*runs[0].error == "skipped: maintenance window 'Patch night' (" + window.id + ") holds automation still");
  CHECK(runs[0].maintenance_window_id == window.id);
  CHECK(runs[0].maintenance_window_name == std::optional<std::string>("Patch night"));
  CHECK(s.operations_of(runs[0].id).empty());

  // An operator's own run goes, and records the window (in the run and in its audit entry).
  const auto manual = s.fire(job, "user:alice");
  CHECK(manual.run.status == "running");
  CHECK_FALSE(manual.run.skipped);
  CHECK(manual.run.maintenance_window_id == window.id);
  s.advance(manual.run.id);
  CHECK(s.operations_of(manual.run.id).size() == 1);
  const auto trail = s.audit("jobs.trigger");
  REQUIRE(trail.size() == 1);
  INFO(trail[0].detail_json);
  CHECK(boost::json::parse(trail[0].detail_json).at("maintenance_window") ==
        boost::json::object{{"id", window.id}, {"name", "Patch night"}});

  // Once the window is over, the schedule runs again, with no window recorded.
  s.clock.set(t0 + 11min);
  s.tick();
  runs = s.runs_of(job.id);
  REQUIRE(runs.size() >= 3);
  CHECK(runs.back().status == "running");
  CHECK_FALSE(runs.back().maintenance_window_id);
}

TEST_CASE("a scheduled run in an approval window waits for approval naming the window; a manual trigger goes",
          "[maintenance]") {
  MaintenanceFixture s;
  auto spec = s.interval_job("1m");
  spec.overlap_policy = "allow";
  const auto job = s.create(spec);
  auto input = s.one_time("Ask first", 30s, 10min);
  input.job_ids = {job.id};
  input.autonomy_override = "approval";
  const auto window = s.window(input);

  s.clock.set(t0 + 1min);
  s.tick();
  const auto runs = s.runs_of(job.id);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == "pending_approval");
  CHECK_FALSE(runs[0].skipped);
  CHECK(runs[0].maintenance_window_id == window.id);
  CHECK(s.operations_of(runs[0].id).size() == 1);  // its target, pending
  CHECK_FALSE(s.operations_of(runs[0].id)[0].operation_id);
  {
    pqxx::read_transaction txn(s.fx.connection);
    const auto approval = store::approvals::of_run(txn, runs[0].id);
    REQUIRE(approval);
    CHECK(approval->status == "pending");
    CHECK(approval->reason == "maintenance window 'Ask first' requires approval");
  }

  const auto manual = s.fire(job, "user:alice");
  CHECK(manual.run.status == "running");
  CHECK(manual.run.maintenance_window_id == window.id);
}

TEST_CASE("a trigger's firing is held by a window over one of its servers' tags, not by one over another job",
          "[maintenance]") {
  MaintenanceFixture s;
  auto spec = s.interval_job("1h");
  spec.overlap_policy = "allow";
  const auto job = s.create(spec);
  const auto other = s.create(s.interval_job("1h"));
  auto elsewhere = s.one_time("Other job", 0s, 1h);
  elsewhere.job_ids = {other.id};
  s.window(elsewhere);

  runs::FireContext context;
  context.trigger_id = ids::new_uuid();
  context.chain_depth = 1;
  CHECK(s.fire(job, "trigger:" + context.trigger_id, &context).run.status == "running");

  auto by_tag = s.one_time("Prod freeze", 0s, 1h);
  by_tag.scope_items = std::vector<std::string>{"tag:prod"};
  const auto freeze = s.window(by_tag);
  CHECK(freeze.scope_tags == std::vector<std::string>{"prod"});
  s.clock.advance(1s);
  const auto held = s.fire(job, "trigger:" + context.trigger_id, &context);
  CHECK(held.run.status == "canceled");
  CHECK(held.run.skipped);
  CHECK(held.run.maintenance_window_name == std::optional<std::string>("Prod freeze"));
}

TEST_CASE("the strictest active window covering a run decides: skip over approval; an empty scope covers all",
          "[maintenance]") {
  MaintenanceFixture s;
  const auto job = s.create(s.interval_job("1h"));
  auto approval = s.one_time("Ask first", 0s, 1h);
  approval.autonomy_override = "approval";
  const auto ask = s.window(approval);  // empty scope: everything
  {
    pqxx::read_transaction txn(s.fx.connection);
    const auto gate = maintenance::gate_for(txn, s.clock.now(), job.id, {s.fx.server_id});
    CHECK(gate.kind == maintenance::Gate::Kind::approval);
    CHECK(gate.window_id == ask.id);
    CHECK(maintenance::gate_for(txn, s.clock.now() + 2h, job.id, {}).kind == maintenance::Gate::Kind::none);
  }
  auto stop = s.one_time("Stop", 0s, 1h);
  stop.job_ids = {job.id};
  const auto held = s.window(stop);
  pqxx::read_transaction txn(s.fx.connection);
  const auto gate = maintenance::gate_for(txn, s.clock.now(), job.id, {});
  CHECK(gate.kind == maintenance::Gate::Kind::skip);
  CHECK(gate.window_name == "Stop");
  CHECK(gate.window_id == held.id);
}

TEST_CASE("windows are validated field by field, and seed 000's scope strings resolve to servers, jobs and tags",
          "[maintenance]") {
  MaintenanceFixture s;
  const auto job = s.create(s.interval_job("1h"));
  std::string server_name;
  {
    pqxx::read_transaction txn(s.fx.connection);
    server_name = store::servers::find(txn, s.fx.server_id)->name;
  }
  services::MaintenanceInput input;
  input.name = "Weekly reboot";
  input.start = "2026-03-22T03:00:00";
  input.end = "2026-03-22T04:00:00";
  input.recurring = "0 3 * * 0";
  input.timezone = "Europe/Berlin";
  input.scope_items = std::vector<std::string>{server_name, job.id, "tag:db"};
  const auto weekly = s.window(input);
  CHECK(weekly.scope_server_ids == std::vector<std::string>{s.fx.server_id});
  CHECK(weekly.scope_job_ids == std::vector<std::string>{job.id});
  CHECK(weekly.scope_tags == std::vector<std::string>{"db"});
  CHECK(weekly.duration_seconds == 3600);  // end - start
  CHECK(weekly.start_us == testing::us(*timeutil::parse_rfc3339("2026-03-22T02:00:00Z")));  // 03:00 CET

  const auto refused = [&](services::MaintenanceInput changed) {
    return s.refusal([&](pqxx::transaction_base& txn) { s.maintenance.create(txn, s.actor, changed, "127.0.0.1"); });
  };
  auto bad = input;
  bad.scope_items = std::vector<std::string>{"tag:db", "monitor_abc"};
  CHECK(refused(bad) == "scope[1]: \"monitor_abc\" is no server (id or name), job id or tag:<tag>");
  bad = input;
  bad.scope_items.reset();
  bad.server_ids = {ids::new_uuid()};
  CHECK(refused(bad).rfind("scope.server_ids[0]: server ", 0) == 0);
  bad = input;
  bad.recurring = "0 3 * * 8";
  CHECK(refused(bad).rfind("recurring: day-of-week", 0) == 0);
  bad = input;
  bad.start = "Sunday";
  CHECK(refused(bad).rfind("start: must be a date-time", 0) == 0);
  bad = input;
  bad.recurring.reset();
  bad.end = "2026-03-22T02:00:00";
  CHECK(refused(bad) == "end: must be after start");
  bad = input;
  bad.timezone = "Mars/Olympus";
  CHECK(refused(bad) == "timezone: unknown time zone \"Mars/Olympus\"");
  bad = input;
  bad.autonomy_override = "sometimes";
  CHECK(refused(bad) == "autonomy_override: must be one of disabled, approval");
  bad = input;
  bad.start.reset();
  CHECK(refused(bad) == "duration: is required for a recurring window (or give start and end)");
  bad.duration = "90m";
  CHECK(refused(bad) == "accepted");
}

TEST_CASE("activate and deactivate move a window by hand, and every change is audited", "[maintenance]") {
  MaintenanceFixture s;
  const auto job = s.create(s.interval_job("1h"));
  services::MaintenanceInput input;
  input.name = "Nightly";
  input.recurring = "0 3 * * *";
  input.duration = "1h";
  input.job_ids = {job.id};
  const auto nightly = s.window(input);  // t0 is 00:00 UTC: not active
  CHECK_FALSE(maintenance::activity_of(nightly, s.clock.now()).active);

  const auto refused = [&](auto call) { return s.refusal(call); };
  CHECK(refused([&](pqxx::transaction_base& txn) { s.maintenance.deactivate(txn, s.actor, nightly.id, "127.0.0.1"); }) ==
        "maintenance window " + nightly.id + " is not active");

  pqxx::work txn(s.fx.connection);
  auto activated = s.maintenance.activate(txn, s.actor, nightly.id, "127.0.0.1");
  auto activity = maintenance::activity_of(activated, s.clock.now());
  CHECK(activity.active);
  CHECK(activity.by_hand);
  CHECK(activity.until == t0 + 1h);  // one duration from now
  CHECK(s.maintenance.active(txn, {}).rows.size() == 1);
  s.maintenance.deactivate(txn, s.actor, nightly.id, "127.0.0.1");
  CHECK(s.maintenance.active(txn, {}).rows.empty());

  // At 03:10 its occurrence is in progress; deactivated, it is back the next night.
  s.clock.set(t0 + 3h + 10min);
  CHECK(s.maintenance.active(txn, {}).rows.size() == 1);
  const auto quiet = s.maintenance.deactivate(txn, s.actor, nightly.id, "127.0.0.1");
  activity = maintenance::activity_of(quiet, s.clock.now());
  CHECK_FALSE(activity.active);
  CHECK(activity.next_start == t0 + 27h);
  CHECK(maintenance::activity_of(quiet, t0 + 27h + 1min).active);

  input.name = "Nightly (renamed)";
  CHECK(s.maintenance.replace(txn, s.actor, nightly.id, input, "127.0.0.1").name == "Nightly (renamed)");
  s.maintenance.remove(txn, s.actor, nightly.id, "127.0.0.1");
  txn.commit();
  CHECK(s.refusal([&](pqxx::transaction_base& t) { s.maintenance.remove(t, s.actor, nightly.id, "127.0.0.1"); }) ==
        "maintenance window not found");

  for (const auto& [action, count] : std::vector<std::pair<std::string, std::size_t>>{{"maintenance.create", 1},
                                                                                      {"maintenance.activate", 1},
                                                                                      {"maintenance.deactivate", 2},
                                                                                      {"maintenance.update", 1},
                                                                                      {"maintenance.delete", 1}}) {
    const auto rows = s.audit(action);
    INFO(action);
    REQUIRE(rows.size() == count);
    CHECK(rows[0].actor == s.actor.actor());
    CHECK(rows[0].outcome == "allowed");
  }
  CHECK(boost::json::parse(s.audit("maintenance.update")[0].detail_json).at("name") == "Nightly (renamed)");
}
