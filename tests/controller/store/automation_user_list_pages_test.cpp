// The other lists of jobs' and users' surroundings: triggers, users, sessions, operator API keys,
// approvals and maintenance windows. Each is walked page by page over rows that share their sort
// key, and must give exactly the rows its SQL order gives, with its filters on every page.
#include "page_walk.hpp"
#include "store_fixture.hpp"

#include "common/clock.hpp"
#include "controller/services/maintenance_service.hpp"
#include "controller/store/approval_store.hpp"
#include "controller/store/key_store.hpp"
#include "controller/store/maintenance_store.hpp"
#include "controller/store/sql_text.hpp"
#include "controller/store/trigger_store.hpp"
#include "controller/store/user_store.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tether;

namespace {

void exec(pqxx::connection& connection, const std::string& sql) {
  pqxx::work txn(connection);
  txn.exec(sql);
  txn.commit();
}

bool all_distinct(const std::vector<std::string>& ids) { return std::set<std::string>(ids.begin(), ids.end()).size() == ids.size(); }

const char* const a_job = "0000000a-0000-4000-8000-000000000000";

void insert_job(pqxx::connection& connection) {
  exec(connection, std::string("INSERT INTO jobs (id, name, operation_type, operation_params, created_by) VALUES ('") +
                       a_job + "', 'job', 'exec', '{}', 'test')");
}

}  // namespace

TEST_CASE("triggers: pages with ties on created_at give every trigger once, newest first, filters held",
          "[store][pages]") {
  testing::StoreFixture fx;
  insert_job(fx.connection);
  exec(fx.connection,
       std::string("INSERT INTO triggers (id, name, source, job_id, event, created_by, created_at, updated_at) "
                   "SELECT gen_random_uuid(), 't' || i, CASE WHEN i % 2 = 0 THEN 'config' ELSE 'dynamic' END, '") +
           a_job + "', CASE WHEN i % 3 = 0 THEN 'operation.failed' ELSE 'operation.completed' END, 'test', "
                   "timestamptz '2026-12-01 00:00:00.000001+00' + (i / 6) * interval '1 microsecond', now() "
                   "FROM generate_series(1, 300) AS i");
  pqxx::read_transaction txn(fx.connection);
  const auto walk = [&](std::optional<std::string> source, std::optional<std::string> event, int limit) {
    return testing::walk_pages(
        [&](const store::PageRequest& page) { return store::triggers::list(txn, source, event, page); }, limit,
        [](const store::TriggerRecord& t) { return t.id; });
  };
  const auto all = walk(std::nullopt, std::nullopt, 16);
  CHECK(all.size() == 300);
  CHECK(all_distinct(all));
  CHECK(all == testing::column_of(txn, "SELECT id::text FROM triggers ORDER BY created_at DESC, id DESC"));
  CHECK(walk(std::string("config"), std::string("operation.failed"), 4) ==
        testing::column_of(txn, "SELECT id::text FROM triggers WHERE source = 'config' AND event = 'operation.failed' "
                                "ORDER BY created_at DESC, id DESC"));
}

TEST_CASE("users: pages by username give every user once", "[store][pages]") {
  testing::StoreFixture fx;
  exec(fx.connection,
       "INSERT INTO users (id, username, role, password_hash) "
       "SELECT gen_random_uuid(), 'user-' || lpad(i::text, 4, '0') || CASE WHEN i % 2 = 0 THEN '' ELSE '.x' END, "
       "'viewer', 'hash' FROM generate_series(1, 230) AS i");
  pqxx::read_transaction txn(fx.connection);
  const auto walk = [&](int limit) {
    return testing::walk_pages([&](const store::PageRequest& page) { return store::users::list_users(txn, page); },
                               limit, [](const store::users::UserRecord& u) { return u.username; },
                               api::CursorShape{api::SortKey::text, api::RowId::uuid});
  };
  const auto all = walk(17);
  CHECK(all.size() == 230);
  CHECK(all == testing::column_of(txn, "SELECT username FROM users ORDER BY username"));
  CHECK(walk(230) == all);
}

TEST_CASE("sessions: pages with ties on created_at give every live session once, newest first, of one user or all",
          "[store][pages]") {
  testing::StoreFixture fx;
  const std::string ann = "000000a1-0000-4000-8000-000000000000", bob = "000000b0-0000-4000-8000-000000000000";
  exec(fx.connection, "INSERT INTO users (id, username, role, password_hash) VALUES ('" + ann +
                          "', 'ann', 'admin', 'h'), ('" + bob + "', 'bob', 'viewer', 'h')");
  // Every seventh expired: never listed.
  exec(fx.connection,
       "INSERT INTO sessions (id, token_prefix, token_hash, user_id, created_at, expires_at, last_seen_at) "
       "SELECT gen_random_uuid(), 'tss_' || lpad(to_hex(i), 8, '0'), 'h', CASE WHEN i % 3 = 0 THEN '" + ann +
           "'::uuid ELSE '" + bob + "'::uuid END, "
           "now() - interval '1 hour' + (i / 4) * interval '1 microsecond', "
           "CASE WHEN i % 7 = 0 THEN now() - interval '1 minute' ELSE now() + interval '1 day' END, now() "
           "FROM generate_series(1, 400) AS i");
  pqxx::read_transaction txn(fx.connection);
  const auto now_us = store::epoch_micros(std::chrono::system_clock::now());
  const auto walk = [&](std::optional<std::string> user, int limit) {
    return testing::walk_pages(
        [&](const store::PageRequest& page) { return store::users::live_sessions(txn, now_us, user, page); }, limit,
        [](const store::users::SessionRecord& s) { return s.id; });
  };
  const auto all = walk(std::nullopt, 21);
  CHECK(all.size() == 400 - 57);
  CHECK(all_distinct(all));
  CHECK(all == testing::column_of(txn, "SELECT id::text FROM sessions WHERE expires_at > now() "
                                       "ORDER BY created_at DESC, id DESC"));
  CHECK(walk(ann, 8) == testing::column_of(txn, "SELECT id::text FROM sessions WHERE expires_at > now() AND user_id = '" +
                                                    ann + "' ORDER BY created_at DESC, id DESC"));
}

TEST_CASE("operator API keys: pages with ties on created_at (finer than the second they show) give every key once, "
          "oldest first",
          "[store][pages]") {
  testing::StoreFixture fx;
  exec(fx.connection,
       "INSERT INTO api_keys (id, name, role, key_prefix, key_hash, created_at) "
       "SELECT gen_random_uuid(), 'k' || i, 'viewer', 'tak_' || lpad(to_hex(i), 8, '0'), 'h', "
       "timestamptz '2026-12-01 00:00:00.5+00' + (i / 3) * interval '1 microsecond' FROM generate_series(1, 250) AS i");
  pqxx::read_transaction txn(fx.connection);
  const auto walk = [&](int limit) {
    return testing::walk_pages([&](const store::PageRequest& page) { return store::keys::list_api_keys(txn, page); },
                               limit, [](const store::ApiKeyRecord& k) { return k.id; });
  };
  const auto all = walk(10);
  CHECK(all.size() == 250);
  CHECK(all == testing::column_of(txn, "SELECT id::text FROM api_keys ORDER BY created_at, id"));
  CHECK(walk(249) == all);
  CHECK(walk(250) == all);
}

TEST_CASE("approvals: pages with ties on requested_at give every request once, newest first, of a status or all",
          "[store][pages]") {
  testing::StoreFixture fx;
  exec(fx.connection,
       "INSERT INTO runs (id, status, scheduled_at, operation_type, operation_params, max_concurrency, created_by, "
       "created_at) SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'canceled', now(), 'exec', "
       "'{}', 1, 'test', now() FROM generate_series(1, 300) AS i");
  exec(fx.connection,
       "INSERT INTO approvals (id, run_id, status, reason, requested_by, requested_at, expires_at, decided_at) "
       "SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, "
       "CASE WHEN i % 4 = 0 THEN 'pending' ELSE 'approved' END, 'the job requires approval', 'job:x', "
       "timestamptz '2026-12-01 00:00:00+00' + (i / 5) * interval '1 microsecond', now() + interval '1 hour', "
       "CASE WHEN i % 4 = 0 THEN NULL ELSE now() END FROM generate_series(1, 300) AS i");
  pqxx::read_transaction txn(fx.connection);
  const auto walk = [&](std::optional<std::string> status, int limit) {
    return testing::walk_pages(
        [&](const store::PageRequest& page) { return store::approvals::list(txn, status, page); }, limit,
        [](const store::ApprovalRecord& a) { return a.id; });
  };
  const auto all = walk(std::nullopt, 13);
  CHECK(all.size() == 300);
  CHECK(all == testing::column_of(txn, "SELECT id::text FROM approvals ORDER BY requested_at DESC, id DESC"));
  const auto pending = walk(std::string("pending"), 6);
  CHECK(pending.size() == 75);
  CHECK(pending == testing::column_of(txn, "SELECT id::text FROM approvals WHERE status = 'pending' "
                                           "ORDER BY requested_at DESC, id DESC"));
}

TEST_CASE("maintenance windows: pages with ties on created_at give every window once, oldest first; the active ones "
          "page the same way",
          "[store][pages][maintenance]") {
  testing::StoreFixture fx;
  // 1,200 windows (more than one read of the active list's batches); every third in force now.
  exec(fx.connection,
       "INSERT INTO maintenance_windows (id, name, starts_at, ends_at, created_by, created_at, updated_at) "
       "SELECT gen_random_uuid(), 'w' || i, now() - interval '2 hours', "
       "CASE WHEN i % 3 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 hour' END, 'test', "
       "timestamptz '2026-12-01 00:00:00+00' + (i / 4) * interval '1 microsecond', now() "
       "FROM generate_series(1, 1200) AS i");
  pqxx::read_transaction txn(fx.connection);
  const auto all = testing::walk_pages(
      [&](const store::PageRequest& page) { return store::maintenance::list(txn, page); }, 70,
      [](const store::MaintenanceWindowRecord& w) { return w.id; });
  CHECK(all.size() == 1200);
  CHECK(all == testing::column_of(txn, "SELECT id::text FROM maintenance_windows ORDER BY created_at, id"));

  const SystemClock clock;
  const services::Maintenance maintenance(clock);
  const auto active = testing::walk_pages(
      [&](const store::PageRequest& page) { return maintenance.active(txn, page); }, 45,
      [](const store::MaintenanceWindowRecord& w) { return w.id; });
  CHECK(active.size() == 400);
  CHECK(active == testing::column_of(txn, "SELECT id::text FROM maintenance_windows WHERE ends_at > now() "
                                          "ORDER BY created_at, id"));
}
