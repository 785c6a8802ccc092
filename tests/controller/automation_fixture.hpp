#pragma once
// Jobs, runs and the fan-out on an injected clock against a real PostgreSQL with one server: what
// the scheduler and event router tests drive. Time moves only when a test moves it.
#include "store/store_fixture.hpp"

#include "common/ids.hpp"
#include "common/schedule_spec.hpp"
#include "controller/runs/fanout.hpp"
#include "controller/services/job_service.hpp"
#include "controller/services/registry_service.hpp"
#include "controller/store/db_pool.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/operation_store.hpp"
#include "controller/store/run_store.hpp"
#include "controller/store/sql_text.hpp"

#include <algorithm>

namespace tether::testing {

// 2026-12-01T00:00:00Z
inline const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1796083200));

inline std::int64_t us(Clock::time_point t) { return store::epoch_micros(t); }

struct AutomationFixture {
  StoreFixture fx;
  store::DbPool pool{fx.database.url(), 1, [](pqxx::connection&) {}};
  dispatch::Dispatcher dispatcher{pool, {}};
  ManualClock clock{t0};
  operations::Lifecycle lifecycle{dispatcher, clock};
  services::RegistryCredentials credentials{std::nullopt};
  services::SecretBox secrets{std::string(32, 'k')};  // a master key: env values can be sealed
  runs::Fanout fanout{lifecycle, credentials, secrets};
  services::Jobs jobs{clock, secrets};
  auth::Operator actor{"00000000-0000-0000-0000-000000000001", "test", auth::Role::admin};

  ~AutomationFixture() { pool.stop(); }

  services::JobSpec interval_job(const std::string& every) {
    services::JobSpec spec;
    spec.name = "job";
    spec.schedule = schedule::parse_spec("interval", std::nullopt, every, std::nullopt);
    spec.run.operation.type = "exec";
    spec.run.operation.command = "true";
    spec.run.targets.server_ids = {fx.server_id};
    return spec;
  }

  store::JobRecord create(const services::JobSpec& spec) {
    pqxx::work txn(fx.connection);
    auto job = jobs.create(txn, actor, spec, "127.0.0.1");
    txn.commit();
    return job;
  }

  store::JobRecord job(const std::string& id) {
    pqxx::read_transaction txn(fx.connection);
    return *store::jobs::find(txn, id);
  }

  std::vector<store::RunRecord> runs_of(const std::string& job_id) {
    pqxx::read_transaction txn(fx.connection);
    store::runs::ListFilter filter;
    filter.job_id = job_id;
    auto runs = store::runs::list(txn, filter).rows;
    std::reverse(runs.begin(), runs.end());  // oldest first
    return runs;
  }

  std::vector<store::RunOperation> operations_of(const std::string& run_id) {
    pqxx::read_transaction txn(fx.connection);
    return store::runs::operations_of(txn, run_id);
  }

  // Ends every open operation of the run as the agent would, with this exit code, and advances it.
  void end_operations(const std::string& run_id, int exit_code) {
    {
      pqxx::work txn(fx.connection);
      for (const auto& op : store::runs::operations_of(txn, run_id)) {
        if (!op.operation_id || op.status == "completed" || op.status == "failed" || op.status == "canceled") continue;
        txn.exec_params("UPDATE operations SET status = 'completed', exit_code = $2, completed_at = now() WHERE id = $1",
                        *op.operation_id, exit_code);
      }
      txn.commit();
    }
    advance(run_id);
  }

  void advance(const std::string& run_id) {
    pqxx::work txn(fx.connection);
    fanout.advance(txn, run_id);
    txn.commit();
  }

  store::RunRecord run(const std::string& id) {
    pqxx::read_transaction txn(fx.connection);
    return *store::runs::find(txn, id);
  }
};

}  // namespace tether::testing
