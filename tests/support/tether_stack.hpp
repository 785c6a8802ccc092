#pragma once
// A running Tether for end-to-end tests: the real tether-controller on 127.0.0.1 backed by a
// TestDatabase, an admin key made with `tether-controller admin create-key`, and real
// tether-agent processes, each registered as a server and connected before the constructor returns.
#include "common/http_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_database.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tether::testing {

struct StackOptions {
  bool tls = false;                              // self-signed certificate for 127.0.0.1/localhost
  std::optional<int> sync_wait_cap_seconds;      // --sync-wait-cap-seconds
  std::string log_level = "info";                // for the controller and the agents
  std::vector<std::string> controller_args;      // extra controller flags
  std::vector<std::string> agent_args;           // extra flags for every agent
  int agents = 1;                                // agents started (each with its own server)

  // ---- controller
  // The port the controller listens on (127.0.0.1); a free one when unset. Set by tests that must
  // know it before the stack starts, e.g. to put a TcpProxy between the agents and the controller.
  std::optional<std::uint16_t> controller_port;
  // --master-key-file: 64 random hex chars written to the stack's temp dir (see master_key()).
  bool master_key = false;
  // --trusted-proxies, joined with ',' (not passed when empty).
  std::vector<std::string> trusted_proxies;
  // The controller's RLIMIT_NOFILE, for tests of what it does when it runs out of descriptors.
  std::optional<long> controller_max_open_files;

  // ---- agents (passed to every agent)
  // The 127.0.0.1 port agents dial (their --controller URL); the controller's own when unset.
  // A test points it at a TcpProxy to cut the agents' network path while the controller stays up.
  std::optional<std::uint16_t> agent_controller_port;
  // --container-runtime and --reboot-command. Neither is left to the agent's default (`docker`,
  // `systemctl reboot`): a test must never restart the machine's containers or reboot it. Tests
  // of those operations point them at scripts.
  std::string container_runtime = "false";
  std::string reboot_command = "echo 'the test stack does not reboot this machine' >&2; exit 99";
  // Each agent gets --boot-id-file <temp dir>/agent-N.boot_id, holding a fresh UUID until a
  // test (or the agent's reboot command) writes another one.
  bool boot_id_files = false;
};

struct AgentInstance {
  std::string server_id;
  std::string server_name;
  std::string token;  // tat_...
  std::filesystem::path state_dir;
  std::filesystem::path log_path;
  // Holds the pid of the running agent process (rewritten at every start). Commands the agent
  // runs find it through the environment variable E2E_AGENT_PID_FILE, so that a test's reboot
  // command can stop the agent the way a real reboot would.
  std::filesystem::path pid_file;
  // The agent's --boot-id-file when StackOptions::boot_id_files is set, else empty. Also in the
  // agent's environment as E2E_BOOT_ID_FILE.
  std::filesystem::path boot_id_file;
  std::unique_ptr<ChildProcess> process;
};

struct AutomationKeySpec {
  std::string name = "e2e-key";
  std::vector<std::string> allowed_server_ids;  // empty: every server
  std::vector<std::string> allowed_operations;  // empty: every operation
  std::optional<std::string> expires_at;        // RFC 3339
  // The following are sent only when set, so that the controller's defaults apply otherwise.
  std::optional<std::vector<std::string>> allowed_credential_ids;
  std::optional<std::vector<std::string>> ip_allowlist;  // CIDR strings
  std::optional<int> rate_limit_per_minute;
};

struct AutomationKey {
  std::string id;
  std::string key;  // rca_...
  boost::json::object created;  // the whole 201 answer
};

class TetherStack {
 public:
  explicit TetherStack(const TestDatabase& database, StackOptions options = {});
  ~TetherStack();
  TetherStack(const TetherStack&) = delete;
  TetherStack& operator=(const TetherStack&) = delete;

  // ---- addresses and clients
  std::uint16_t port() const { return port_; }
  std::string base_url() const;
  // The URL agents are given as --controller: base_url() unless agent_controller_port is set.
  std::string agent_controller_url() const;
  // Options for a client of this controller (verifying its certificate when TLS is on).
  http::ClientOptions client_options() const;
  http::Client client() const { return http::Client(client_options()); }
  // The certificate clients and agents trust; empty without TLS.
  const std::filesystem::path& ca_file() const { return ca_file_; }

  // ---- operator API with the admin key
  const std::string& admin_key() const { return admin_key_; }
  http::Response admin(std::string_view method, std::string_view target, std::string_view body = {});
  // POST /api/servers; returns the 201 answer (id, agent_token, ...).
  boost::json::object create_server(const std::string& name);
  // GET /api/servers/{id} (throws unless 200).
  boost::json::object get_server(const std::string& server_id);
  // Waits until the server's status is `status`; throws with both logs when it does not happen.
  void wait_for_server_status(const std::string& server_id, const std::string& status,
                              std::chrono::milliseconds timeout = std::chrono::seconds(20));
  AutomationKey create_automation_key(const AutomationKeySpec& spec = {});

  // ---- agents
  AgentInstance& agent(std::size_t index = 0) { return agents_.at(index); }
  std::size_t agent_count() const { return agents_.size(); }
  const std::string& server_id() const { return agents_.at(0).server_id; }
  // Registers a new server and starts its agent; returns its index once the server is active.
  std::size_t add_agent(const std::string& server_name);
  // Starts (or restarts after a kill) the agent's process with its existing token and state dir.
  void start_agent(std::size_t index = 0);
  // Sends `signal` and reaps the process (SIGKILL if it is still running after 10 s).
  void stop_agent(std::size_t index = 0, int signal = SIGKILL);
  // stop_agent, start_agent, then wait until its server is active again.
  void restart_agent(std::size_t index = 0, int signal = SIGTERM);
  // Waits for the agent's process to end by itself (e.g. stopped by its reboot command) and
  // reaps it; nullopt when it is still running after `timeout`.
  std::optional<ExitStatus> wait_for_agent_exit(std::size_t index, std::chrono::milliseconds timeout);
  std::string agent_log(std::size_t index = 0) const;

  // ---- controller
  ChildProcess& controller() { return *controller_; }
  void start_controller();
  // Sends `signal` and reaps the controller (SIGKILL if it is still running after 10 s).
  void stop_controller(int signal = SIGTERM);
  // stop_controller, then start it again on the same port and database (its log is appended to).
  void restart_controller(int signal = SIGTERM);
  std::string controller_log() const;

  // The controller's AES-256-GCM master key (64 hex chars) and its file; empty without master_key.
  const std::string& master_key() const { return master_key_; }
  const std::filesystem::path& master_key_file() const { return master_key_file_; }

  const TempDir& dir() const { return dir_; }
  const TestDatabase& database() const { return database_; }

 private:
  void create_admin_key();
  void make_certificate();
  void write_master_key();
  void wait_for_health();
  std::string diagnostics() const;

  const TestDatabase& database_;
  StackOptions options_;
  TempDir dir_{"tether-e2e"};
  std::uint16_t port_ = 0;
  std::filesystem::path cert_file_, key_file_, ca_file_;
  std::filesystem::path controller_log_;
  std::filesystem::path master_key_file_;
  std::string master_key_;
  std::string admin_key_;
  std::unique_ptr<ChildProcess> controller_;
  std::unique_ptr<http::Client> admin_client_;
  std::vector<AgentInstance> agents_;
};

}  // namespace tether::testing
