// GET /metrics: the Prometheus text exposition of the controller's metrics (metrics/metrics.hpp).
// On the main listener it takes a viewer key; on the --metrics-listen listener, which serves
// nothing else, none. The scrape runs on a database worker: the counts kept in PostgreSQL are read
// there (at most once per few seconds, however many scrape), and the in-memory values sampled.
#include "controller/api/handler_support.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/metrics/metrics.hpp"
#include "controller/store/metrics_store.hpp"

namespace tether::api {
namespace {

using http::bhttp::status;

http::Response scrape(app::AppContext& app, pqxx::connection& connection) {
  auto& metrics = *app.metrics;
  const auto pool = app.db.stats();
  metrics.sample({app.dispatcher.connected_servers().size(), app.open_streams.open_count(), pool.size, pool.in_use,
                  pool.queued});
  metrics.refresh_database_counts(std::chrono::steady_clock::now(), [&connection] {
    pqxx::read_transaction txn(connection);
    return metrics::DatabaseCounts{store::metrics::servers_by_status(txn), store::metrics::runs_by_status(txn)};
  });
  return http::text_response(status::ok, metrics::Metrics::content_type, metrics.exposition());
}

}  // namespace

void add_metrics_routes(http::Router& router, app::AppContext& app, http::Access access) {
  router.add(http::bhttp::verb::get, "/metrics", access, [&app](http::RequestContext& context) {
    if (!app.metrics) throw http::ApiError(status::not_found, "this controller keeps no metrics");
    respond_from_db(app, context,
                    [&app, request = context.request, access = context.access](pqxx::connection& connection,
                                                                               const http::Responder& responder) {
                      if (access != http::Access::public_) {
                        pqxx::read_transaction txn(connection);
                        auth::authenticate_operator(txn, request, access);
                      }
                      responder.send(scrape(app, connection));
                    });
  });
}

}  // namespace tether::api
