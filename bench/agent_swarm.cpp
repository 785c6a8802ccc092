#include "bench/agent_swarm.hpp"

#include "common/any_stream.hpp"
#include "common/ids.hpp"
#include "proto/messages.hpp"
#include "proto/output_frame.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_map>

namespace tether::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto connect_timeout = 30s;
constexpr auto initial_idle_timeout = 30s;  // until the welcome gives the heartbeat interval
constexpr auto first_reconnect_delay = 1s;
constexpr auto max_reconnect_delay = 30s;
constexpr std::size_t max_failure_samples = 8;
constexpr std::string_view output_payload = "swarm\n";

// What a real agent keeps in its journal, for as long as the controller has not acknowledged
// the operation's end: enough to answer a redelivered dispatch and to say hello after a reconnect.
struct JournalEntry {
  Clock::time_point dispatched;
  std::uint64_t last_seq = 0;  // output frames sent (0 or 1)
  bool finished = false;
  proto::Finished finished_message;
};

// One simulated agent: its token and journal, which outlive any one connection.
struct Slot {
  std::string token;
  std::string hostname;
  std::string boot_id;
  std::map<std::string, JournalEntry> journal;
  int failures_in_row = 0;
  bool ever_connected = false;
};

struct HostFacts {
  std::string kernel = "unknown";
  std::string arch = "unknown";
};

HostFacts host_facts() {
  HostFacts facts;
  struct utsname uts {};
  if (::uname(&uts) == 0) {
    facts.kernel = uts.release;
    facts.arch = uts.machine;
  }
  return facts;
}

}  // namespace

namespace detail {

class SwarmCore {
 public:
  explicit SwarmCore(SwarmOptions options) : options_(std::move(options)) {
    if (options_.tokens.empty()) throw std::invalid_argument("the swarm needs at least one server token");
    if (options_.connect_concurrency == 0) throw std::invalid_argument("connect concurrency must be at least 1");
    if (options_.threads < 1 || options_.threads > 2) throw std::invalid_argument("the swarm runs on 1 or 2 threads");
    const auto facts = host_facts();
    kernel_ = facts.kernel;
    arch_ = facts.arch;
    slots_.resize(options_.tokens.size());
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].token = options_.tokens[i];
      slots_[i].hostname = fmt::format("swarm-{:05}", i);
      slots_[i].boot_id = ids::new_uuid();  // each simulated agent is a machine of its own
    }
  }

  void start();
  void stop();

  // Called by connections (on their strands).
  void on_welcome(std::size_t index);
  void on_ended(std::size_t index, bool was_welcomed, const std::string& reason);
  void record_dispatch(const std::string& operation_id, std::size_t index);
  void record_finished_ack(const std::string& operation_id);

  proto::Hello hello_for(std::size_t index) const {
    const auto& slot = slots_[index];
    proto::Hello hello;
    hello.agent_version = "0.1.0-swarm";
    hello.hostname = slot.hostname;
    hello.os = "Linux (simulated agent of bench/agent_swarm)";
    hello.kernel = kernel_;
    hello.arch = arch_;
    hello.boot_id = slot.boot_id;
    // The swarm answers every type alike: it runs nothing.
    hello.capabilities.assign(std::begin(proto::operation_types), std::end(proto::operation_types));
    for (const auto& [id, entry] : slot.journal) hello.operations.push_back({id, entry.finished, entry.last_seq});
    return hello;
  }

  SwarmOptions options_;
  ssl::context tls_{ssl::context::tls_client};
  net::io_context io_{2};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  bool tls_enabled_ = false;
  std::string host_;
  std::string port_;
  std::string host_header_;
  bool host_is_address_ = false;
  tcp::resolver::results_type endpoints_;
  std::string kernel_;
  std::string arch_;

  // Each slot is touched only by the one connection that serves it at a time, on its strand.
  std::vector<Slot> slots_;

  std::mutex connect_mutex_;
  std::deque<std::size_t> connect_queue_;
  std::size_t in_flight_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> connected_{0};
  std::atomic<std::size_t> ever_connected_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
  std::atomic<std::uint64_t> disconnects_{0};
  std::atomic<std::uint64_t> dispatches_{0};
  std::atomic<std::uint64_t> finished_acks_{0};
  std::atomic<std::uint64_t> cancels_{0};
  std::atomic<std::uint64_t> heartbeats_{0};

  mutable std::mutex records_mutex_;
  std::condition_variable records_changed_;
  std::vector<DispatchRecord> records_;
  std::unordered_map<std::string, std::size_t> record_index_;
  std::size_t acks_since_clear_ = 0;

  mutable std::mutex failures_mutex_;
  std::set<std::string> failure_samples_;

 private:
  void launch();
  void connect(std::size_t index);
  void schedule_reconnect(std::size_t index);
};

}  // namespace detail

using detail::SwarmCore;

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(SwarmCore& swarm, std::size_t index)
      : swarm_(swarm),
        index_(index),
        ws_(make_stream(net::make_strand(swarm.io_), swarm.tls_enabled_, swarm.tls_)),
        heartbeat_timer_(ws_.get_executor()) {}

  void run() {
    tcp_layer().expires_after(connect_timeout);
    tcp_layer().async_connect(
        swarm_.endpoints_, beast::bind_front_handler(&Connection::on_connect, shared_from_this()));
  }

 private:
  struct Frame {
    bool binary;
    std::string payload;
  };

  static tether::AnyStream make_stream(net::any_io_executor executor, bool use_tls, ssl::context& tls) {
    beast::tcp_stream tcp(executor);
    return use_tls ? tether::AnyStream::tls(std::move(tcp), tls) : tether::AnyStream::plain(std::move(tcp));
  }

  beast::tcp_stream& tcp_layer() { return ws_.next_layer().tcp(); }

  Slot& slot() { return swarm_.slots_[index_]; }

  void on_connect(beast::error_code error, const tcp::endpoint&) {
    if (error) return fail("connect: " + error.message());
    tcp_layer().socket().set_option(tcp::no_delay(true), error);
    if (auto* tls = ws_.next_layer().tls_layer()) {
      if (!swarm_.host_is_address_ && !SSL_set_tlsext_host_name(tls->native_handle(), swarm_.host_.c_str())) {
        return fail("tls: cannot set the server name");
      }
      if (swarm_.options_.insecure) {
        tls->set_verify_mode(ssl::verify_none);
      } else {
        tls->set_verify_mode(ssl::verify_peer);
        tls->set_verify_callback(ssl::host_name_verification(swarm_.host_));
      }
      ws_.next_layer().async_handshake(ssl::stream_base::client,
                                       beast::bind_front_handler(&Connection::on_tls_handshake, shared_from_this()));
    } else {
      upgrade();
    }
  }

  void on_tls_handshake(beast::error_code error) {
    if (error) return fail("tls handshake: " + error.message());
    upgrade();
  }

  void upgrade() {
    tcp_layer().expires_never();  // the WebSocket's own timeouts from here on
    set_idle_timeout(initial_idle_timeout);
    ws_.set_option(websocket::stream_base::decorator(
        [authorization = "Bearer " + slot().token](websocket::request_type& request) {
          request.set(beast::http::field::authorization, authorization);
          request.set(beast::http::field::user_agent, "tether-agent-swarm/0.1.0");
        }));
    ws_.async_handshake(upgrade_response_, swarm_.host_header_, "/api/agent/ws",
                        beast::bind_front_handler(&Connection::on_upgrade, shared_from_this()));
  }

  void set_idle_timeout(std::chrono::seconds timeout) {
    auto options = websocket::stream_base::timeout::suggested(beast::role_type::client);
    options.idle_timeout = timeout;
    options.keep_alive_pings = true;
    ws_.set_option(options);
  }

  void on_upgrade(beast::error_code error) {
    if (error) {
      if (error == websocket::error::upgrade_declined) {
        return fail(fmt::format("upgrade declined: HTTP {} {}", upgrade_response_.result_int(),
                                upgrade_response_.body().substr(0, 120)));
      }
      return fail("upgrade: " + error.message());
    }
    open_ = true;
    read_next();
    send_text(proto::encode(proto::AgentMessage{swarm_.hello_for(index_)}));
  }

  void read_next() {
    ws_.async_read(buffer_, beast::bind_front_handler(&Connection::on_read, shared_from_this()));
  }

  void on_read(beast::error_code error, std::size_t) {
    if (ended_) return;
    if (error) {
      if (error == websocket::error::closed) {
        const auto& reason = ws_.reason();
        return fail(fmt::format("closed by the controller (code {} {})", static_cast<unsigned>(reason.code),
                                std::string(reason.reason.data(), reason.reason.size())));
      }
      return fail("read: " + error.message());
    }
    if (ws_.got_text()) {
      const auto data = buffer_.cdata();
      std::optional<proto::ControllerMessage> message;
      try {
        message = proto::decode_controller_message(
            std::string_view(static_cast<const char*>(data.data()), data.size()));
      } catch (const std::exception& e) {
        return fail(std::string("undecodable message from the controller: ") + e.what());
      }
      if (message) std::visit([this](auto& m) { on_message(m); }, *message);
    }
    buffer_.consume(buffer_.size());
    if (!ended_) read_next();
  }

  void on_message(proto::Welcome& welcome) {
    if (welcomed_) return;
    welcomed_ = true;
    heartbeat_interval_ = std::chrono::seconds(std::max(1, welcome.heartbeat_interval_seconds));
    set_idle_timeout(3 * heartbeat_interval_);
    auto& journal = slot().journal;
    // Resend what the controller has not stored, forget what it has (PROTOCOL.md, rule 4).
    for (const auto& stored : welcome.operations) {
      auto it = journal.find(stored.operation_id);
      if (it == journal.end()) continue;
      if (stored.finished_stored) {
        journal.erase(it);
        continue;
      }
      if (!it->second.finished) finish(it->first, "completed", 0, std::nullopt);  // its timer died with the old socket
      if (stored.stored_seq < it->second.last_seq) send_output(it->first);
      send_text(proto::encode(proto::AgentMessage{it->second.finished_message}));
    }
    swarm_.on_welcome(index_);
    schedule_heartbeat();
  }

  void on_message(proto::Dispatch& dispatch) {
    swarm_.record_dispatch(dispatch.operation_id, index_);
    auto& journal = slot().journal;
    if (auto it = journal.find(dispatch.operation_id); it != journal.end()) {
      // At most once: a redelivered dispatch is reported, never started again.
      if (!it->second.finished) return send_text(proto::encode(proto::AgentMessage{proto::Accepted{it->first}}));
      if (it->second.last_seq > 0) send_output(it->first);
      return send_text(proto::encode(proto::AgentMessage{it->second.finished_message}));
    }
    auto& entry = journal[dispatch.operation_id];
    entry.dispatched = Clock::now();
    send_text(proto::encode(proto::AgentMessage{proto::Accepted{dispatch.operation_id}}));
    send_text(proto::encode(proto::AgentMessage{proto::Started{dispatch.operation_id}}));
    if (swarm_.options_.send_output) {
      entry.last_seq = 1;
      send_output(dispatch.operation_id);
    }
    if (swarm_.options_.finish_delay.count() == 0) {
      finish(dispatch.operation_id, "completed", 0, std::nullopt);
      send_text(proto::encode(proto::AgentMessage{entry.finished_message}));
      return;
    }
    auto timer = std::make_shared<net::steady_timer>(ws_.get_executor(), swarm_.options_.finish_delay);
    running_[dispatch.operation_id] = timer;
    timer->async_wait([self = shared_from_this(), id = dispatch.operation_id](beast::error_code error) {
      if (error || self->ended_) return;
      self->running_.erase(id);
      auto it = self->slot().journal.find(id);
      if (it == self->slot().journal.end() || it->second.finished) return;
      self->finish(id, "completed", 0, std::nullopt);
      self->send_text(proto::encode(proto::AgentMessage{it->second.finished_message}));
    });
  }

  void on_message(proto::Ack&) {}  // the output was one frame, kept only in the journal entry

  void on_message(proto::FinishedAck& ack) {
    slot().journal.erase(ack.operation_id);
    swarm_.record_finished_ack(ack.operation_id);
  }

  void on_message(proto::Cancel& cancel) {
    ++swarm_.cancels_;
    auto it = slot().journal.find(cancel.operation_id);
    // Like tether-agent: a cancel for an operation that is not running is ignored.
    if (it == slot().journal.end() || it->second.finished) return;
    if (auto timer = running_.find(cancel.operation_id); timer != running_.end()) {
      timer->second->cancel();
      running_.erase(timer);
    }
    finish(cancel.operation_id, "canceled", std::nullopt, std::string("operation canceled"));
    send_text(proto::encode(proto::AgentMessage{it->second.finished_message}));
  }

  void finish(const std::string& operation_id, std::string status, std::optional<int> exit_code,
              std::optional<std::string> error) {
    auto& entry = slot().journal[operation_id];
    entry.finished = true;
    entry.finished_message.operation_id = operation_id;
    entry.finished_message.status = std::move(status);
    entry.finished_message.exit_code = exit_code;
    entry.finished_message.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - entry.dispatched).count();
    entry.finished_message.error = std::move(error);
    entry.finished_message.last_seq = entry.last_seq;
  }

  void send_output(const std::string& operation_id) {
    enqueue(true, proto::encode_output_frame(proto::Stream::stdout_stream, operation_id, 1, output_payload));
  }

  void send_text(std::string text) { enqueue(false, std::move(text)); }

  void schedule_heartbeat() {
    heartbeat_timer_.expires_after(heartbeat_interval_);
    heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code error) {
      if (error || self->ended_) return;
      self->send_text(proto::encode(proto::AgentMessage{proto::Heartbeat{}}));
      ++self->swarm_.heartbeats_;
      self->schedule_heartbeat();
    });
  }

  void enqueue(bool binary, std::string payload) {
    if (ended_ || !open_) return;
    queue_.push_back({binary, std::move(payload)});
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    ws_.binary(queue_.front().binary);
    ws_.async_write(net::buffer(queue_.front().payload),
                    beast::bind_front_handler(&Connection::on_write, shared_from_this()));
  }

  void on_write(beast::error_code error, std::size_t) {
    writing_ = false;
    if (ended_) return;
    if (error) return fail("write: " + error.message());
    queue_.pop_front();
    if (!queue_.empty()) write_next();
  }

  void fail(std::string reason) {
    if (ended_) return;
    ended_ = true;
    queue_.clear();
    heartbeat_timer_.cancel();
    for (auto& [id, timer] : running_) timer->cancel();
    running_.clear();
    beast::error_code ignored;
    tcp_layer().socket().close(ignored);
    swarm_.on_ended(index_, welcomed_, reason);
  }

  SwarmCore& swarm_;
  const std::size_t index_;
  websocket::stream<tether::AnyStream> ws_;
  net::steady_timer heartbeat_timer_;
  websocket::response_type upgrade_response_;
  beast::flat_buffer buffer_;
  std::deque<Frame> queue_;
  std::map<std::string, std::shared_ptr<net::steady_timer>> running_;  // finish_delay timers
  std::chrono::seconds heartbeat_interval_{10};
  bool open_ = false;
  bool writing_ = false;
  bool welcomed_ = false;
  bool ended_ = false;
};

}  // namespace

void SwarmCore::start() {
  auto parsed = boost::urls::parse_uri(options_.url);
  if (!parsed) throw std::invalid_argument(fmt::format("not a URL: '{}'", options_.url));
  if (parsed->scheme() == "https") {
    tls_enabled_ = true;
  } else if (parsed->scheme() != "http") {
    throw std::invalid_argument(fmt::format("the controller URL must be http:// or https://, got '{}'", options_.url));
  }
  host_ = parsed->host_address();
  port_ = parsed->has_port() ? std::string(parsed->port()) : (tls_enabled_ ? "443" : "80");
  host_header_ = parsed->has_port() ? fmt::format("{}:{}", parsed->encoded_host(), parsed->port())
                                    : std::string(parsed->encoded_host());
  boost::system::error_code ec;
  net::ip::make_address(host_, ec);
  host_is_address_ = !ec;
  if (tls_enabled_ && !options_.insecure) {
    if (!options_.ca_file.empty()) {
      tls_.load_verify_file(options_.ca_file);
    } else {
      tls_.set_default_verify_paths();
    }
  }
  tcp::resolver resolver(io_);
  endpoints_ = resolver.resolve(host_, port_, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot resolve {}: {}", host_, ec.message()));

  work_.emplace(net::make_work_guard(io_));
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { io_.run(); });
  {
    std::lock_guard lock(connect_mutex_);
    for (std::size_t i = 0; i < slots_.size(); ++i) connect_queue_.push_back(i);
  }
  launch();
}

void SwarmCore::launch() {
  std::vector<std::size_t> now;
  {
    std::lock_guard lock(connect_mutex_);
    while (!stopping_ && in_flight_ < options_.connect_concurrency && !connect_queue_.empty()) {
      now.push_back(connect_queue_.front());
      connect_queue_.pop_front();
      ++in_flight_;
    }
  }
  for (auto index : now) connect(index);
}

void SwarmCore::connect(std::size_t index) {
  std::make_shared<Connection>(*this, index)->run();
}

void SwarmCore::on_welcome(std::size_t index) {
  auto& slot = slots_[index];
  slot.failures_in_row = 0;
  if (!slot.ever_connected) {
    slot.ever_connected = true;
    ++ever_connected_;
  }
  ++connected_;
  {
    std::lock_guard lock(connect_mutex_);
    --in_flight_;
  }
  launch();
}

void SwarmCore::on_ended(std::size_t index, bool was_welcomed, const std::string& reason) {
  if (stopping_) return;
  {
    std::lock_guard lock(failures_mutex_);
    if (failure_samples_.size() < max_failure_samples) failure_samples_.insert(reason);
  }
  if (was_welcomed) {
    --connected_;
    ++disconnects_;
  } else {
    ++connect_failures_;
    {
      std::lock_guard lock(connect_mutex_);
      --in_flight_;
    }
    launch();
  }
  if (options_.reconnect) schedule_reconnect(index);
}

void SwarmCore::schedule_reconnect(std::size_t index) {
  auto& slot = slots_[index];
  const int doublings = std::min(slot.failures_in_row, 5);
  ++slot.failures_in_row;
  auto delay = std::min<std::chrono::milliseconds>(first_reconnect_delay * (1 << doublings), max_reconnect_delay);
  thread_local std::minstd_rand random(std::random_device{}());
  delay = std::chrono::milliseconds(
      static_cast<long>(static_cast<double>(delay.count()) * std::uniform_real_distribution<double>(0.75, 1.25)(random)));
  auto timer = std::make_shared<net::steady_timer>(io_, delay);
  timer->async_wait([this, timer, index](beast::error_code error) {
    if (error || stopping_) return;
    {
      std::lock_guard lock(connect_mutex_);
      connect_queue_.push_back(index);
    }
    launch();
  });
}

void SwarmCore::record_dispatch(const std::string& operation_id, std::size_t index) {
  ++dispatches_;
  std::lock_guard lock(records_mutex_);
  if (record_index_.count(operation_id)) return;  // a redelivery
  record_index_[operation_id] = records_.size();
  records_.push_back({operation_id, index, Clock::now(), std::nullopt});
}

void SwarmCore::record_finished_ack(const std::string& operation_id) {
  ++finished_acks_;
  const auto now = Clock::now();
  {
    std::lock_guard lock(records_mutex_);
    auto it = record_index_.find(operation_id);
    if (it == record_index_.end() || records_[it->second].finished_acked) return;
    records_[it->second].finished_acked = now;
    ++acks_since_clear_;
  }
  records_changed_.notify_all();
}

void SwarmCore::stop() {
  if (stopping_.exchange(true)) return;
  work_.reset();
  io_.stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

AgentSwarm::AgentSwarm(SwarmOptions options) : impl_(std::make_shared<detail::SwarmCore>(std::move(options))) {}

AgentSwarm::~AgentSwarm() { stop(); }

void AgentSwarm::start() { impl_->start(); }

void AgentSwarm::stop() { impl_->stop(); }

std::size_t AgentSwarm::wait_connected(std::size_t want, std::chrono::milliseconds timeout,
                                       const std::function<void(const SwarmCounts&)>& progress) {
  const auto deadline = Clock::now() + timeout;
  auto next_report = Clock::now() + 1s;
  while (impl_->connected_ < want && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    if (progress && Clock::now() >= next_report) {
      progress(counts());
      next_report += 1s;
    }
  }
  return impl_->connected_;
}

bool AgentSwarm::wait_finished_acks(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->records_mutex_);
  return impl_->records_changed_.wait_for(lock, timeout, [&] { return impl_->acks_since_clear_ >= count; });
}

SwarmCounts AgentSwarm::counts() const {
  SwarmCounts counts;
  counts.agents = impl_->slots_.size();
  counts.connected = impl_->connected_;
  counts.ever_connected = impl_->ever_connected_;
  counts.connect_failures = impl_->connect_failures_;
  counts.disconnects = impl_->disconnects_;
  counts.dispatches = impl_->dispatches_;
  counts.finished_acks = impl_->finished_acks_;
  counts.cancels = impl_->cancels_;
  counts.heartbeats = impl_->heartbeats_;
  return counts;
}

std::vector<std::string> AgentSwarm::failure_samples() const {
  std::lock_guard lock(impl_->failures_mutex_);
  return {impl_->failure_samples_.begin(), impl_->failure_samples_.end()};
}

std::vector<DispatchRecord> AgentSwarm::records() const {
  std::lock_guard lock(impl_->records_mutex_);
  return impl_->records_;
}

void AgentSwarm::clear_records() {
  std::lock_guard lock(impl_->records_mutex_);
  impl_->records_.clear();
  impl_->record_index_.clear();
  impl_->acks_since_clear_ = 0;
}

std::uint64_t raise_open_file_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) throw std::runtime_error("getrlimit(RLIMIT_NOFILE) failed");
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) throw std::runtime_error("setrlimit(RLIMIT_NOFILE) failed");
  }
  return limit.rlim_cur;
}

}  // namespace tether::bench
