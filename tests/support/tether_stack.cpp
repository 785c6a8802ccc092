#include "tests/support/tether_stack.hpp"

#include "tests/support/api.hpp"
#include "tests/support/net.hpp"
#include "tests/support/wait.hpp"

#include "common/crypto.hpp"
#include "common/ids.hpp"

#include <fmt/format.h>

#include <fstream>
#include <stdexcept>

#ifndef TETHER_CONTROLLER_BINARY
#error "TETHER_CONTROLLER_BINARY must name the tether-controller executable"
#endif
#ifndef TETHER_AGENT_BINARY
#error "TETHER_AGENT_BINARY must name the tether-agent executable"
#endif

namespace tether::testing {
namespace {

// Processes under test see only the configuration the test gives them, not the developer's.
const std::vector<std::string> dropped_env{"TETHER_"};

std::string tail(const std::string& text, std::size_t bytes = 4000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

}  // namespace

TetherStack::TetherStack(const TestDatabase& database, StackOptions options)
    : database_(database), options_(std::move(options)) {
  port_ = options_.controller_port ? *options_.controller_port : free_loopback_port();
  controller_log_ = dir_ / "controller.log";
  if (options_.tls) make_certificate();
  if (options_.master_key) write_master_key();
  create_admin_key();
  start_controller();
  for (int i = 0; i < options_.agents; ++i) add_agent(fmt::format("e2e-server-{}", i + 1));
}

TetherStack::~TetherStack() {
  // Agents first, so that the controller does not log their reconnect attempts as errors.
  for (auto& agent : agents_) agent.process.reset();
  controller_.reset();
}

std::string TetherStack::base_url() const {
  return fmt::format("{}://127.0.0.1:{}", options_.tls ? "https" : "http", port_);
}

std::string TetherStack::agent_controller_url() const {
  if (!options_.agent_controller_port) return base_url();
  return fmt::format("{}://127.0.0.1:{}", options_.tls ? "https" : "http", *options_.agent_controller_port);
}

http::ClientOptions TetherStack::client_options() const {
  http::ClientOptions options = http::ClientOptions::from_url(base_url());
  options.ca_file = ca_file_.string();
  options.timeout = std::chrono::seconds(30);
  return options;
}

void TetherStack::make_certificate() {
  cert_file_ = dir_ / "controller-cert.pem";
  key_file_ = dir_ / "controller-key.pem";
  auto result = run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                             "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                             "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key_file_.string(), "-out",
                             cert_file_.string()},
                            std::chrono::seconds(30));
  if (!result.succeeded()) {
    throw std::runtime_error(fmt::format("openssl req failed ({}): {}", result.status.describe(), result.err));
  }
  ca_file_ = cert_file_;  // self-signed: the certificate is its own authority
}

void TetherStack::write_master_key() {
  master_key_ = crypto::hex_encode(crypto::random_bytes(32));
  master_key_file_ = dir_ / "master.key";
  write_text(master_key_file_, master_key_ + "\n");
  std::filesystem::permissions(master_key_file_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

void TetherStack::create_admin_key() {
  auto result = run_command({TETHER_CONTROLLER_BINARY, "admin", "create-key", "--name", "e2e-admin", "--role", "admin",
                             "--database-url", database_.url()},
                            std::chrono::seconds(60), {}, dropped_env);
  admin_key_ = trim(result.out);
  if (!result.succeeded() || admin_key_.rfind("tak_", 0) != 0 || admin_key_.find('\n') != std::string::npos) {
    throw std::runtime_error(fmt::format("tether-controller admin create-key failed ({}); stdout: '{}'; stderr: {}",
                                         result.status.describe(), result.out, tail(result.err)));
  }
}

void TetherStack::start_controller() {
  if (controller_ && controller_->running()) throw std::logic_error("the controller is already running");
  ProcessSpec spec;
  spec.argv = {TETHER_CONTROLLER_BINARY,
               "serve",
               "--listen",
               fmt::format("127.0.0.1:{}", port_),
               "--database-url",
               database_.url(),
               "--log-level",
               options_.log_level};
  if (options_.tls) {
    spec.argv.insert(spec.argv.end(), {"--tls-cert", cert_file_.string(), "--tls-key", key_file_.string()});
  }
  if (options_.sync_wait_cap_seconds) {
    spec.argv.insert(spec.argv.end(), {"--sync-wait-cap-seconds", std::to_string(*options_.sync_wait_cap_seconds)});
  }
  if (!master_key_file_.empty()) spec.argv.insert(spec.argv.end(), {"--master-key-file", master_key_file_.string()});
  if (!options_.trusted_proxies.empty()) {
    spec.argv.insert(spec.argv.end(), {"--trusted-proxies", join(options_.trusted_proxies, ",")});
  }
  spec.argv.insert(spec.argv.end(), options_.controller_args.begin(), options_.controller_args.end());
  spec.drop_env_prefixes = dropped_env;
  spec.stdout_path = controller_log_;
  spec.max_open_files = options_.controller_max_open_files;
  controller_ = std::make_unique<ChildProcess>(std::move(spec));
  admin_client_.reset();
  wait_for_health();
}

void TetherStack::stop_controller(int signal) {
  if (!controller_) return;
  controller_->kill(signal);
  if (!controller_->wait_for_exit(std::chrono::seconds(10))) controller_->kill_and_reap();
  admin_client_.reset();
}

void TetherStack::restart_controller(int signal) {
  stop_controller(signal);
  start_controller();
}

void TetherStack::wait_for_health() {
  const bool healthy = wait_until(
      [&] {
        if (!controller_->running()) return true;  // reported below
        try {
          http::Client probe(client_options());
          return probe.get("/api/health").status == 200;
        } catch (const http::TransportError&) {
          return false;  // not listening yet
        }
      },
      std::chrono::seconds(20), std::chrono::milliseconds(25));
  if (!controller_->running()) {
    throw std::runtime_error(fmt::format("tether-controller exited ({}) during start-up:\n{}",
                                         controller_->kill_and_reap().describe(), tail(controller_log())));
  }
  if (!healthy) {
    throw std::runtime_error("tether-controller did not answer /api/health within 20 s:\n" + tail(controller_log()));
  }
}

http::Response TetherStack::admin(std::string_view method, std::string_view target, std::string_view body) {
  if (!admin_client_) admin_client_ = std::make_unique<http::Client>(client_options());
  return admin_client_->request(method, target, body, {http::bearer(admin_key_)});
}

boost::json::object TetherStack::create_server(const std::string& name) {
  boost::json::object body{{"name", name}, {"tags", boost::json::array{"e2e"}}};
  auto response = admin("POST", "/api/servers", boost::json::serialize(body));
  if (response.status != 201) throw std::runtime_error("POST /api/servers: " + describe(response));
  return json_object(response);
}

boost::json::object TetherStack::get_server(const std::string& server_id) {
  auto response = admin("GET", "/api/servers/" + server_id);
  if (response.status != 200) throw std::runtime_error("GET /api/servers/" + server_id + ": " + describe(response));
  return json_object(response);
}

void TetherStack::wait_for_server_status(const std::string& server_id, const std::string& status,
                                         std::chrono::milliseconds timeout) {
  std::string last;
  const bool reached = wait_until(
      [&] {
        auto server = get_server(server_id);
        last = string_field(server, "status");
        return last == status;
      },
      timeout, std::chrono::milliseconds(25));
  if (!reached) {
    throw std::runtime_error(fmt::format("server {} is '{}', not '{}', after {} ms\n{}", server_id, last, status,
                                         timeout.count(), diagnostics()));
  }
}

std::size_t TetherStack::add_agent(const std::string& server_name) {
  auto server = create_server(server_name);
  AgentInstance agent;
  agent.server_id = string_field(server, "id");
  agent.server_name = server_name;
  agent.token = string_field(server, "agent_token");
  agent.state_dir = dir_ / fmt::format("agent-{}-state", agents_.size() + 1);
  agent.log_path = dir_ / fmt::format("agent-{}.log", agents_.size() + 1);
  agent.pid_file = dir_ / fmt::format("agent-{}.pid", agents_.size() + 1);
  if (options_.boot_id_files) {
    agent.boot_id_file = dir_ / fmt::format("agent-{}.boot_id", agents_.size() + 1);
    write_text(agent.boot_id_file, ids::new_uuid() + "\n");
  }
  std::filesystem::create_directories(agent.state_dir);
  agents_.push_back(std::move(agent));
  const std::size_t index = agents_.size() - 1;
  start_agent(index);
  wait_for_server_status(agents_[index].server_id, "active");
  return index;
}

void TetherStack::start_agent(std::size_t index) {
  auto& agent = agents_.at(index);
  if (agent.process && agent.process->running()) throw std::logic_error("the agent is already running");
  ProcessSpec spec;
  spec.argv = {TETHER_AGENT_BINARY, "--controller", agent_controller_url(), "--token", agent.token,
               "--state-dir", agent.state_dir.string(), "--log-level", options_.log_level};
  if (options_.tls) spec.argv.insert(spec.argv.end(), {"--ca-file", ca_file_.string()});
  spec.argv.insert(spec.argv.end(), {"--container-runtime", options_.container_runtime, "--reboot-command",
                                     options_.reboot_command});
  if (!agent.boot_id_file.empty()) spec.argv.insert(spec.argv.end(), {"--boot-id-file", agent.boot_id_file.string()});
  spec.argv.insert(spec.argv.end(), options_.agent_args.begin(), options_.agent_args.end());
  spec.env = {{"E2E_AGENT_PID_FILE", agent.pid_file.string()}};
  if (!agent.boot_id_file.empty()) spec.env["E2E_BOOT_ID_FILE"] = agent.boot_id_file.string();
  spec.drop_env_prefixes = dropped_env;
  spec.stdout_path = agent.log_path;
  agent.process = std::make_unique<ChildProcess>(std::move(spec));
  write_text(agent.pid_file, std::to_string(agent.process->pid()) + "\n");
}

void TetherStack::stop_agent(std::size_t index, int signal) {
  auto& agent = agents_.at(index);
  if (!agent.process) return;
  agent.process->kill(signal);
  if (!agent.process->wait_for_exit(std::chrono::seconds(10))) agent.process->kill_and_reap();
}

void TetherStack::restart_agent(std::size_t index, int signal) {
  stop_agent(index, signal);
  start_agent(index);
  wait_for_server_status(agents_.at(index).server_id, "active");
}

std::optional<ExitStatus> TetherStack::wait_for_agent_exit(std::size_t index, std::chrono::milliseconds timeout) {
  auto& agent = agents_.at(index);
  if (!agent.process) throw std::logic_error("the agent was never started");
  return agent.process->wait_for_exit(timeout);
}

std::string TetherStack::agent_log(std::size_t index) const { return read_file(agents_.at(index).log_path); }

std::string TetherStack::controller_log() const { return read_file(controller_log_); }

AutomationKey TetherStack::create_automation_key(const AutomationKeySpec& spec) {
  boost::json::array servers(spec.allowed_server_ids.begin(), spec.allowed_server_ids.end());
  boost::json::array operations(spec.allowed_operations.begin(), spec.allowed_operations.end());
  boost::json::object body{{"name", spec.name},
                           {"allowed_server_ids", std::move(servers)},
                           {"allowed_operations", std::move(operations)},
                           {"expires_at", spec.expires_at ? boost::json::value(*spec.expires_at) : nullptr}};
  if (spec.allowed_credential_ids) {
    body["allowed_credential_ids"] =
        boost::json::array(spec.allowed_credential_ids->begin(), spec.allowed_credential_ids->end());
  }
  if (spec.ip_allowlist) body["ip_allowlist"] = boost::json::array(spec.ip_allowlist->begin(), spec.ip_allowlist->end());
  if (spec.rate_limit_per_minute) body["rate_limit_per_minute"] = *spec.rate_limit_per_minute;
  auto response = admin("POST", "/api/automation-keys", boost::json::serialize(body));
  if (response.status != 201) throw std::runtime_error("POST /api/automation-keys: " + describe(response));
  AutomationKey key;
  key.created = json_object(response);
  key.id = string_field(key.created, "id");
  key.key = string_field(key.created, "key");
  return key;
}

std::string TetherStack::diagnostics() const {
  std::string text = "--- controller log (tail):\n" + tail(controller_log());
  for (std::size_t i = 0; i < agents_.size(); ++i) {
    text += fmt::format("\n--- agent {} log (tail):\n{}", i + 1, tail(agent_log(i)));
  }
  return text;
}

}  // namespace tether::testing
