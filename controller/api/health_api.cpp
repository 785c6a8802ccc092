#include "controller/api/routes.hpp"
#include "controller/http/responses.hpp"

namespace tether::api {

void add_health_routes(http::Router& router, app::AppContext& app) {
  router.add(http::bhttp::verb::get, "/api/health", http::Access::public_, [&app](http::RequestContext& context) {
    const auto uptime =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - app.started_at).count();
    context.responder.send(http::json_response(
        http::bhttp::status::ok,
        boost::json::object{{"status", "ok"}, {"version", TETHER_VERSION}, {"uptime_s", uptime}}));
  });
}

}  // namespace tether::api
