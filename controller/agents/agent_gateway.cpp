#include "controller/agents/agent_gateway.hpp"

#include "controller/agents/agent_session.hpp"
#include "controller/auth/secrets.hpp"
#include "controller/http/responses.hpp"
#include "controller/store/server_store.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace tether::agents {
namespace {

// The stream and request wait here while the token is checked off the I/O thread.
struct PendingUpgrade {
  AnyStream stream;
  http::Request request;
  std::string client_ip;
  http::Response response;
};

// Answers the upgrade request with a plain HTTP error instead of a WebSocket, then closes.
void refuse(std::shared_ptr<PendingUpgrade> pending, const std::string& detail,
            http::bhttp::status status = http::bhttp::status::unauthorized) {
  spdlog::warn("event=agent_refused client_ip={} status={} reason=\"{}\"", pending->client_ip,
               static_cast<int>(status), detail);
  pending->response = http::error_response(status, detail);
  pending->response.keep_alive(false);
  pending->response.prepare_payload();
  pending->stream.tcp().expires_after(std::chrono::seconds(10));
  http::bhttp::async_write(pending->stream, pending->response, [pending](boost::beast::error_code, std::size_t) {
    boost::beast::error_code ignored;
    pending->stream.tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  });
}

}  // namespace

void AgentGateway::upgrade(AnyStream stream, http::Request request, std::string client_ip) {
  auto pending = std::make_shared<PendingUpgrade>(
      PendingUpgrade{std::move(stream), std::move(request), std::move(client_ip), {}});
  const auto token = auth::bearer_token(pending->request);
  if (!token) return refuse(pending, "missing Authorization: Bearer <server token>");
  const auto presented = auth::parse_secret(*token, auth::agent_token_kind);
  if (!presented) return refuse(pending, "malformed server token");

  dispatcher_.db().submit(
      [this, pending, presented = *presented](pqxx::connection& connection) {
        pqxx::read_transaction txn(connection);
        auto credential = store::servers::find_credential(txn, presented.lookup_prefix);
        txn.commit();
        const bool valid = credential && auth::matches(presented, credential->token_hash) &&
                           credential->status != "decommissioned";
        auto executor = pending->stream.get_executor();
        boost::asio::post(executor, [this, pending, valid, server_id = valid ? credential->server_id : ""] {
          if (!valid) return refuse(pending, "invalid or revoked server token");
          auto session = std::make_shared<AgentSession>(std::move(pending->stream), lifecycle_, server_id,
                                                                idle_timeout_);
          session->accept(std::move(pending->request));
        });
      },
      [pending](std::exception_ptr) {
        auto executor = pending->stream.get_executor();
        boost::asio::post(executor, [pending] {
          refuse(pending, "database unavailable; retry later", http::bhttp::status::service_unavailable);
        });
      });
}

}  // namespace tether::agents
