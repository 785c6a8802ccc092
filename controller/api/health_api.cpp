// GET /api/health: seed 004's `status`, `version` and `uptime_s`, plus whether PostgreSQL answers
// now (`database`: "ok" or its error) and how many agents hold a socket to this controller. 503
// when the database does not answer, so that a load balancer takes this replica out of rotation.
#include "controller/api/routes.hpp"
#include "controller/http/responses.hpp"
#include "controller/store/health_store.hpp"

#include <spdlog/spdlog.h>

namespace tether::api {
namespace {

http::Response health_response(app::AppContext& app, const std::optional<std::string>& database_error) {
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - app.started_at).count();
  boost::json::object body{{"status", database_error ? "degraded" : "ok"},
                           {"version", TETHER_VERSION},
                           {"uptime_s", uptime},
                           {"database", database_error ? *database_error : std::string("ok")},
                           {"agents_connected", app.dispatcher.connected_servers().size()}};
  return http::json_response(database_error ? http::bhttp::status::service_unavailable : http::bhttp::status::ok,
                             std::move(body));
}

// The first line of a libpq error ("connection to server at ... failed: Connection refused"):
// it names the address, never the password.
std::string database_error_text(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::string text = e.what();
    if (auto end = text.find('\n'); end != std::string::npos) text.resize(end);
    return text.empty() ? "unreachable" : text;
  } catch (...) {
    return "unreachable";
  }
}

}  // namespace

void add_health_routes(http::Router& router, app::AppContext& app) {
  router.add(http::bhttp::verb::get, "/api/health", http::Access::public_, [&app](http::RequestContext& context) {
    app.db.submit(
        [&app, responder = context.responder](pqxx::connection& connection) {
          store::health::ping(connection);
          responder.send(health_response(app, std::nullopt));
        },
        [&app, responder = context.responder](std::exception_ptr error) {
          const auto text = database_error_text(error);
          spdlog::warn("event=health_database_unreachable error=\"{}\"", text);
          responder.send(health_response(app, text));
        });
  });
}

}  // namespace tether::api
