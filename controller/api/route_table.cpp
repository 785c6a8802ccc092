#include "controller/api/route_table.hpp"

#include "controller/api/routes.hpp"
#include "controller/services/secret_box.hpp"
#include "controller/services/user_service.hpp"

#include "common/clock.hpp"

namespace tether::api {

// The handlers only keep a reference to the context and use it when called, so the table can be
// read from a router built over idle parts: no database connection (the pool has no workers), no
// timers started, nothing served.
std::vector<RouteEntry> route_table() {
  boost::asio::io_context io;
  const app::ControllerSettings settings;
  store::DbPool db("", 0, [](pqxx::connection&) {});
  dispatch::Dispatcher dispatcher(db, {});
  auth::RateLimiter rate_limiter;
  auth::AuthFailureLimiter auth_failures({});
  const services::RegistryCredentials registry_credentials(std::nullopt);
  const services::SecretBox secrets(std::nullopt);
  streams::OpenStreams open_streams(io, db, {1, 1, std::chrono::seconds(1)});
  const SystemClock clock;
  operations::Lifecycle lifecycle(dispatcher, clock);
  runs::Fanout fanout(lifecycle, registry_credentials, secrets);
  services::Jobs jobs(clock, secrets);
  services::Triggers triggers(clock, secrets);
  services::Webhooks webhooks(triggers, fanout);
  services::Users users(clock, secrets);
  app::AppContext context{db,           dispatcher, io,        settings, std::chrono::steady_clock::now(),
                          rate_limiter, registry_credentials,  open_streams, auth_failures, lifecycle,
                          jobs,         triggers,   webhooks,  fanout,   {},
                          {},           users};
  http::Router router;
  add_all_routes(router, context);
  std::vector<RouteEntry> out;
  for (const auto& route : router.routes()) {
    out.push_back(RouteEntry{std::string(http::bhttp::to_string(route.method)), route.pattern, route.access});
  }
  return out;
}

}  // namespace tether::api
