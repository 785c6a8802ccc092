#pragma once
// What request handlers may use: the database pool, the dispatcher, timers, and the settings.
#include "controller/auth/failure_limiter.hpp"
#include "controller/auth/networks.hpp"
#include "controller/auth/rate_limiter.hpp"
#include "controller/dispatch/dispatcher.hpp"
#include "controller/services/registry_service.hpp"
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>

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
  int sync_wait_cap_seconds = 60;
  int heartbeat_interval_seconds = 10;
  int unreachable_after_seconds = 30;
  std::int64_t max_output_bytes_per_stream = 4 * 1024 * 1024;
  std::string instance_id;
  std::string master_key_file;
  auth::NetworkList trusted_proxies;
  // Failed authentications per client address answered 401 within a window; later ones get 429.
  int auth_failure_threshold = 100;
  int auth_failure_window_seconds = 60;
};

struct AppContext {
  store::DbPool& db;
  dispatch::Dispatcher& dispatcher;
  boost::asio::io_context& io;
  const ControllerSettings& settings;
  std::chrono::steady_clock::time_point started_at;
  auth::RateLimiter& rate_limiter;
  const services::RegistryCredentials& registry_credentials;
  auth::AuthFailureLimiter& auth_failures;
};

}  // namespace tether::app
