#include "agent/agent.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <iterator>
#include <type_traits>

namespace tether::agent {
namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

ssl::context make_tls_context(const AgentConfig& config) {
  ssl::context context(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.set_verify_mode(ssl::verify_peer);
  if (config.ca_file) {
    boost::system::error_code error;
    context.load_verify_file(*config.ca_file, error);
    if (error) throw std::invalid_argument("cannot load --ca-file " + *config.ca_file + ": " + error.message());
  } else {
    context.set_default_verify_paths();
  }
  return context;
}

// Said once at start, so that an operator knows whether `setsid` can take a process out of reach.
std::shared_ptr<OperationCgroups> detect_cgroups(const AgentConfig& config) {
  std::string why_not;
  auto cgroups = OperationCgroups::detect(config.state_dir, why_not);
  if (cgroups) {
    spdlog::info("event=process_containment mode=cgroup cgroup={}", cgroups->base().string());
  } else {
    spdlog::info(
        "event=process_containment mode=process_group reason=\"{}\" detail=\"a process that leaves its process group "
        "(setsid) can outlive its operation\"",
        why_not);
  }
  return cgroups;
}

OperationSettings operation_settings(const AgentConfig& config, const HostInfo& host) {
  OperationSettings settings;
  settings.kill_grace = std::chrono::seconds(config.kill_grace_seconds);
  settings.spool_limit_bytes = config.spool_limit_bytes;
  settings.boot_id = host.boot_id;
  settings.commands.container_runtime = config.container_runtime;
  settings.commands.reboot_command = config.reboot_command;
  settings.cgroups = detect_cgroups(config);
  return settings;
}

}  // namespace

Agent::Agent(asio::io_context& io, AgentConfig config)
    : io_(io),
      config_(std::move(config)),
      host_(read_host_info(config_.boot_id_file)),
      tls_context_(make_tls_context(config_)),
      journal_(config_.state_dir),
      operations_(io.get_executor(), journal_, operation_settings(config_, host_), *this),
      random_(std::random_device{}()),
      reconnect_timer_(io),
      heartbeat_timer_(io) {}

Agent::~Agent() = default;

void Agent::start() {
  if (host_.boot_id.empty()) spdlog::warn("event=boot_id_unknown file={}", config_.boot_id_file);
  operations_.recover();
  spdlog::info("event=agent_started version={} controller={} state_dir={} hostname={}", agent_version,
               config_.endpoint.display(), config_.state_dir.string(), host_.hostname);
  connect();
}

void Agent::stop() {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("event=agent_stopping");
  reconnect_timer_.cancel();
  heartbeat_timer_.cancel();
  if (!link_) {
    io_.stop();
    return;
  }
  link_->close();
  // Give the close frame a moment, then stop regardless (commands' pipes keep the io_context busy).
  reconnect_timer_.expires_after(std::chrono::seconds(1));
  reconnect_timer_.async_wait([this](const boost::system::error_code&) { io_.stop(); });
}

void Agent::connect() {
  welcomed_ = false;
  link_ = make_controller_link(io_.get_executor(), tls_context_, config_.endpoint, config_.token, *this);
  spdlog::debug("event=connecting controller={}", config_.endpoint.display());
  link_->run();
}

void Agent::on_link_open(ControllerLink& link) {
  if (&link != link_.get()) return;
  spdlog::info("event=connected controller={}", config_.endpoint.display());
  proto::Hello hello;
  hello.agent_version = std::string(agent_version);
  hello.hostname = host_.hostname;
  hello.os = host_.os;
  hello.kernel = host_.kernel;
  hello.arch = host_.arch;
  hello.boot_id = host_.boot_id;
  hello.capabilities.assign(std::begin(proto::operation_types), std::end(proto::operation_types));
  hello.operations = operations_.hello_operations();
  proto::fit_to_limits(hello);
  link.send_text(proto::encode(proto::AgentMessage{std::move(hello)}));
}

void Agent::on_link_message(ControllerLink& link, std::string_view text) {
  if (&link != link_.get()) return;
  handle_message(text);
}

void Agent::handle_message(std::string_view text) {
  std::optional<proto::ControllerMessage> message;
  try {
    message = proto::decode_controller_message(text);
  } catch (const json::FieldError& error) {
    // A dispatch we cannot read still deserves an answer if its id can be found.
    try {
      const auto object = json::parse_object(text, "controller message");
      const auto id = ids::parse_uuid(json::optional_string(object, "operation_id").value_or(""));
      if (json::optional_string(object, "type") == "dispatch" && id) {
        operations_.reject(*id, std::string("invalid dispatch: ") + error.what());
        return;
      }
    } catch (const json::FieldError&) {
      // Not even a JSON object with readable fields: fall through to the log line below.
    }
    spdlog::warn("event=message_invalid error=\"{}\"", error.what());
    return;
  }
  if (!message) {
    spdlog::info("event=message_ignored reason=unknown_type");
    return;
  }
  std::visit(
      [this](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, proto::Welcome>) {
          welcomed_ = true;
          backoff_.reset();
          heartbeat_interval_ = std::chrono::seconds(m.heartbeat_interval_seconds);
          link_->set_idle_timeout(3 * heartbeat_interval_);
          spdlog::info("event=welcomed server_id={} heartbeat_s={} operations={}", m.server_id,
                       m.heartbeat_interval_seconds, m.operations.size());
          operations_.on_welcome(m);
          schedule_heartbeat();
        } else if constexpr (std::is_same_v<T, proto::Dispatch>) {
          operations_.on_dispatch(std::move(m));
        } else if constexpr (std::is_same_v<T, proto::Ack>) {
          operations_.on_ack(m);
        } else if constexpr (std::is_same_v<T, proto::FinishedAck>) {
          operations_.on_finished_ack(m);
        } else if constexpr (std::is_same_v<T, proto::Cancel>) {
          operations_.on_cancel(m);
        }
      },
      *message);
}

void Agent::schedule_heartbeat() {
  heartbeat_timer_.expires_after(heartbeat_interval_);
  heartbeat_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || !ready()) return;
    send_text(proto::encode(proto::AgentMessage{proto::Heartbeat{}}));
    schedule_heartbeat();
  });
}

void Agent::on_link_closed(ControllerLink& link, const LinkFailure& failure) {
  if (&link != link_.get()) return;
  // The link object stays alive through its own pending handlers; we only drop our reference.
  link_.reset();
  welcomed_ = false;
  heartbeat_timer_.cancel();
  if (stopping_) {
    io_.stop();
    return;
  }
  schedule_reconnect(failure);
}

void Agent::schedule_reconnect(const LinkFailure& failure) {
  const auto delay = backoff_.next(std::uniform_real_distribution<double>(0.0, 1.0)(random_));
  if (failure.http_status == 401) {
    spdlog::error(
        "event=connect_rejected http_status=401 detail=\"the controller refused the agent token (unknown, revoked or "
        "decommissioned server)\" retry_in_ms={}",
        delay.count());
  } else {
    spdlog::warn("event=disconnected stage={} http_status={} error=\"{}\" retry_in_ms={}", failure.stage,
                 failure.http_status, failure.message, delay.count());
  }
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error && !stopping_) connect();
  });
}

void Agent::send_text(std::string message) {
  if (link_) link_->send_text(std::move(message));
}

void Agent::send_binary(std::string frame) {
  if (link_) link_->send_binary(std::move(frame));
}

}  // namespace tether::agent
