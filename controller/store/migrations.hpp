#pragma once
#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace tether::store {

struct Migration {
  int version;       // from the file name: sql/0001_init.sql -> 1
  std::string name;  // 0001_init.sql
  std::string sql;
};

// The sql/ files, compiled into the binary so a deployed controller needs nothing beside it.
const std::vector<Migration>& embedded_migrations();

// Applies every migration not yet recorded in schema_migrations, all in one transaction under an
// advisory lock so that replicas starting together apply each exactly once. Returns how many ran.
int apply_migrations(pqxx::connection& connection, const std::vector<Migration>& migrations);

}  // namespace tether::store
