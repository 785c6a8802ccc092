#pragma once
#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace tether::store::audit {

struct Entry {
  std::string actor;   // "automation_key:<id>", "api_key:<id>", "anonymous"
  std::string action;  // "v1.exec", "servers.create", ...
  std::optional<std::string> target;
  std::optional<std::string> client_ip;
  std::string outcome;      // "allowed" | "denied" | "failed"
  std::string detail_json;  // never secrets; env key names only
};

void record(pqxx::transaction_base& txn, const Entry& entry);

}  // namespace tether::store::audit
