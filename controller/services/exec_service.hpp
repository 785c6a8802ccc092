#pragma once
// Creating exec operations and reading them back for automation keys. Runs on database workers
// inside the caller's transaction.
#include "controller/api/v1/exec_request.hpp"
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

#include <string>

namespace tether::services {

struct ExecSubmission {
  std::string operation_id;
  std::string status;  // dispatched (agent connected here) or queued
  std::string created_by;
};

// Checks the key's scopes (403) and the server (404), stores the operation without env values
// and records the call in the audit log.
ExecSubmission submit_exec(pqxx::transaction_base& txn, const store::AutomationKeyRecord& key,
                           const api::v1::ExecRequest& request, const std::string& operation_id,
                           bool agent_connected, const std::string& client_ip);

// 404 when unknown, 403 when its server is outside the key's scope.
store::OperationRecord operation_for_key(pqxx::transaction_base& txn, const store::AutomationKeyRecord& key,
                                         const std::string& operation_id);

}  // namespace tether::services
