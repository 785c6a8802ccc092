// tether-controller: serve the API and agent sockets, or run an administrative command.
#include "common/config.hpp"
#include "common/schedule_spec.hpp"
#include "common/logging.hpp"
#include "controller/api/openapi/openapi_document.hpp"
#include "controller/api/route_table.hpp"
#include "controller/app/application.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/key_service.hpp"
#include "controller/services/user_service.hpp"

#include <boost/algorithm/string/split.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/host_name.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

namespace {

constexpr const char* usage = R"(tether-controller {version}

Usage:
  tether-controller [serve] [options]          serve the REST API and agent WebSockets
  tether-controller migrate --database-url URL apply database migrations and exit
  tether-controller openapi                    print the OpenAPI 3.1 document of the API
  tether-controller admin create-key --name NAME [--role admin|operator|viewer] --database-url URL
                                               create an operator API key; prints only the key
  tether-controller admin create-user --username U [--role admin|operator|viewer] --database-url URL
                                               create a user; reads its password from stdin (one line)

Options (each also read from TETHER_<NAME>, e.g. TETHER_DATABASE_URL; flags win):
  --listen HOST:PORT                 address to serve on (default 127.0.0.1:8080)
  --database-url URL                 PostgreSQL connection URL (required)
  --tls-cert FILE --tls-key FILE     serve HTTPS/WSS with this certificate chain and key
  --log-level LEVEL                  trace|debug|info|warn|error|off (default info)
  --db-pool-size N                   database connections and workers (default 4)
  --io-threads N                     I/O threads (default 2)
  --sync-wait-cap-seconds N          longest POST /v1/exec waits for a result (default 25)
  --heartbeat-interval-seconds N     agent heartbeat interval (default 10)
  --unreachable-after-seconds N      silence after which a server is unreachable (default 30)
  --max-output-bytes N               stored output per stream and operation (default 4194304)
  --max-streams-per-key N            open output streams per API or automation key (default 20)
  --max-streams N                    open output streams in all (default 500)
  --stream-buffer-bytes N            output buffered for all stream readers together (default 67108864)
  --operator-stream-rate-per-minute N  operator stream requests per key and minute (default 100)
  --max-connections N                HTTP connections held at once; more are closed (default 4096)
  --max-connections-per-address N    of those, from one client address (default 256; trusted
                                     proxies count only toward --max-connections)
  --instance-id ID                   this replica's name (default hostname:port)
  --master-key-file FILE             64 hex characters: the AES-256-GCM key for registry passwords
  --trusted-proxies CIDR[,CIDR...]   peers whose X-Forwarded-For names the client address
  --auth-failure-threshold N         failed authentications per client address answered 401 within
                                     a window; later ones get 429 (default 100)
  --auth-failure-window-seconds N    that window (default 60)
  --retention-output-days N          finished operations' output is deleted after (default 30)
  --retention-operations-days N      finished operations that belong to no run (default 90)
  --retention-runs-days N            ended runs, with their operations (default 90)
  --retention-audit-days N           audit entries (default 365)
  --retention-webhook-delivery-days N  accepted webhook delivery ids, kept to refuse replays (default 30)
  --approval-timeout DURATION        how long a run held for approval waits for a decision before
                                     it is canceled: seconds or a duration such as 30m (default 1h)
  --login-max-failures N             failed logins from one client address within the window that
                                     lock it out (default 5)
  --login-window-seconds N           that window (default 60)
  --login-lockout-seconds N          how long the address is locked out (default 300)
  --login-max-failures-per-username N  failed logins for one username, from any addresses, that
                                     lock it out (default 10)
  --login-username-window-seconds N  that window (default 300)
  --login-username-lockout-seconds N how long the username is locked out (default 300)
  --metrics-listen HOST:PORT         also serve GET /metrics, without a key, on this address (and
                                     nothing else there); default off (the main listener serves
                                     /metrics to viewer keys)
  --help, --version
)";

const std::set<std::string> known_options = {
    "listen", "database-url", "tls-cert", "tls-key", "log-level", "db-pool-size", "io-threads",
    "sync-wait-cap-seconds", "heartbeat-interval-seconds", "unreachable-after-seconds", "max-output-bytes",
    "max-streams-per-key", "max-streams", "stream-buffer-bytes", "operator-stream-rate-per-minute",
    // Not in the usage text: shorter stream timers for tests.
    "stream-keep-alive-seconds", "stream-stall-seconds",
    "max-connections", "max-connections-per-address",
    "instance-id", "master-key-file", "trusted-proxies", "auth-failure-threshold", "auth-failure-window-seconds",
    "retention-output-days", "retention-operations-days", "retention-runs-days", "retention-audit-days",
    "retention-webhook-delivery-days",
    "approval-timeout",
    "login-max-failures", "login-window-seconds", "login-lockout-seconds", "login-max-failures-per-username",
    "login-username-window-seconds", "login-username-lockout-seconds",
    "metrics-listen",
    "name", "role", "username"};

// Seconds ("90") or a duration ("30m", "1h30m"), at least a second and at most 30 days.
std::chrono::seconds parse_approval_timeout(const std::string& text) {
  const auto rule = "--approval-timeout must be seconds or a duration such as 30m or 1h, from 1s to 30d, got '" +
                    text + "'";
  std::chrono::seconds value{0};
  try {
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    value = digits ? std::chrono::seconds(std::stoll(text)) : tether::schedule::parse_duration(text, "approval-timeout");
  } catch (const std::exception&) {
    throw std::invalid_argument(rule);
  }
  if (value < std::chrono::seconds(1) || value > std::chrono::hours(24 * 30)) throw std::invalid_argument(rule);
  return value;
}

// --metrics-listen HOST:PORT (an IPv6 host in brackets), port 1..65535 (0: any free one).
void parse_metrics_listen(const std::string& text, tether::app::ControllerSettings& s) {
  const auto rule = "--metrics-listen must be HOST:PORT, got '" + text + "'";
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument(rule);
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) throw std::invalid_argument(rule);
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument(rule + " (HOST must be an IP address)");
  s.metrics_listen_address = host;
  s.metrics_listen_port = static_cast<unsigned short>(port);
}

tether::app::ControllerSettings read_settings(const tether::config::Options& options) {
  tether::app::ControllerSettings s;
  const auto listen = options.get_or("listen", "127.0.0.1:8080");
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("--listen must be HOST:PORT, got '" + listen + "'");
  s.listen_address = listen.substr(0, colon);
  if (s.listen_address.size() > 2 && s.listen_address.front() == '[') {
    s.listen_address = s.listen_address.substr(1, s.listen_address.size() - 2);
  }
  try {
    const int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    s.listen_port = static_cast<unsigned short>(port);
  } catch (const std::exception&) {
    throw std::invalid_argument("--listen has an invalid port: '" + listen + "'");
  }
  s.database_url = options.require("database-url");
  s.tls_cert_file = options.get_or("tls-cert", "");
  s.tls_key_file = options.get_or("tls-key", "");
  if (s.tls_cert_file.empty() != s.tls_key_file.empty()) {
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  }
  s.log_level = options.get_or("log-level", "info");
  s.db_pool_size = static_cast<int>(options.get_int("db-pool-size", 4, 1, 64));
  s.io_threads = static_cast<int>(options.get_int("io-threads", 2, 1, 64));
  s.sync_wait_cap_seconds = static_cast<int>(options.get_int("sync-wait-cap-seconds", 25, 1, 900));
  s.heartbeat_interval_seconds = static_cast<int>(options.get_int("heartbeat-interval-seconds", 10, 1, 300));
  s.unreachable_after_seconds = static_cast<int>(options.get_int("unreachable-after-seconds", 30, 2, 3600));
  s.max_output_bytes_per_stream = options.get_int("max-output-bytes", 4 * 1024 * 1024, 1024, 1L << 30);
  s.max_streams_per_key = static_cast<int>(options.get_int("max-streams-per-key", 20, 1, 100000));
  s.max_streams = static_cast<int>(options.get_int("max-streams", 500, 1, 100000));
  s.stream_buffer_bytes = options.get_int("stream-buffer-bytes", 64 * 1024 * 1024, 1024 * 1024, 1L << 36);
  s.operator_stream_rate_per_minute =
      static_cast<int>(options.get_int("operator-stream-rate-per-minute", 100, 1, 100000));
  s.stream_keep_alive = std::chrono::seconds(options.get_int("stream-keep-alive-seconds", 15, 1, 3600));
  s.stream_stall_timeout = std::chrono::seconds(options.get_int("stream-stall-seconds", 20, 1, 3600));
  s.max_connections = static_cast<std::size_t>(options.get_int("max-connections", 4096, 1, 1'000'000));
  s.max_connections_per_address =
      static_cast<std::size_t>(options.get_int("max-connections-per-address", 256, 1, 1'000'000));
  s.master_key_file = options.get_or("master-key-file", "");
  s.auth_failure_threshold = static_cast<int>(options.get_int("auth-failure-threshold", 100, 1, 1000000));
  s.auth_failure_window_seconds = static_cast<int>(options.get_int("auth-failure-window-seconds", 60, 1, 86400));
  s.retention_output_days = static_cast<int>(options.get_int("retention-output-days", 30, 1, 36500));
  s.retention_operations_days = static_cast<int>(options.get_int("retention-operations-days", 90, 1, 36500));
  s.retention_runs_days = static_cast<int>(options.get_int("retention-runs-days", 90, 1, 36500));
  s.retention_audit_days = static_cast<int>(options.get_int("retention-audit-days", 365, 1, 36500));
  s.retention_webhook_delivery_days =
      static_cast<int>(options.get_int("retention-webhook-delivery-days", 30, 1, 36500));
  const auto login_setting = [&options](const char* name, int fallback, int max) {
    return static_cast<int>(options.get_int(name, fallback, 1, max));
  };
  s.login_limits.per_address = {login_setting("login-max-failures", 5, 1000000),
                                login_setting("login-window-seconds", 60, 86400),
                                login_setting("login-lockout-seconds", 300, 86400)};
  s.login_limits.per_username = {login_setting("login-max-failures-per-username", 10, 1000000),
                                 login_setting("login-username-window-seconds", 300, 86400),
                                 login_setting("login-username-lockout-seconds", 300, 86400)};
  if (auto proxies = options.get("trusted-proxies")) {
    std::vector<std::string> entries;
    boost::algorithm::split(entries, *proxies, [](char c) { return c == ','; });
    s.trusted_proxies = tether::auth::NetworkList::parse(entries);
  }
  if (auto timeout = options.get("approval-timeout")) s.approval_timeout = parse_approval_timeout(*timeout);
  if (auto metrics = options.get("metrics-listen")) parse_metrics_listen(*metrics, s);
  s.instance_id = options.get_or("instance-id", boost::asio::ip::host_name() + ":" + std::to_string(s.listen_port));
  return s;
}

int create_key(const tether::config::Options& options) {
  const auto name = options.require("name");
  const auto role = tether::auth::parse_role(options.get_or("role", "admin"));
  if (!role) throw std::invalid_argument("--role must be admin, operator or viewer");
  const auto url = options.require("database-url");
  tether::app::prepare_database(url, std::chrono::seconds(10));
  pqxx::connection connection(url);
  pqxx::work txn(connection);
  const auto secret = tether::services::create_operator_key(txn, name, *role);
  txn.commit();
  std::cout << secret << std::endl;
  return 0;
}

int create_user(const tether::config::Options& options) {
  const auto username = options.require("username");
  const auto role = options.get_or("role", "admin");
  if (!tether::auth::parse_role(role)) throw std::invalid_argument("--role must be admin, operator or viewer");
  const auto url = options.require("database-url");
  std::string password;
  if (!std::getline(std::cin, password)) throw std::invalid_argument("no password on stdin");
  if (!password.empty() && password.back() == '\r') password.pop_back();
  tether::app::prepare_database(url, std::chrono::seconds(10));
  pqxx::connection connection(url);
  pqxx::work txn(connection);
  tether::SystemClock clock;
  tether::services::SecretBox no_master_key(std::nullopt);
  tether::services::Users users(clock, no_master_key);
  try {
    users.create(txn, "cli", username, role, password, "local");
  } catch (const tether::services::ServiceError& e) {
    std::cerr << "tether-controller: " << e.what() << "\n";
    return 2;
  }
  txn.commit();
  std::cout << "created user " << username << " (" << role << ")" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const tether::config::Options options(argc, argv, known_options, {"help", "version"});
    if (options.has_switch("help")) {
      std::cout << fmt::format(usage, fmt::arg("version", TETHER_VERSION));
      return 0;
    }
    if (options.has_switch("version")) {
      std::cout << TETHER_VERSION << std::endl;
      return 0;
    }
    const auto& words = options.positional();
    if (words == std::vector<std::string>{"openapi"}) {
      std::cout << boost::json::serialize(tether::api::openapi::document(tether::api::route_table(), TETHER_VERSION))
                << std::endl;
      return 0;
    }
    tether::logging::init("controller", options.get_or("log-level", "info"));
    if (words.empty() || words == std::vector<std::string>{"serve"}) return tether::app::serve(read_settings(options));
    if (words == std::vector<std::string>{"migrate"}) {
      tether::app::prepare_database(options.require("database-url"), std::chrono::seconds(10));
      return 0;
    }
    if (words == std::vector<std::string>{"admin", "create-key"}) return create_key(options);
    if (words == std::vector<std::string>{"admin", "create-user"}) return create_user(options);
    std::cerr << "unknown command '" << fmt::format("{}", fmt::join(words, " ")) << "' (see --help)\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "tether-controller: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "tether-controller: " << e.what() << "\n";
    return 1;
  }
}
