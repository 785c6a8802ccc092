#include "controller/store/system_automation_locks.hpp"

#include "controller/store/sql_text.hpp"

namespace tether::store::system_automations {

std::set<std::string> locked_keys(pqxx::transaction_base& txn, const std::vector<std::string>& keys) {
  std::set<std::string> out;
  // A two-key advisory lock shows in pg_locks as classid = key 1, objid = key 2, objsubid = 2.
  for (const auto& row : txn.exec_params(
           "SELECT k FROM jsonb_array_elements_text($1::jsonb) AS k WHERE EXISTS (SELECT 1 FROM pg_locks l "
           "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
           // Advisory locks are per database: another database on the same server is another Tether.
           "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
           "AND l.classid = hashtext('tether.automation')::oid AND l.objid = hashtext(k)::oid)",
           to_json_array(keys))) {
    out.insert(row[0].as<std::string>());
  }
  return out;
}

}  // namespace tether::store::system_automations
