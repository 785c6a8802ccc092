#pragma once
// A fresh, migrated database with one server, for store tests.
#include "common/ids.hpp"
#include "controller/store/migrations.hpp"
#include "controller/store/operation_store.hpp"
#include "controller/store/server_store.hpp"
#include "tests/support/test_database.hpp"

#include <pqxx/pqxx>

namespace tether::testing {

struct StoreFixture {
  TestDatabase database;
  pqxx::connection connection{database.url()};
  std::string server_id = ids::new_uuid();

  StoreFixture() {
    store::apply_migrations(connection, store::embedded_migrations());
    pqxx::work txn(connection);
    store::servers::insert(txn, server_id, "web-" + server_id.substr(0, 8), {"prod"}, "tat_" + server_id.substr(0, 8),
                           "hash");
    txn.commit();
  }

  std::string new_operation(const std::string& status = "dispatched") {
    const auto id = ids::new_uuid();
    pqxx::work txn(connection);
    store::operations::insert(txn, {id, "exec", server_id, R"({"command":"true"})", {"API_KEY"}, status, 60,
                                    std::string("run-1"), std::nullopt, "test", std::nullopt});
    txn.commit();
    return id;
  }
};

}  // namespace tether::testing
