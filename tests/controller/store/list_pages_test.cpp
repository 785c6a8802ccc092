// Keyset pages of the lists (store/page.hpp): a walk from the first page to the last sees every
// row once, in the list's order, even where many rows share a sort key (the same name, the same
// microsecond); and each page is one range of an index, never a sort of the whole table. The
// plans are those of the store's own statements with their own parameters, as auto_explain
// reports them.
#include "page_walk.hpp"
#include "store_fixture.hpp"

#include "controller/store/application_store.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/key_store.hpp"
#include "controller/store/operation_store.hpp"
#include "controller/store/registry_store.hpp"
#include "controller/store/server_store.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

using namespace tether;

namespace {

void check_once_each(const std::vector<std::string>& walked, const std::vector<std::string>& expected) {
  CHECK(std::set<std::string>(walked.begin(), walked.end()).size() == walked.size());  // no duplicate
  CHECK(walked.size() == expected.size());
  CHECK(walked == expected);  // none missing, in the list's order
}

// A page's plan never scans the whole table nor sorts it: it reads `ordered` (an index in the
// list's order) without a sort. With a filter (`filtered`: the index the filter may use, or the
// ordered one), the planner may instead read a range of an index (the filter's, or the ordered
// one past the cursor) and sort those rows alone, when it expects few of them to match.
void check_index_served(const std::string& plan, const std::string& table, const std::string& ordered,
                        const std::string& filtered = {}) {
  INFO(plan);
  CHECK(plan.find("plan:") != std::string::npos);  // the statement was explained at all
  CHECK(plan.find("Seq Scan on " + table) == std::string::npos);
  const bool in_order =
      plan.find("using " + ordered + " on " + table) != std::string::npos && plan.find("Sort") == std::string::npos;
  const auto reads = [&](const std::string& index) { return plan.find(" " + index + " ") != std::string::npos; };
  const bool a_range = !filtered.empty() && plan.find("Index Cond") != std::string::npos &&
                       (reads(filtered) || reads(ordered));
  CHECK((in_order || a_range));
}

void analyze(pqxx::connection& connection) {
  pqxx::nontransaction txn(connection);
  txn.exec("ANALYZE");
  txn.commit();
}

struct SortedRow {
  std::string sort;
  std::int64_t micros = 0;
  std::string id;
};

// The ids of `sql`'s rows (id, sort key) sorted as a list by (sort key, id) is: ascending, or
// descending when `newest_first`; the sort key is a name compared byte by byte, or epoch
// microseconds; ids compare as text (UUIDs) or as numbers (bigserial).
std::vector<std::string> expected_order(pqxx::connection& connection, const std::string& sql, bool micros,
                                        bool newest_first, bool numeric_id = false) {
  std::vector<SortedRow> rows;
  pqxx::read_transaction txn(connection);
  for (const auto& row : txn.exec(sql)) {
    SortedRow keyed;
    keyed.id = row[0].as<std::string>();
    if (micros) keyed.micros = row[1].as<std::int64_t>();
    else keyed.sort = row[1].as<std::string>();
    rows.push_back(std::move(keyed));
  }
  const auto tuple = [numeric_id](const SortedRow& k) {
    return std::make_tuple(k.sort, k.micros, numeric_id ? std::stoll(k.id) : 0LL, k.id);
  };
  std::sort(rows.begin(), rows.end(), [&](const SortedRow& a, const SortedRow& b) {
    return newest_first ? tuple(b) < tuple(a) : tuple(a) < tuple(b);
  });
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.id);
  return ids;
}

const std::string micros_of_created = "(extract(epoch from created_at) * 1000000)::bigint";

// 3,000 servers besides the fixture's: names node-0000 … node-1999 for the live ones, and 1,000
// decommissioned ones reusing names node-0000 … node-0999 (a name shared by two rows: a tie).
void insert_servers(pqxx::connection& connection) {
  pqxx::work txn(connection);
  txn.exec(
      "INSERT INTO servers (id, name, tags, status) "
      "SELECT gen_random_uuid(), 'node-' || lpad((i % 2000)::text, 4, '0'), "
      "CASE WHEN i % 3 = 0 THEN ARRAY['prod', 'eu'] ELSE ARRAY['dev'] END, "
      "CASE WHEN i >= 2000 THEN 'decommissioned' WHEN i % 5 = 0 THEN 'unreachable' ELSE 'active' END "
      "FROM generate_series(0, 2999) i");
  txn.commit();
}

}  // namespace

TEST_CASE("servers are walked by name then id, each once, names shared and filters combined", "[store][pages]") {
  testing::StoreFixture fx;
  insert_servers(fx.connection);
  struct Case {
    std::string label;
    store::servers::ListFilter filter;
    std::string where;
  };
  const std::vector<Case> cases = {
      {"all", {}, "true"},
      {"status", {std::string("active"), std::nullopt, std::nullopt}, "status = 'active'"},
      {"tag", {std::nullopt, std::string("eu"), std::nullopt}, "'eu' = ANY(tags)"},
      {"name prefix", {std::nullopt, std::nullopt, std::string("node-01")}, "name LIKE 'node-01%'"},
      {"all three", {std::string("decommissioned"), std::string("prod"), std::string("node-0")},
       "status = 'decommissioned' AND 'prod' = ANY(tags) AND name LIKE 'node-0%'"},
  };
  for (const auto& c : cases) {
    for (int limit : {7, 100, 1000}) {
      INFO(c.label << ", limit " << limit);
      const auto expected =
          expected_order(fx.connection, "SELECT id::text, name FROM servers WHERE " + c.where, false, false);
      REQUIRE(expected.size() > 150);
      pqxx::read_transaction txn(fx.connection);
      const auto walked = testing::walk_pages(
          [&](const store::PageRequest& request) { return store::servers::list(txn, c.filter, request); }, limit,
          [](const store::ServerRecord& server) { return server.id; },
          api::CursorShape{api::SortKey::text, api::RowId::uuid});
      check_once_each(walked, expected);
    }
  }
}

TEST_CASE("a page of servers is a range of an index, filtered or not, first page or deep", "[store][pages]") {
  testing::StoreFixture fx;
  insert_servers(fx.connection);
  analyze(fx.connection);
  store::PageRequest deep;
  deep.limit = 100;
  deep.after = store::PageAfter{"node-1500", "00000000-0000-0000-0000-000000000000"};
  for (const auto& request : {store::PageRequest{}, deep}) {
    INFO("after: " << (request.after ? request.after->sort : "none"));
    const auto page_plan = [&](const store::servers::ListFilter& filter) {
      return testing::plans_of(fx.connection, [&](pqxx::transaction_base& txn) { store::servers::list(txn, filter, request); });
    };
    check_index_served(page_plan({}), "servers", "servers_by_name");
    check_index_served(page_plan({std::string("unreachable"), std::nullopt, std::nullopt}), "servers",
                       "servers_by_status_name", "servers_by_status_name");
    check_index_served(page_plan({std::nullopt, std::string("eu"), std::nullopt}), "servers", "servers_by_name",
                       "servers_by_tag");
    const auto prefix_plan = page_plan({std::nullopt, std::nullopt, std::string("node-1")});
    check_index_served(prefix_plan, "servers", "servers_by_name", "servers_by_name");
    // The prefix bounds the range of the index (it is not a filter over the rest of the table).
    CHECK(prefix_plan.find("'node-1'::text") != std::string::npos);
    CHECK(prefix_plan.find("< 'node-2'::text") != std::string::npos);
  }
}

namespace {

// 3,000 operations: groups of ten share one created_at and the groups are a microsecond apart;
// a third are key A's, a third key B's, none of the last third has a key; run ids r0 … r4.
struct Operations {
  std::string key_a = ids::new_uuid(), key_b = ids::new_uuid();
};
Operations insert_operations(testing::StoreFixture& fx) {
  Operations out;
  pqxx::work txn(fx.connection);
  for (const auto& key : {out.key_a, out.key_b}) {
    txn.exec_params(
        "INSERT INTO automation_keys (id, name, key_prefix, key_hash, created_by) VALUES ($1, 'k', $2, 'h', 'test')",
        key, "rca_" + key.substr(0, 8));
  }
  txn.exec_params(
      "INSERT INTO operations (id, type, server_id, status, timeout_seconds, run_id, created_by, automation_key_id, "
      "created_at) "
      "SELECT gen_random_uuid(), 'exec', $1, 'completed', 60, 'r' || (i % 5), 'test', "
      "CASE i % 3 WHEN 0 THEN $2::uuid WHEN 1 THEN $3::uuid END, "
      "timestamptz '2026-01-01 00:00:00.000001+00' + (i / 10) * interval '1 microsecond' "
      "FROM generate_series(0, 2999) i",
      fx.server_id, out.key_a, out.key_b);
  txn.commit();
  return out;
}

}  // namespace

TEST_CASE("operations are walked newest first, each once, ties within a microsecond included", "[store][pages]") {
  testing::StoreFixture fx;
  const auto ops = insert_operations(fx);
  struct Case {
    std::string label;
    store::operations::ListFilter filter;
    std::string where;
  };
  store::operations::ListFilter by_key, by_run, by_both;
  by_key.automation_key_id = ops.key_a;
  by_run.run_id = "r3";
  by_both.automation_key_id = ops.key_b;
  by_both.run_id = "r1";
  const std::vector<Case> cases = {{"all", {}, "true"},
                                   {"key", by_key, "automation_key_id = '" + ops.key_a + "'"},
                                   {"run", by_run, "run_id = 'r3'"},
                                   {"key and run", by_both, "automation_key_id = '" + ops.key_b + "' AND run_id = 'r1'"}};
  for (const auto& c : cases) {
    for (int limit : {7, 100}) {
      INFO(c.label << ", limit " << limit);
      const auto expected = expected_order(
          fx.connection, "SELECT id::text, " + micros_of_created + " FROM operations WHERE " + c.where, true, true);
      REQUIRE(expected.size() >= 200);
      pqxx::read_transaction txn(fx.connection);
      const auto walked = testing::walk_pages(
          [&](const store::PageRequest& request) { return store::operations::list(txn, c.filter, request); }, limit,
          [](const store::OperationRecord& operation) { return operation.id; });
      check_once_each(walked, expected);
    }
  }
}

TEST_CASE("a page of operations is a range of an index: all, a key's, a run's", "[store][pages]") {
  testing::StoreFixture fx;
  const auto ops = insert_operations(fx);
  analyze(fx.connection);
  store::PageRequest deep;
  deep.after = store::PageAfter{"1767225600000150", "ffffffff-ffff-ffff-ffff-ffffffffffff"};
  store::operations::ListFilter by_key, by_run;
  by_key.automation_key_id = ops.key_b;
  by_run.run_id = "r2";
  for (const auto& request : {store::PageRequest{}, deep}) {
    const auto page_plan = [&](const store::operations::ListFilter& filter) {
      return testing::plans_of(fx.connection,
                      [&](pqxx::transaction_base& txn) { store::operations::list(txn, filter, request); });
    };
    check_index_served(page_plan({}), "operations", "operations_by_created");
    check_index_served(page_plan(by_key), "operations", "operations_by_created", "operations_by_key");
    check_index_served(page_plan(by_run), "operations", "operations_by_created", "operations_by_run_id");
  }
}

namespace {

// 3,000 audit entries written at ten different times (one transaction each: 300 entries share
// each `at`), a third of them by one key, actors user:u0 … user:u3.
std::string insert_audit(testing::StoreFixture& fx) {
  const auto key = ids::new_uuid();
  for (int batch = 0; batch < 10; ++batch) {
    pqxx::work txn(fx.connection);
    txn.exec_params(
        "INSERT INTO audit_log (at, actor, action, outcome, key_id) "
        "SELECT timestamptz '2026-01-01 00:00:00+00' + $1::int * interval '1 microsecond', 'user:u' || (i % 4), "
        "'servers.update', 'allowed', CASE WHEN i % 3 = 0 THEN $2::uuid END FROM generate_series(0, 299) i",
        batch, key);
    txn.commit();
  }
  return key;
}

}  // namespace

TEST_CASE("the audit log is walked newest first, each entry once, 300 entries sharing each time",
          "[store][pages]") {
  testing::StoreFixture fx;
  const auto key = insert_audit(fx);
  store::audit::Filter by_key, by_actor, by_prefix;
  by_key.key_id = key;
  by_actor.actor = "user:u2";
  by_prefix.action_prefix = "servers.";
  struct Case {
    std::string label;
    store::audit::Filter filter;
    std::string where;
  };
  const std::vector<Case> cases = {{"all", {}, "true"},
                                   {"key", by_key, "key_id = '" + key + "'"},
                                   {"actor", by_actor, "actor = 'user:u2'"},
                                   {"action prefix", by_prefix, "action LIKE 'servers.%'"}};
  for (const auto& c : cases) {
    for (int limit : {7, 100}) {
      INFO(c.label << ", limit " << limit);
      const auto expected = expected_order(
          fx.connection, "SELECT id::text, (extract(epoch from at) * 1000000)::bigint FROM audit_log WHERE " + c.where,
          true, true, true);
      REQUIRE(expected.size() >= 700);
      pqxx::read_transaction txn(fx.connection);
      const auto walked = testing::walk_pages(
          [&](const store::PageRequest& request) { return store::audit::page(txn, c.filter, request, 0); }, limit,
          [](const store::audit::Row& row) { return std::to_string(row.id); },
          api::CursorShape{api::SortKey::micros, api::RowId::integer});
      check_once_each(walked, expected);
    }
  }
}

TEST_CASE("a page of the audit log is a range of an index: all of it, a key's, an actor's", "[store][pages]") {
  testing::StoreFixture fx;
  const auto key = insert_audit(fx);
  analyze(fx.connection);
  store::PageRequest deep;
  deep.after = store::PageAfter{"1767225600000005", "1500"};
  store::audit::Filter by_key, by_actor;
  by_key.key_id = key;
  by_actor.actor = "user:u1";
  for (const auto& request : {store::PageRequest{}, deep}) {
    const auto page_plan = [&](const store::audit::Filter& filter) {
      return testing::plans_of(fx.connection, [&](pqxx::transaction_base& txn) { store::audit::page(txn, filter, request, 0); });
    };
    check_index_served(page_plan({}), "audit_log", "audit_log_at");
    check_index_served(page_plan(by_key), "audit_log", "audit_log_at", "audit_log_by_key");
    check_index_served(page_plan(by_actor), "audit_log", "audit_log_at", "audit_log_by_actor");
  }
}

namespace {

// 2,000 deployments of two applications (each on its own operation), ten to a microsecond; 1,500
// applications, 1,500 registry credentials and 1,500 automation keys, three to a microsecond, a
// tenth of the applications and credentials deleted.
struct Deploys {
  std::string application_a = ids::new_uuid(), application_b = ids::new_uuid();
};
Deploys insert_deploy_targets(testing::StoreFixture& fx) {
  Deploys out;
  pqxx::work txn(fx.connection);
  txn.exec_params(
      "INSERT INTO applications (id, name, server_id, directory, created_at) "
      "SELECT gen_random_uuid(), 'app-' || i, $1, '/srv/app', "
      "timestamptz '2026-01-01 00:00:00+00' + (i / 3) * interval '1 microsecond' FROM generate_series(0, 1499) i",
      fx.server_id);
  txn.exec("UPDATE applications SET deleted_at = now() WHERE name LIKE '%5'");
  txn.exec_params(
      "INSERT INTO applications (id, name, server_id, directory) VALUES ($1, 'a', $3, '/srv/a'), ($2, 'b', $3, '/srv/b')",
      out.application_a, out.application_b, fx.server_id);
  txn.exec_params(
      "WITH ops AS (INSERT INTO operations (id, type, server_id, status, timeout_seconds, created_by) "
      "  SELECT gen_random_uuid(), 'deploy', $1, 'completed', 60, 'test' FROM generate_series(0, 1999) "
      "  RETURNING id), numbered AS (SELECT id, row_number() OVER () - 1 AS i FROM ops) "
      "INSERT INTO deployments (id, application_id, operation_id, commit_ref, created_at) "
      "SELECT gen_random_uuid(), CASE WHEN i % 2 = 0 THEN $2::uuid ELSE $3::uuid END, id, 'main', "
      "timestamptz '2026-01-01 00:00:00+00' + (i / 10) * interval '1 microsecond' FROM numbered",
      fx.server_id, out.application_a, out.application_b);
  txn.exec(
      "INSERT INTO registry_credentials (id, name, registry_url, registry_type, username, password_encrypted, "
      "created_at) SELECT gen_random_uuid(), 'cred-' || i, 'ghcr.io', 'ghcr', 'u', '\\x00', "
      "timestamptz '2026-01-01 00:00:00+00' + (i / 3) * interval '1 microsecond' FROM generate_series(0, 1499) i");
  txn.exec("UPDATE registry_credentials SET deleted_at = now() WHERE name LIKE '%7'");
  txn.exec(
      "INSERT INTO automation_keys (id, name, key_prefix, key_hash, created_by, created_at) "
      "SELECT gen_random_uuid(), 'key-' || i, 'rca_' || i, 'h', 'test', "
      "timestamptz '2026-01-01 00:00:00+00' + (i / 3) * interval '1 microsecond' FROM generate_series(0, 1499) i");
  txn.commit();
  return out;
}

}  // namespace

TEST_CASE("deployments, applications, registry credentials and automation keys are walked each once, in order",
          "[store][pages]") {
  testing::StoreFixture fx;
  const auto deploys = insert_deploy_targets(fx);
  const std::vector<std::optional<std::string>> applications = {std::nullopt, deploys.application_b};
  std::vector<std::vector<std::string>> expected_deployments;
  for (const auto& application : applications) {
    expected_deployments.push_back(expected_order(
        fx.connection,
        "SELECT id::text, " + micros_of_created + " FROM deployments" +
            (application ? " WHERE application_id = '" + *application + "'" : std::string()),
        true, true));
    REQUIRE(expected_deployments.back().size() >= 1000);
  }
  const auto expected_applications = expected_order(
      fx.connection, "SELECT id::text, " + micros_of_created + " FROM applications WHERE deleted_at IS NULL", true,
      false);
  const auto expected_credentials = expected_order(
      fx.connection, "SELECT id::text, " + micros_of_created + " FROM registry_credentials WHERE deleted_at IS NULL",
      true, false);
  const auto expected_keys =
      expected_order(fx.connection, "SELECT id::text, " + micros_of_created + " FROM automation_keys", true, false);
  REQUIRE(expected_applications.size() > 1000);
  REQUIRE(expected_credentials.size() > 1000);
  REQUIRE(expected_keys.size() == 1500);
  for (int limit : {7, 100}) {
    INFO("limit " << limit);
    pqxx::read_transaction txn(fx.connection);
    for (std::size_t i = 0; i < applications.size(); ++i) {
      check_once_each(testing::walk_pages(
                          [&](const store::PageRequest& request) {
                            return store::applications::deployments(txn, applications[i], request);
                          },
                          limit, [](const store::applications::Deployment& d) { return d.id; }),
                      expected_deployments[i]);
    }
    check_once_each(
        testing::walk_pages([&](const store::PageRequest& request) { return store::applications::list(txn, request); },
                            limit, [](const store::applications::Application& a) { return a.id; }),
        expected_applications);
    check_once_each(
        testing::walk_pages([&](const store::PageRequest& request) { return store::registry::list(txn, request); },
                            limit, [](const store::registry::Credential& c) { return c.id; }),
        expected_credentials);
    check_once_each(
        testing::walk_pages(
            [&](const store::PageRequest& request) { return store::keys::list_automation_keys(txn, request); }, limit,
            [](const store::AutomationKeyRecord& k) { return k.id; }),
        expected_keys);
  }
}

TEST_CASE("a page of deployments, applications, registry credentials or automation keys is a range of an index",
          "[store][pages]") {
  testing::StoreFixture fx;
  const auto deploys = insert_deploy_targets(fx);
  analyze(fx.connection);
  store::PageRequest deep;
  deep.after = store::PageAfter{"1767225600000100", "00000000-0000-0000-0000-000000000000"};
  for (const auto& request : {store::PageRequest{}, deep}) {
    const auto plan = [&](const std::function<void(pqxx::transaction_base&)>& run) {
      return testing::plans_of(fx.connection, run);
    };
    check_index_served(plan([&](pqxx::transaction_base& txn) {
                         store::applications::deployments(txn, std::nullopt, request);
                       }),
                       "deployments", "deployments_by_created");
    check_index_served(plan([&](pqxx::transaction_base& txn) {
                         store::applications::deployments(txn, deploys.application_a, request);
                       }),
                       "deployments", "deployments_by_created", "deployments_by_application");
    check_index_served(plan([&](pqxx::transaction_base& txn) { store::applications::list(txn, request); }),
                       "applications", "applications_by_created");
    check_index_served(plan([&](pqxx::transaction_base& txn) { store::registry::list(txn, request); }),
                       "registry_credentials", "registry_credentials_by_created");
    check_index_served(plan([&](pqxx::transaction_base& txn) { store::keys::list_automation_keys(txn, request); }),
                       "automation_keys", "automation_keys_by_created");
  }
}
