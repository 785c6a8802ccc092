#include "controller/services/operation_service.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/key_store.hpp"
#include "controller/store/operation_store.hpp"
#include "controller/store/server_store.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::services {

using services::ServiceError;

operations::Submitted submit_operation(pqxx::transaction_base& txn, operations::Lifecycle& lifecycle,
                                       const store::AutomationKeyRecord& key, const OperationSubmission& submission,
                                       const std::string& client_ip) {
  const auto& dispatch = submission.dispatch;
  auth::require_operation_scope(key, dispatch.operation_type);
  auth::require_server_scope(key, submission.server_id);
  const std::string created_by = "automation_key:" + key.id;
  operations::Submission request{dispatch,
                                 submission.server_id,
                                 created_by,
                                 key.id,
                                 submission.run.run_id,
                                 submission.run.run_context_json,
                                 std::nullopt,
                                 std::nullopt};
  auto submitted = lifecycle.submit(txn, request);

  auto detail = submission.audit_detail;
  boost::json::array env_names;
  for (const auto& [name, value] : dispatch.env) env_names.emplace_back(name);
  detail["env_keys"] = std::move(env_names);
  if (submission.run.run_context_json) detail["run_context"] = boost::json::parse(*submission.run.run_context_json);
  store::audit::record(txn, {created_by, "v1." + dispatch.operation_type, dispatch.operation_id, client_ip, "allowed",
                             json::serialize(detail), key.id, submission.server_id, dispatch.operation_id,
                             submission.run.run_id, submission.status_code});
  store::keys::touch_automation_key(txn, key.id);
  return submitted;
}

store::OperationRecord operation_for_key(pqxx::transaction_base& txn, const store::AutomationKeyRecord& key,
                                         const std::string& operation_id) {
  auto operation = store::operations::find(txn, operation_id, true);
  if (!operation) throw ServiceError(Refusal::not_found, "operation " + operation_id + " not found");
  // The scopes that decide who may start an operation decide who may read, follow or cancel it.
  auth::require_server_scope(key, operation->server_id);
  auth::require_operation_scope(key, operation->type);
  return std::move(*operation);
}

DeniedCall describe_call(const std::string& action, const std::string& client_ip, std::string_view body) {
  DeniedCall call{action, client_ip, std::nullopt, std::nullopt};
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) return call;
  const auto& object = parsed.as_object();
  if (auto it = object.find("server_id"); it != object.end() && it->value().is_string()) {
    call.server_id = ids::parse_uuid(it->value().as_string());
  }
  if (auto it = object.find("run_id"); it != object.end() && it->value().is_string() &&
                                       it->value().as_string().size() <= 200) {
    call.run_id = std::string(it->value().as_string());
  }
  return call;
}

void record_denial(pqxx::connection& connection, const std::optional<store::AutomationKeyRecord>& key,
                   const DeniedCall& call, int status_code, const std::string& reason) {
  pqxx::work txn(connection);
  store::audit::record(txn, {key ? "automation_key:" + key->id : "anonymous", call.action, std::nullopt,
                             call.client_ip, "denied", json::serialize(boost::json::object{{"reason", reason}}),
                             key ? std::optional<std::string>(key->id) : std::nullopt, call.server_id, std::nullopt,
                             call.run_id, status_code});
  txn.commit();
}

void record_role_refusal(pqxx::connection& connection, const std::string& actor, const DeniedCall& call,
                         const std::string& reason) {
  pqxx::work txn(connection);
  store::audit::record(txn, {actor, "access.denied", call.action, call.client_ip, "denied",
                             json::serialize(boost::json::object{{"reason", reason}}), std::nullopt, std::nullopt,
                             std::nullopt, std::nullopt, 403});
  txn.commit();
}

void record_authentication_failure(pqxx::connection& connection, const auth::AuthFailureLimiter::Verdict& verdict,
                                   const DeniedCall& call, int status_code, const std::string& reason) {
  pqxx::work txn(connection);
  store::audit::record_authentication_failure(
      txn, {verdict.window_key, verdict.address,
            json::serialize(boost::json::object{{"first_action", call.action}, {"reason", reason}}), status_code,
            call.server_id, call.run_id});
  store::relax_commit_durability(txn);
  txn.commit();
}

}  // namespace tether::services
