#pragma once
// What request handlers may use: the database pool, the dispatcher, timers, and the settings.
#include "controller/auth/failure_limiter.hpp"
#include "controller/auth/login_limiter.hpp"
#include "controller/auth/networks.hpp"
#include "controller/auth/rate_limiter.hpp"
#include "controller/dispatch/dispatcher.hpp"
#include "controller/operations/lifecycle.hpp"
#include "controller/runs/fanout.hpp"
#include "controller/services/job_service.hpp"
#include "controller/services/registry_service.hpp"
#include "controller/services/system_automations.hpp"
#include "controller/services/trigger_service.hpp"
#include "controller/services/user_service.hpp"
#include "controller/services/webhook_service.hpp"
#include "controller/store/db_pool.hpp"
#include "controller/streams/open_streams.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace tether::metrics {
class Metrics;
}

namespace tether::app {

struct ControllerSettings {
  std::string listen_address = "127.0.0.1";
  unsigned short listen_port = 8080;
  std::string database_url;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string log_level = "info";
  int db_pool_size = 4;
  int io_threads = 2;
  int sync_wait_cap_seconds = 25;  // CI clients of the v1 API commonly give up after 30 s
  int heartbeat_interval_seconds = 10;
  int unreachable_after_seconds = 30;
  std::int64_t max_output_bytes_per_stream = 4 * 1024 * 1024;
  // Live output streams: open ones per key and in all, one budget for what readers' output
  // buffers, and the operator route's rate per key.
  int max_streams_per_key = 20;
  int max_streams = 500;
  std::int64_t stream_buffer_bytes = 64 * 1024 * 1024;
  int operator_stream_rate_per_minute = 100;
  // Internal (flags for tests): a quiet stream's keep-alive comment, and how long a stream's
  // reader may take no slice of it.
  std::chrono::seconds stream_keep_alive{15};
  std::chrono::seconds stream_stall_timeout{20};
  std::size_t max_connections = 4096;              // HTTP connections at once (agent WebSockets aside)
  std::size_t max_connections_per_address = 256;   // of those, from one client address
  std::string instance_id;
  std::string master_key_file;
  auth::NetworkList trusted_proxies;
  // Failed authentications per client address answered 401 within a window; later ones get 429.
  int auth_failure_threshold = 100;
  int auth_failure_window_seconds = 60;
  // Retention (the retention-pruner and webhook-replay-pruner loops), in days.
  int retention_output_days = 30;
  int retention_operations_days = 90;
  int retention_runs_days = 90;
  int retention_audit_days = 365;
  int retention_webhook_delivery_days = 30;
  // How long a run held for approval waits for a decision before it is canceled.
  std::chrono::seconds approval_timeout{3600};
  // Failed logins per client address and per username, and their lockouts (seed 004's defaults).
  auth::LoginLimiter::Settings login_limits;
  // --metrics-listen: a second listener serving only GET /metrics, unauthenticated; off when empty.
  std::string metrics_listen_address;
  unsigned short metrics_listen_port = 0;
};

struct AppContext {
  store::DbPool& db;
  dispatch::Dispatcher& dispatcher;
  boost::asio::io_context& io;
  const ControllerSettings& settings;
  std::chrono::steady_clock::time_point started_at;
  auth::RateLimiter& rate_limiter;
  const services::RegistryCredentials& registry_credentials;
  streams::OpenStreams& open_streams;
  auth::AuthFailureLimiter& auth_failures;
  operations::Lifecycle& lifecycle;
  services::Jobs& jobs;
  services::Triggers& triggers;
  services::Webhooks& webhooks;
  runs::Fanout& fanout;
  // Wake the run driver for these runs (after a commit that created or changed them).
  std::function<void(const std::vector<std::string>&)> advance_runs;
  // A job was created or changed: the scheduler looks again now.
  std::function<void()> wake_scheduler;
  // Users, login sessions and TOTP.
  services::Users& users;
  // The controller's background loops (seed 001's automations); null where nothing runs them.
  services::SystemAutomations* system_automations = nullptr;
  // The Prometheus metrics (GET /metrics); null where none are kept.
  metrics::Metrics* metrics = nullptr;
};

}  // namespace tether::app
