#include "controller/services/exec_service.hpp"

#include "common/json_fields.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/http/responses.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/key_store.hpp"
#include "controller/store/operation_store.hpp"
#include "controller/store/server_store.hpp"

namespace tether::services {

using http::ApiError;
using http::bhttp::status;

ExecSubmission submit_exec(pqxx::transaction_base& txn, const store::AutomationKeyRecord& key,
                           const api::v1::ExecRequest& request, const std::string& operation_id,
                           bool agent_connected, const std::string& client_ip) {
  auth::require_operation_scope(key, "exec");
  auth::require_server_scope(key, request.server_id);
  const auto server = store::servers::find(txn, request.server_id);
  if (!server || server->status == "decommissioned") {
    throw ApiError(status::not_found, "server " + request.server_id + " not found");
  }

  std::vector<std::string> env_keys;
  for (const auto& [name, value] : request.env) env_keys.push_back(name);
  boost::json::object params{{"command", request.command}};
  params["working_directory"] =
      request.working_directory ? boost::json::value(*request.working_directory) : boost::json::value(nullptr);

  ExecSubmission submission{operation_id, agent_connected ? "dispatched" : "queued", "automation_key:" + key.id};
  store::operations::insert(txn, store::NewOperation{operation_id, "exec", request.server_id, json::serialize(params),
                                                     env_keys, submission.status, request.timeout_seconds,
                                                     request.run_id, request.run_context_json,
                                                     submission.created_by, key.id});

  boost::json::array env_names;
  for (const auto& name : env_keys) env_names.emplace_back(name);
  boost::json::object detail{{"operation_id", operation_id},
                             {"server_id", request.server_id},
                             {"command", request.command},
                             {"env_keys", std::move(env_names)},
                             {"run_id", request.run_id ? boost::json::value(*request.run_id) : nullptr}};
  if (request.run_context_json) detail["run_context"] = boost::json::parse(*request.run_context_json);
  store::audit::record(txn, {submission.created_by, "v1.exec", operation_id, client_ip, "allowed",
                             json::serialize(detail)});
  store::keys::touch_automation_key(txn, key.id);
  return submission;
}

store::OperationRecord operation_for_key(pqxx::transaction_base& txn, const store::AutomationKeyRecord& key,
                                         const std::string& operation_id) {
  auto operation = store::operations::find(txn, operation_id, true);
  if (!operation) throw ApiError(status::not_found, "operation " + operation_id + " not found");
  auth::require_server_scope(key, operation->server_id);
  return std::move(*operation);
}

}  // namespace tether::services
