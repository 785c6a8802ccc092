// The CI surface, wire-compatible with seed 003: POST /exec and GET /operations/{id}.
#include "controller/api/handler_support.hpp"
#include "controller/api/routes.hpp"
#include "controller/api/v1/exec_request.hpp"
#include "controller/api/v1/operation_view.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/exec_service.hpp"

#include "common/ids.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

// How long POST /exec holds the request open for the result. The agent needs a moment past the
// command's own timeout to kill it and report, so a command that times out is still answered
// with its timeout result rather than "running".
constexpr int report_margin_seconds = 7;

void handle_exec(app::AppContext& app, http::RequestContext& context) {
  auto input = Deferred<v1::ExecRequest>::from([&] { return v1::parse_exec_request(context.request.body()); });
  const auto operation_id = ids::new_uuid();
  auto& waiters = app.dispatcher.waiters();
  const auto responder = context.responder;
  // The sync wait's timer lives on its own strand: it is started from a database worker and
  // cancelled from whichever thread stores the result.
  auto timer = std::make_shared<boost::asio::steady_timer>(boost::asio::make_strand(app.io));
  // Registered before the operation exists, so a result can never arrive unobserved.
  const auto wait_token = waiters.add(operation_id, [responder, timer](const store::OperationRecord& record) {
    responder.send(http::json_response(status::ok, v1::exec_answer(record)));
    boost::asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  });

  app.db.submit(
      [&app, request = context.request, ip = context.client_ip, input, operation_id, responder, timer,
       wait_token](pqxx::connection& c) {
        pqxx::work txn(c);
        const auto key = auth::authenticate_automation(txn, request);
        const auto& exec = input.get();
        const bool connected = app.dispatcher.connected(exec.server_id);
        const auto submission = services::submit_exec(txn, key, exec, operation_id, connected, ip);
        txn.commit();
        spdlog::info("event=operation_created operation_id={} type=exec server_id={} status={} key_id={}",
                     operation_id, exec.server_id, submission.status, key.id);

        const int wait_seconds =
            std::min(exec.timeout_seconds + report_margin_seconds, app.settings.sync_wait_cap_seconds);
        boost::asio::post(timer->get_executor(), [&app, timer, wait_seconds, responder, operation_id, wait_token] {
          if (responder.answered()) return;
          timer->expires_after(std::chrono::seconds(wait_seconds));
          timer->async_wait([&app, timer, responder, operation_id, wait_token](boost::system::error_code ec) {
            if (ec) return;  // cancelled: the result was sent
            app.dispatcher.waiters().remove(operation_id, wait_token);
            responder.send(http::json_response(
                status::ok, boost::json::object{{"operation_id", operation_id}, {"status", "running"}}));
          });
        });

        app.dispatcher.remember_env(operation_id, exec.env);
        if (submission.status == "dispatched") {
          // If the agent dropped in between, the operation stays "dispatched" and its next hello
          // gets it delivered again (the env values wait in memory until then).
          app.dispatcher.send(exec.server_id, proto::Dispatch{operation_id, "exec", exec.command,
                                                              exec.working_directory, exec.env,
                                                              exec.timeout_seconds});
        }
      },
      [&app, responder, operation_id, wait_token](std::exception_ptr error) {
        app.dispatcher.waiters().remove(operation_id, wait_token);
        responder.send(response_for_failure(error));
      });
}

void handle_get_operation(app::AppContext& app, http::RequestContext& context) {
  answer_from_db(app, context.responder, [request = context.request, params = context.path_params](pqxx::connection& c) {
    pqxx::read_transaction txn(c);
    const auto key = auth::authenticate_automation(txn, request);
    const auto id = uuid_path_param(params, "operation_id", "operation");
    const auto operation = services::operation_for_key(txn, key, id);
    return http::json_response(status::ok, v1::operation_view(operation));
  });
}

}  // namespace

void add_v1_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::post, "/api/automation/v1/exec",
             [&app](http::RequestContext& context) { handle_exec(app, context); });
  router.add(verb::get, "/api/automation/v1/operations/{operation_id}",
             [&app](http::RequestContext& context) { handle_get_operation(app, context); });
}

}  // namespace tether::api
