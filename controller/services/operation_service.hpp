#pragma once
// Creating operations for automation keys and reading them back. Runs on database workers inside
// the caller's transaction.
#include "controller/operations/lifecycle.hpp"
#include "controller/auth/failure_limiter.hpp"
#include "controller/store/records.hpp"
#include "proto/messages.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace tether::services {

struct OperationSubmission {
  proto::Dispatch dispatch;  // complete, secrets included: never stored as such
  std::string server_id;
  operations::CiRunFields run;
  boost::json::object audit_detail;  // secret-free description for the audit log
  int status_code = 200;             // what the caller will answer, for the audit log
};

// Checks the key's operation and server scopes (403) and the server (404), stores the operation
// through the lifecycle without its secrets, and records the call in the audit log. The caller
// commits, then launches what this returns.
operations::Submitted submit_operation(pqxx::transaction_base& txn, operations::Lifecycle& lifecycle,
                                       const store::AutomationKeyRecord& key, const OperationSubmission& submission,
                                       const std::string& client_ip);

// The operation as `key` may see it (a poll, a stream, a cancel): 404 when unknown, 403 when its
// server or its operation type is outside the key's scopes.
store::OperationRecord operation_for_key(pqxx::transaction_base& txn, const store::AutomationKeyRecord& key,
                                         const std::string& operation_id);

// What a refused call was about, as far as its body tells (it may be malformed). For a caller that
// failed authentication these are only claims.
struct DeniedCall {
  std::string action;
  std::string client_ip;
  std::optional<std::string> server_id;
  std::optional<std::string> run_id;
};
DeniedCall describe_call(const std::string& action, const std::string& client_ip, std::string_view body);

// Records a refused v1 call (the caller's transaction was rolled back, so this gets its own).
void record_denial(pqxx::connection& connection, const std::optional<store::AutomationKeyRecord>& key,
                   const DeniedCall& call, int status_code, const std::string& reason);

// Records an operator route refused for the caller's role (action access.denied, target the call
// "POST /api/admin/api-keys", outcome denied, status 403) in a transaction of its own.
void record_role_refusal(pqxx::connection& connection, const std::string& actor, const DeniedCall& call,
                         const std::string& reason);

// Records a failed authentication (on any route) in its address's aggregated audit row, with the
// call's server_id and run_id as claims only. Commits its own transaction, without waiting for the
// WAL flush: a flood must not cost a disk flush per call.
void record_authentication_failure(pqxx::connection& connection, const auth::AuthFailureLimiter::Verdict& verdict,
                                   const DeniedCall& call, int status_code, const std::string& reason);

}  // namespace tether::services
