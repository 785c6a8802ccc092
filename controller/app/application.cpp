#include "controller/app/application.hpp"

#include "controller/agents/agent_gateway.hpp"
#include "controller/api/routes.hpp"
#include "controller/automations/agent_sessions.hpp"
#include "controller/automations/catalog.hpp"
#include "controller/automations/retention_pruner.hpp"
#include "controller/events/event_router.hpp"
#include "controller/events/replay_pruner.hpp"
#include "controller/operations/maintenance.hpp"
#include "controller/services/session_cleanup.hpp"
#include "controller/runs/run_driver.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "controller/http/listener.hpp"
#include "controller/metrics/metrics.hpp"
#include "controller/store/migrations.hpp"
#include "controller/store/server_store.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <thread>

namespace tether::app {
namespace net = boost::asio;

void prepare_database(const std::string& database_url, std::chrono::seconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    try {
      pqxx::connection connection(database_url);
      const int applied = store::apply_migrations(connection, store::embedded_migrations());
      spdlog::info("event=database_ready migrations_applied={}", applied);
      return;
    } catch (const pqxx::broken_connection& e) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
      spdlog::warn("event=database_unreachable retry_in_s=1 error=\"{}\"", e.what());
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

namespace {

std::unique_ptr<net::ssl::context> make_tls_context(const ControllerSettings& settings) {
  if (settings.tls_cert_file.empty()) return nullptr;
  auto tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
                   net::ssl::context::single_dh_use);
  tls->use_certificate_chain_file(settings.tls_cert_file);
  tls->use_private_key_file(settings.tls_key_file, net::ssl::context::pem);
  return tls;
}

// The metrics listener takes no agents: an upgrade asked of it is closed unanswered.
class NoAgents final : public http::AgentUpgradeHandler {
 public:
  void upgrade(AnyStream stream, http::Request, std::string) override {
    boost::beast::error_code ignored;
    stream.tcp().socket().close(ignored);
  }
};

// A loop's pass, counted in the metrics when it runs (and as an error when it throws).
automations::Pass counted_pass(metrics::Metrics& metrics, const std::string& key, automations::Pass pass) {
  return [&metrics, key, pass = std::move(pass)](const automations::PassContext& context) {
    try {
      auto result = pass(context);
      metrics.loop_pass(key, false);
      return result;
    } catch (...) {
      metrics.loop_pass(key, true);
      throw;
    }
  };
}

}  // namespace

int serve(const ControllerSettings& settings) {
  prepare_database(settings.database_url, std::chrono::seconds(30));
  {
    // Sockets this instance held before a restart are gone; forget them so deadlines apply.
    pqxx::connection connection(settings.database_url);
    pqxx::work txn(connection);
    store::servers::release_all_sessions(txn, settings.instance_id);
    txn.commit();
  }

  net::io_context io(settings.io_threads);
  metrics::Metrics metrics;
  store::DbPool db(settings.database_url, static_cast<std::size_t>(settings.db_pool_size),
                   [](pqxx::connection&) {});
  db.observe_wait([&metrics](auto waited) { metrics.db_pool_wait(std::chrono::duration<double>(waited).count()); });
  dispatch::Dispatcher dispatcher(db, {settings.instance_id, settings.heartbeat_interval_seconds,
                                       settings.max_output_bytes_per_stream});
  auth::RateLimiter rate_limiter;
  auth::AuthFailureLimiter auth_failures(
      {settings.auth_failure_threshold, settings.auth_failure_window_seconds});
  const auto master_key = settings.master_key_file.empty()
                              ? std::nullopt
                              : std::optional<std::string>(services::load_master_key(settings.master_key_file));
  services::RegistryCredentials registry_credentials(master_key);
  services::SecretBox secrets(master_key);
  if (settings.master_key_file.empty()) {
    spdlog::warn("event=no_master_key detail=\"registry credentials are disabled until --master-key-file is given\"");
  }
  dispatcher.output_hub().set_budget(static_cast<std::size_t>(settings.stream_buffer_bytes));
  // Keys of open streams are looked up this often: a revoked or expired key's streams end within it.
  auto open_streams = std::make_shared<streams::OpenStreams>(
      io, db,
      streams::OpenStreams::Limits{static_cast<std::size_t>(settings.max_streams_per_key),
                                   static_cast<std::size_t>(settings.max_streams), std::chrono::seconds(2)});
  open_streams->start();
  SystemClock clock;
  operations::Lifecycle lifecycle(dispatcher, clock);
  lifecycle.set_metrics(&metrics);
  runs::Fanout fanout(lifecycle, registry_credentials, secrets);
  fanout.set_approval_timeout(settings.approval_timeout);
  services::Jobs jobs(clock, secrets);
  services::Triggers triggers(clock, secrets);
  services::Webhooks webhooks(triggers, fanout);
  services::Users users(clock, secrets);
  auto run_driver = std::make_shared<runs::RunDriver>(io, db, fanout);
  const auto advance_runs = [run_driver](const std::vector<std::string>& ids) { run_driver->advance(ids); };
  // The background loops, one LoopRunner each (advisory lock, pause flag, last pass recorded), in
  // the catalog's order; the scheduled ones on a Cadence.
  services::SystemAutomations loops(clock, settings.instance_id);
  std::shared_ptr<automations::Cadence> job_scheduler;
  {
    const auto days = [](int n) { return std::chrono::hours(24 * n); };
    const automations::RetentionSettings retention{days(settings.retention_output_days),
                                                   days(settings.retention_operations_days),
                                                   days(settings.retention_runs_days),
                                                   days(settings.retention_audit_days)};
    const events::ReplayRetention replays{std::chrono::hours(24), days(settings.retention_webhook_delivery_days)};
    const int unreachable_after = settings.unreachable_after_seconds;
    const std::string instance = settings.instance_id;
    std::map<std::string, automations::Pass> passes{
        {"job-scheduler",
         [&fanout, advance_runs, &metrics](const automations::PassContext& c) {
           scheduler::SchedulerSettings scheduling;
           scheduling.observe_lateness = [&metrics](double seconds) { metrics.scheduler_lateness(seconds); };
           return scheduler::pass(c.connection(), fanout, advance_runs, scheduling);
         }},
        {"operation-reaper",
         [&lifecycle](const automations::PassContext& c) { return operations::reap_operations(c.connection(), lifecycle, 60); }},
        {"server-health",
         [unreachable_after](const automations::PassContext& c) {
           return operations::mark_silent_servers(c.connection(), unreachable_after);
         }},
        {"session-cleanup",
         [&users](const automations::PassContext& c) { return services::purge_expired_sessions(c.connection(), users); }},
        {"webhook-replay-pruner",
         [&clock, replays](const automations::PassContext& c) {
           return events::prune_replays(c.connection(), clock, replays);
         }},
        {"retention-pruner",
         [&clock, retention](const automations::PassContext& c) {
           return automations::retention_pass(c.connection(), clock, retention);
         }},
        {"agent-session-reconciliation",
         [&dispatcher, instance](const automations::PassContext& c) {
           return automations::reconcile_agent_sessions(c.connection(), dispatcher, instance);
         }},
    };
    for (const auto& spec : automations::catalog()) {
      auto runner = std::make_shared<automations::LoopRunner>(spec, counted_pass(metrics, spec.key, passes.at(spec.key)),
                                                              clock, instance);
      std::shared_ptr<automations::Cadence> cadence;
      if (spec.scheduled) cadence = std::make_shared<automations::Cadence>(io, db, runner, spec.period, spec.first_in);
      if (spec.key == "job-scheduler") job_scheduler = cadence;
      loops.add(runner, cadence);
    }
  }
  auto event_router = std::make_shared<events::EventRouter>(io, db, fanout, advance_runs);
  // Operations of runs ended: their runs move on, and their events (if any trigger listens) are
  // looked at now rather than at the router's next poll.
  lifecycle.on_runs_touched([run_driver, event_router](const std::map<std::string, std::vector<std::string>>& ended) {
    run_driver->ended(ended);
    event_router->wake();
  });
  AppContext context{db,
                     dispatcher,
                     io,
                     settings,
                     std::chrono::steady_clock::now(),
                     rate_limiter,
                     registry_credentials,
                     *open_streams,
                     auth_failures,
                     lifecycle,
                     jobs,
                     triggers,
                     webhooks,
                     fanout,
                     advance_runs,
                     [job_scheduler] { job_scheduler->wake(); },
                     users,
                     &loops,
                     &metrics};

  http::Router router;
  api::add_all_routes(router, context);
  // Every handler (and so the audit log) sees the client behind a trusted proxy, not the proxy.
  router.resolve_client_address_with([&settings](const http::RequestContext& request) {
    return auth::client_address(request.client_ip, request.request, settings.trusted_proxies);
  });
  router.observe([&metrics](std::string_view method, std::string_view route, unsigned status, double seconds) {
    metrics.http_request(method, route, status, seconds);
  });
  agents::AgentGateway gateway(lifecycle, std::chrono::seconds(settings.heartbeat_interval_seconds * 3));
  auto tls = make_tls_context(settings);
  http::ServerLimits limits;
  limits.stream_stall_timeout = settings.stream_stall_timeout;

  const net::ip::tcp::endpoint endpoint(net::ip::make_address(settings.listen_address), settings.listen_port);
  http::ConnectionLimits connection_limits{
      settings.max_connections, settings.max_connections_per_address,
      // A trusted proxy carries many clients on its connections: only the total caps it.
      [&settings](const net::ip::address& peer) { return settings.trusted_proxies.contains(peer); }};
  auto listener = std::make_shared<http::Listener>(io, endpoint, tls.get(), http::SessionServices{router, gateway, limits},
                                                   std::move(connection_limits));
  listener->run();
  // --metrics-listen: GET /metrics without a key, and nothing else (plain HTTP, no agents).
  http::Router metrics_router;
  api::add_metrics_routes(metrics_router, context, http::Access::public_);
  NoAgents no_agents;
  std::shared_ptr<http::Listener> metrics_listener;
  if (!settings.metrics_listen_address.empty()) {
    metrics_listener = std::make_shared<http::Listener>(
        io, net::ip::tcp::endpoint(net::ip::make_address(settings.metrics_listen_address), settings.metrics_listen_port),
        nullptr, http::SessionServices{metrics_router, no_agents, limits}, http::ConnectionLimits{64, 16, {}});
    metrics_listener->run();
    const auto bound = metrics_listener->local_endpoint();
    spdlog::info("event=metrics_listening address={}:{}", bound.address().to_string(), bound.port());
  }
  run_driver->start();
  event_router->start();
  loops.start();

  const auto bound = listener->local_endpoint();
  spdlog::info("event=listening address={}:{} tls={} instance={}", bound.address().to_string(), bound.port(),
               tls ? "on" : "off", settings.instance_id);

  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int signal) {
    spdlog::info("event=shutting_down signal={}", signal);
    listener->stop();
    if (metrics_listener) metrics_listener->stop();
    loops.stop();
    event_router->stop();
    run_driver->stop();
    open_streams->stop();
    io.stop();
  });

  std::vector<std::thread> threads;
  for (int i = 1; i < settings.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads) thread.join();
  db.stop();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace tether::app
