// The retention pruner against a real PostgreSQL, with rows at chosen ages: only what is older than
// its age goes, in batches, with what belongs to it (output, run targets, deployments); what is
// younger, unfinished or still referenced stays.
#include "../store/store_fixture.hpp"

#include "controller/automations/retention_pruner.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;

namespace {

struct RetentionFixture : testing::StoreFixture {
  ManualClock clock{std::chrono::system_clock::now()};

  // Sets an operation's status and completion `days` ago (nullopt: unfinished, created 200 days ago).
  void age_operation(const std::string& id, const std::string& status, std::optional<int> days,
                     const std::optional<std::string>& run_id = std::nullopt) {
    pqxx::work txn(connection);
    txn.exec_params(
        "UPDATE operations SET status = $2, created_at = now() - interval '200 days', "
        "completed_at = CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(days => $3::int) END, "
        "automation_run_id = $4::uuid WHERE id = $1",
        id, status, days, run_id);
    txn.commit();
  }

  void add_output(const std::string& operation_id, int chunks) {
    pqxx::work txn(connection);
    for (int seq = 1; seq <= chunks; ++seq) {
      txn.exec_params("INSERT INTO operation_output (operation_id, seq, stream, data) VALUES ($1, $2, 1, 'x')",
                      operation_id, seq);
    }
    txn.commit();
  }

  std::string add_deployment(const std::string& operation_id) {
    const auto application_id = ids::new_uuid();
    const auto id = ids::new_uuid();
    pqxx::work txn(connection);
    txn.exec_params("INSERT INTO applications (id, name, server_id, directory) VALUES ($1, $2, $3, '/srv/app')",
                    application_id, "app-" + application_id.substr(0, 8), server_id);
    txn.exec_params("INSERT INTO deployments (id, application_id, operation_id, commit_ref) VALUES ($1, $2, $3, 'main')",
                    id, application_id, operation_id);
    txn.commit();
    return id;
  }

  // A run ended `days` ago (nullopt: still running), with one target.
  std::string add_run(std::optional<int> days) {
    const auto id = ids::new_uuid();
    pqxx::work txn(connection);
    txn.exec_params(
        "INSERT INTO runs (id, status, scheduled_at, started_at, ended_at, operation_type, operation_params, "
        "max_concurrency, created_by, created_at) VALUES ($1, CASE WHEN $2::int IS NULL THEN 'running' ELSE "
        "'completed' END, now() - interval '200 days', now() - interval '200 days', "
        "CASE WHEN $2::int IS NULL THEN NULL ELSE now() - make_interval(days => $2::int) END, 'exec', '{}', 1, "
        "'test', now() - interval '200 days')",
        id, days);
    txn.exec_params("INSERT INTO run_targets (run_id, server_id, attempt, ordinal, state) VALUES ($1, $2, 1, 0, "
                    "'succeeded')",
                    id, server_id);
    txn.commit();
    return id;
  }

  std::int64_t audit_at(int days, std::optional<int> last_days = std::nullopt) {
    pqxx::work txn(connection);
    const auto id = txn.exec_params1(
                           "INSERT INTO audit_log (at, actor, action, outcome, last_at) VALUES (now() - "
                           "make_interval(days => $1), 'test', 'test.action', 'allowed', CASE WHEN $2::int IS NULL "
                           "THEN NULL ELSE now() - make_interval(days => $2::int) END) RETURNING id",
                           days, last_days)[0]
                        .as<std::int64_t>();
    txn.commit();
    return id;
  }

  std::int64_t count(const std::string& sql) {
    pqxx::read_transaction txn(connection);
    return txn.exec(sql)[0][0].as<std::int64_t>();
  }
  bool exists(const std::string& table, const std::string& column, const std::string& value) {
    pqxx::read_transaction txn(connection);
    return !txn.exec_params("SELECT 1 FROM " + table + " WHERE " + column + "::text = $1", value).empty();
  }
};

}  // namespace

TEST_CASE("retention deletes only what is older than its age, with what belongs to it", "[retention][store]") {
  RetentionFixture f;
  // Operations alone (no run).
  const auto old_alone = f.new_operation();
  f.age_operation(old_alone, "completed", 100);
  f.add_output(old_alone, 3);
  const auto old_deployment = f.add_deployment(old_alone);
  const auto mid = f.new_operation();
  f.age_operation(mid, "failed", 40);
  f.add_output(mid, 2);
  const auto recent = f.new_operation();
  f.age_operation(recent, "completed", 10);
  f.add_output(recent, 2);
  const auto unfinished = f.new_operation();
  f.age_operation(unfinished, "running", std::nullopt);
  f.add_output(unfinished, 2);
  // Runs and their operations.
  const auto old_run = f.add_run(100);
  const auto old_run_operation = f.new_operation();
  f.age_operation(old_run_operation, "completed", 100, old_run);
  f.add_output(old_run_operation, 1);
  const auto recent_run = f.add_run(10);
  const auto recent_run_operation = f.new_operation();
  f.age_operation(recent_run_operation, "completed", 10, recent_run);
  const auto open_run = f.add_run(std::nullopt);
  // An operation finished long ago whose run ended recently goes with its run, not before it.
  const auto late_run = f.add_run(20);
  const auto late_run_operation = f.new_operation();
  f.age_operation(late_run_operation, "completed", 120, late_run);
  // Audit entries.
  const auto old_audit = f.audit_at(400);
  const auto kept_audit = f.audit_at(300);
  const auto aggregated = f.audit_at(400, 10);  // a failure row still counting

  const auto pruned = automations::prune_retention(f.connection, f.clock, {});

  CHECK_FALSE(f.exists("operations", "id", old_alone));
  CHECK_FALSE(f.exists("deployments", "id", old_deployment));
  CHECK(f.count("SELECT count(*) FROM operation_output WHERE operation_id = '" + old_alone + "'") == 0);
  CHECK(f.exists("operations", "id", mid));
  CHECK(f.count("SELECT count(*) FROM operation_output WHERE operation_id = '" + mid + "'") == 0);
  CHECK(f.count("SELECT count(*) FROM operations WHERE output_pruned AND id = '" + mid + "'") == 1);
  CHECK(f.count("SELECT count(*) FROM operation_output WHERE operation_id = '" + recent + "'") == 2);
  CHECK(f.count("SELECT count(*) FROM operation_output WHERE operation_id = '" + unfinished + "'") == 2);
  CHECK(f.exists("operations", "id", unfinished));

  CHECK_FALSE(f.exists("runs", "id", old_run));
  CHECK(f.count("SELECT count(*) FROM run_targets WHERE run_id = '" + old_run + "'") == 0);
  CHECK_FALSE(f.exists("operations", "id", old_run_operation));
  CHECK(f.exists("runs", "id", recent_run));
  CHECK(f.exists("operations", "id", recent_run_operation));
  CHECK(f.exists("runs", "id", open_run));
  CHECK(f.exists("runs", "id", late_run));
  CHECK(f.exists("operations", "id", late_run_operation));
  CHECK(f.count("SELECT count(*) FROM operation_output WHERE operation_id = '" + late_run_operation + "'") == 0);

  CHECK_FALSE(f.exists("audit_log", "id", std::to_string(old_audit)));
  CHECK(f.exists("audit_log", "id", std::to_string(kept_audit)));
  CHECK(f.exists("audit_log", "id", std::to_string(aggregated)));

  CHECK(pruned.runs == 1);
  CHECK(pruned.operations == 2);          // the old one alone and the old run's
  CHECK(pruned.output_operations == 4);   // old_alone, mid, old_run_operation, late_run_operation
  CHECK(pruned.audit_entries == 1);
  CHECK_FALSE(pruned.more);

  // A second pass finds nothing more.
  const auto again = automations::prune_retention(f.connection, f.clock, {});
  CHECK(again.runs + again.operations + again.output_operations + again.audit_entries == 0);
}

TEST_CASE("retention works in bounded batches and stops at most_batches, leaving the rest to the next pass",
          "[retention][store]") {
  RetentionFixture f;
  for (int i = 0; i < 7; ++i) f.audit_at(400 + i);
  automations::RetentionSettings settings;
  settings.batch = 2;
  settings.most_batches = 3;
  auto pruned = automations::prune_retention(f.connection, f.clock, settings);
  CHECK(pruned.audit_entries == 6);
  CHECK(pruned.more);
  CHECK(f.count("SELECT count(*) FROM audit_log") == 1);
  pruned = automations::prune_retention(f.connection, f.clock, settings);
  CHECK(pruned.audit_entries == 1);
  CHECK_FALSE(pruned.more);
  CHECK(f.count("SELECT count(*) FROM audit_log") == 0);
}

TEST_CASE("retention ages come from the settings and time from the injected clock", "[retention][store]") {
  RetentionFixture f;
  const auto op = f.new_operation();
  f.age_operation(op, "completed", 10);
  f.add_output(op, 1);
  automations::RetentionSettings settings;
  CHECK(automations::prune_retention(f.connection, f.clock, settings).output_operations == 0);
  f.clock.advance(std::chrono::hours(24 * 21));  // now 31 days after it completed
  CHECK(automations::prune_retention(f.connection, f.clock, settings).output_operations == 1);
  CHECK(f.exists("operations", "id", op));
  settings.operations = std::chrono::hours(24 * 30);
  CHECK(automations::prune_retention(f.connection, f.clock, settings).operations == 1);
  CHECK_FALSE(f.exists("operations", "id", op));
}
