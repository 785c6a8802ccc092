#pragma once
// Which loops' advisory locks (system_automation_store.hpp, try_lock) some session holds right now:
// a pass of the loop is under way on some replica.
#include <pqxx/pqxx>

#include <set>
#include <string>
#include <vector>

namespace tether::store::system_automations {

std::set<std::string> locked_keys(pqxx::transaction_base& txn, const std::vector<std::string>& keys);

}  // namespace tether::store::system_automations
