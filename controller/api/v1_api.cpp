// The CI surface, wire-compatible with seed 003: exec, deploy, restart, reboot, registry login and
// logout, operation polling, and (beyond the seed) cancel and the live output stream.
#include "common/ids.hpp"
#include "controller/api/event_streams.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/routes.hpp"
#include "controller/api/v1/operation_view.hpp"
#include "controller/api/v1/requests.hpp"
#include "controller/api/v1/sync_wait.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/operation_service.hpp"
#include "controller/store/application_store.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/sql_text.hpp"

#include <spdlog/spdlog.h>

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

// POST /exec holds the request open a little past the command's own timeout: the agent needs a
// moment to kill it and report, so a command that times out is answered with its timeout result.
constexpr int report_margin_seconds = 7;

// One v1 request as it travels to a database worker.
struct V1Call {
  app::AppContext& app;
  http::Request request;
  std::string client_ip;  // after trusted-proxy resolution
  std::string action;
  http::Responder responder;
  http::Access access;  // the route's declared access (automation_key)
};

// What a handler's database work returns: an answer now, or nothing when a SyncWait answers later.
using V1Work = std::function<std::optional<http::Response>(pqxx::work&, const store::AutomationKeyRecord&,
                                                           const V1Call&)>;
// Builds the operation from the request inside the transaction (lookups may answer 403/404/422).
using BuildSubmission =
    std::function<services::OperationSubmission(pqxx::work&, const store::AutomationKeyRecord&)>;

std::shared_ptr<V1Call> make_call(app::AppContext& app, http::RequestContext& context, std::string action) {
  return std::make_shared<V1Call>(V1Call{
      app, context.request, context.client_ip,
      std::move(action), context.responder, context.access});
}

// Admits the call (key, IP allowlist, rate limit), runs `work` in a transaction that `work`
// commits, and records every refusal in the audit log before answering it. A caller without a
// valid key is counted against its address and aggregated there, its server_id and run_id kept
// as claims: it must not be able to write rows into a real run's trail.
void run_v1(const std::shared_ptr<V1Call>& call, V1Work work, std::function<void()> on_failure = {}) {
  call->app.db.submit(
      [call, work = std::move(work)](pqxx::connection& connection) {
        std::optional<store::AutomationKeyRecord> key;
        try {
          pqxx::work txn(connection);
          key = auth::authenticate_automation(txn, call->request, call->access);
          auth::admit_automation_call(*key, call->client_ip, call->app.rate_limiter);
          if (auto response = work(txn, *key, *call)) call->responder.send(std::move(*response));
        } catch (const auth::AuthenticationFailed& failure) {
          throw refuse_unauthenticated(call->app, connection,
                                       services::describe_call(call->action, call->client_ip, call->request.body()),
                                       failure);
        } catch (const http::ApiError& denial) {
          services::record_denial(connection, key,
                                  services::describe_call(call->action, call->client_ip, call->request.body()),
                                  static_cast<int>(denial.status()), denial.what());
          throw;
        }
      },
      [call, on_failure = std::move(on_failure)](std::exception_ptr error) {
        if (on_failure) on_failure();
        call->responder.send(response_for_failure(error));
      });
}

proto::Dispatch new_dispatch(const std::string& type, int timeout_seconds) {
  proto::Dispatch dispatch;
  dispatch.operation_id = ids::new_uuid();
  dispatch.operation_type = type;
  dispatch.timeout_seconds = timeout_seconds;
  return dispatch;
}

// The synchronous shape shared by exec, restart and logout: answer with the result when the
// operation ends within the wait, else with {"operation_id", "status": "running"}.
void submit_and_wait(app::AppContext& app, http::RequestContext& context, const std::string& type,
                     BuildSubmission build, int wait_seconds) {
  auto wait_holder = std::make_shared<std::shared_ptr<v1::SyncWait>>();
  run_v1(
      make_call(app, context, "v1." + type),
      [&app, type, build = std::move(build), wait_seconds, wait_holder, responder = context.responder](
          pqxx::work& txn, const store::AutomationKeyRecord& key, const V1Call& call) -> std::optional<http::Response> {
        auth::require_operation_scope(key, type);
        auto submission = build(txn, key);
        // Registered before the commit, so that the result can never arrive unobserved.
        *wait_holder = v1::SyncWait::begin(app, responder, submission.dispatch.operation_id);
        const auto submitted = services::submit_operation(txn, app.lifecycle, key, submission, call.client_ip);
        txn.commit();
        (*wait_holder)->arm(std::min(wait_seconds, app.settings.sync_wait_cap_seconds));
        app.lifecycle.launch(submitted);
        return std::nullopt;
      },
      [wait_holder] {
        if (*wait_holder) (*wait_holder)->abandon();
      });
}

// The asynchronous shape of deploy, reboot and login: answer at once with `render`'s body.
// `record` adds what belongs with the operation in the same transaction (a deployment row).
void submit_and_answer(app::AppContext& app, http::RequestContext& context, const std::string& type,
                       BuildSubmission build, status code,
                       std::function<boost::json::object(const services::OperationSubmission&)> render,
                       std::function<void(pqxx::work&, const services::OperationSubmission&)> record = {}) {
  run_v1(make_call(app, context, "v1." + type),
         [&app, type, build = std::move(build), code, render = std::move(render), record = std::move(record)](
             pqxx::work& txn, const store::AutomationKeyRecord& key,
             const V1Call& call) -> std::optional<http::Response> {
           auth::require_operation_scope(key, type);
           auto submission = build(txn, key);
           submission.status_code = static_cast<int>(code);
           const auto submitted = services::submit_operation(txn, app.lifecycle, key, submission, call.client_ip);
           if (record) record(txn, submission);
           txn.commit();
           app.lifecycle.launch(submitted);
           return http::json_response(code, render(submission));
         });
}

void handle_exec(app::AppContext& app, http::RequestContext& context) {
  auto input = Deferred<v1::ExecRequest>::from([&] { return v1::parse_exec_request(context.request.body()); });
  const int wait = input.ok() ? input.get().timeout_seconds + report_margin_seconds : 0;
  submit_and_wait(
      app, context, "exec",
      [input](pqxx::work&, const store::AutomationKeyRecord&) {
        const auto& exec = input.get();
        services::OperationSubmission submission{new_dispatch("exec", exec.timeout_seconds), exec.server_id, exec, {}};
        submission.dispatch.command = exec.command;
        submission.dispatch.working_directory = exec.working_directory;
        submission.dispatch.env = exec.env;
        submission.audit_detail = {{"command", exec.command}};
        return submission;
      },
      wait);
}

void handle_restart(app::AppContext& app, http::RequestContext& context) {
  auto input = Deferred<v1::RestartRequest>::from([&] { return v1::parse_restart_request(context.request.body()); });
  const int wait = input.ok() ? input.get().timeout_seconds + report_margin_seconds : 0;
  submit_and_wait(
      app, context, "restart",
      [input](pqxx::work&, const store::AutomationKeyRecord&) {
        const auto& restart = input.get();
        services::OperationSubmission submission{new_dispatch("restart", restart.timeout_seconds), restart.server_id,
                                                 restart, {}};
        submission.dispatch.container_name = restart.container_name;
        submission.audit_detail = {{"container_name", *restart.container_name}};
        return submission;
      },
      wait);
}

void handle_registry_logout(app::AppContext& app, http::RequestContext& context) {
  auto input = Deferred<v1::RegistryLogoutRequest>::from(
      [&] { return v1::parse_registry_logout_request(context.request.body()); });
  submit_and_wait(
      app, context, "registry_logout",
      [input](pqxx::work&, const store::AutomationKeyRecord&) {
        const auto& logout = input.get();
        services::OperationSubmission submission{new_dispatch("registry_logout", v1::default_timeout_seconds),
                                                 logout.server_id, logout, {}};
        submission.dispatch.registry_url = logout.registry_url;
        submission.audit_detail = {{"registry_url", *logout.registry_url}};
        return submission;
      },
      v1::default_timeout_seconds + report_margin_seconds);
}

void handle_deploy(app::AppContext& app, http::RequestContext& context) {
  auto input = Deferred<v1::DeployRequest>::from([&] { return v1::parse_deploy_request(context.request.body()); });
  struct Deployment {
    std::string id = ids::new_uuid();
    std::string application_id;
  };
  auto deployment = std::make_shared<Deployment>();
  submit_and_answer(
      app, context, "deploy",
      [input, deployment](pqxx::work& txn, const store::AutomationKeyRecord&) {
        const auto& deploy = input.get();
        auto application = store::applications::find(txn, *deploy.application_id);
        if (!application) throw http::ApiError(status::not_found, "application " + *deploy.application_id + " not found");
        deployment->application_id = application->id;
        const auto ref = deploy.commit_ref.value_or(application->deploy_branch);
        services::OperationSubmission submission{new_dispatch("deploy", deploy.timeout_seconds),
                                                 application->server_id, deploy, {}};
        submission.dispatch.command = application->deploy_command;
        submission.dispatch.working_directory = application->directory;
        submission.dispatch.commit_ref = ref;
        submission.dispatch.env = deploy.env;
        submission.audit_detail = {{"application_id", application->id},
                                   {"commit_ref", ref},
                                   {"command", application->deploy_command},
                                   {"deployment_id", deployment->id}};
        return submission;
      },
      status::ok,
      [deployment](const services::OperationSubmission& submission) {
        return boost::json::object{{"operation_id", submission.dispatch.operation_id},
                                   {"status", "running"},
                                   {"deployment_id", deployment->id}};
      },
      [deployment](pqxx::work& txn, const services::OperationSubmission& submission) {
        store::applications::insert_deployment(txn, deployment->id, deployment->application_id,
                                               submission.dispatch.operation_id, *submission.dispatch.commit_ref);
      });
}

void handle_reboot(app::AppContext& app, http::RequestContext& context) {
  auto input = Deferred<v1::RebootRequest>::from([&] { return v1::parse_reboot_request(context.request.body()); });
  submit_and_answer(
      app, context, "reboot",
      [input](pqxx::work&, const store::AutomationKeyRecord&) {
        const auto& reboot = input.get();
        return services::OperationSubmission{new_dispatch("reboot", reboot.timeout_seconds), reboot.server_id, reboot,
                                             {}};
      },
      status::ok,
      [](const services::OperationSubmission& submission) {
        return boost::json::object{{"operation_id", submission.dispatch.operation_id}, {"status", "running"}};
      });
}

void handle_registry_login(app::AppContext& app, http::RequestContext& context) {
  auto input = Deferred<v1::RegistryLoginRequest>::from(
      [&] { return v1::parse_registry_login_request(context.request.body()); });
  auto registry_type = std::make_shared<std::string>();
  submit_and_answer(
      app, context, "registry_login",
      [&app, input, registry_type](pqxx::work& txn, const store::AutomationKeyRecord& key) {
        const auto& login = input.get();
        auth::require_credential_scope(key, *login.credential_id);
        const auto credential = app.registry_credentials.get(txn, *login.credential_id);
        services::OperationSubmission submission{new_dispatch("registry_login", v1::default_timeout_seconds),
                                                 login.server_id, login, {}};
        submission.dispatch.registry_url = credential.registry_url;
        submission.dispatch.username = credential.username;
        submission.dispatch.password = app.registry_credentials.password_of(credential);
        submission.audit_detail = {{"credential_id", credential.id},
                                   {"registry_url", credential.registry_url},
                                   {"registry_type", credential.registry_type}};
        *registry_type = credential.registry_type;
        return submission;
      },
      status::accepted,
      [registry_type](const services::OperationSubmission& submission) {
        return boost::json::object{{"operation_id", submission.dispatch.operation_id},
                                   {"status", "running"},
                                   {"registry_url", *submission.dispatch.registry_url},
                                   {"registry_type", *registry_type}};
      });
}

// The audit row of a read of an operation (a poll or a stream), committed.
void record_operation_read(pqxx::work& txn, const store::AutomationKeyRecord& key, const V1Call& call,
                           const store::OperationRecord& operation) {
  store::audit::record(txn, {"automation_key:" + key.id, call.action, operation.id, call.client_ip, "allowed", "{}",
                             key.id, operation.server_id, operation.id, operation.run_id, 200});
  // Pollers call this at high rates: the audit row must not cost a disk flush each time.
  store::relax_commit_durability(txn);
  txn.commit();
}

void handle_get_operation(app::AppContext& app, http::RequestContext& context) {
  run_v1(make_call(app, context, "v1.operations.get"),
         [params = context.path_params](pqxx::work& txn, const store::AutomationKeyRecord& key,
                                        const V1Call& call) -> std::optional<http::Response> {
           const auto id = uuid_path_param(params, "operation_id", "operation");
           const auto operation = services::operation_for_key(txn, key, id);
           record_operation_read(txn, key, call, operation);
           return http::json_response(status::ok, v1::operation_view(operation));
         });
}

void handle_stream_operation(app::AppContext& app, http::RequestContext& context) {
  run_v1(make_call(app, context, "v1.operations.stream"),
         [&app, params = context.path_params](pqxx::work& txn, const store::AutomationKeyRecord& key,
                                              const V1Call& call) -> std::optional<http::Response> {
           const auto id = uuid_path_param(params, "operation_id", "operation");
           const auto operation = services::operation_for_key(txn, key, id);
           const auto after_seq = last_event_id(call.request);
           // Admitted under the caps before the read is recorded as allowed.
           auto ticket = admit_stream(app, {streams::StreamOwner::Kind::automation_key, key.id});
           auto stream = operation_output_stream(app, id, after_seq, v1::operation_view, std::move(ticket));
           record_operation_read(txn, key, call, operation);
           call.responder.stream_events(std::move(stream));
           return std::nullopt;
         });
}

void handle_cancel(app::AppContext& app, http::RequestContext& context) {
  run_v1(make_call(app, context, "v1.operations.cancel"),
         [&app, params = context.path_params](pqxx::work& txn, const store::AutomationKeyRecord& key,
                                              const V1Call& call) -> std::optional<http::Response> {
           const auto id = uuid_path_param(params, "operation_id", "operation");
           auto operation = services::operation_for_key(txn, key, id);
           auto outcome = app.lifecycle.cancel(txn, operation, "automation_key:" + key.id, call.client_ip);
           txn.commit();
           return finish_cancel(app, outcome);
         });
}

}  // namespace

void add_v1_routes(http::Router& router, app::AppContext& app) {
  const auto add = [&](verb method, const char* path, void (*handler)(app::AppContext&, http::RequestContext&)) {
    router.add(method, path, http::Access::automation_key,
               [&app, handler](http::RequestContext& context) { handler(app, context); });
  };
  add(verb::post, "/api/automation/v1/exec", handle_exec);
  add(verb::post, "/api/automation/v1/deploy", handle_deploy);
  add(verb::post, "/api/automation/v1/restart", handle_restart);
  add(verb::post, "/api/automation/v1/reboot", handle_reboot);
  add(verb::post, "/api/automation/v1/registry-auth/login", handle_registry_login);
  add(verb::post, "/api/automation/v1/registry-auth/logout", handle_registry_logout);
  add(verb::get, "/api/automation/v1/operations/{operation_id}", handle_get_operation);
  add(verb::get, "/api/automation/v1/operations/{operation_id}/stream", handle_stream_operation);
  add(verb::post, "/api/automation/v1/operations/{operation_id}/cancel", handle_cancel);
}

}  // namespace tether::api
