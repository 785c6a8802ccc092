#include "controller/streams/open_streams.hpp"

#include "controller/store/key_store.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tether::streams {
namespace net = boost::asio;

StreamTicket::StreamTicket(std::shared_ptr<OpenStreams> streams, StreamOwner owner)
    : streams_(std::move(streams)), owner_(std::move(owner)) {}

StreamTicket::~StreamTicket() { streams_->release(this); }

void StreamTicket::on_key_invalid(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!invalid_) {
      on_key_invalid_ = std::move(callback);
      return;
    }
  }
  callback();
}

void StreamTicket::key_invalid() {
  std::function<void()> callback;
  {
    std::lock_guard lock(mutex_);
    if (invalid_) return;
    invalid_ = true;
    callback = std::exchange(on_key_invalid_, nullptr);
  }
  if (callback) callback();
}

OpenStreams::OpenStreams(net::io_context& io, store::DbPool& db, Limits limits)
    : db_(db), limits_(limits), timer_(io) {}

std::shared_ptr<StreamTicket> OpenStreams::admit(const StreamOwner& owner) {
  auto ticket = std::make_shared<StreamTicket>(shared_from_this(), owner);
  std::lock_guard lock(mutex_);  // released before a refused ticket is destroyed (and releases nothing)
  auto& tickets = by_key_[owner.key_id];
  if (open_ >= limits_.total || tickets.size() >= limits_.per_key) {
    if (tickets.empty()) by_key_.erase(owner.key_id);
    return nullptr;
  }
  ++open_;
  tickets.push_back(ticket.get());
  return ticket;
}

void OpenStreams::release(StreamTicket* ticket) {
  std::lock_guard lock(mutex_);
  auto it = by_key_.find(ticket->owner().key_id);
  if (it == by_key_.end()) return;
  auto& tickets = it->second;
  auto found = std::find(tickets.begin(), tickets.end(), ticket);
  if (found == tickets.end()) return;
  tickets.erase(found);
  --open_;
  if (tickets.empty()) by_key_.erase(it);
}

std::size_t OpenStreams::open_count() const {
  std::lock_guard lock(mutex_);
  return open_;
}

void OpenStreams::start() { schedule_check(); }

void OpenStreams::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  timer_.cancel();
}

void OpenStreams::schedule_check() {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  timer_.expires_after(limits_.check_interval);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->check_keys();
  });
}

void OpenStreams::check_keys() {
  std::vector<std::string> operator_keys;
  std::vector<std::string> automation_keys;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key_id, tickets] : by_key_) {
      if (tickets.empty()) continue;
      (tickets.front()->owner().kind == StreamOwner::Kind::operator_key ? operator_keys : automation_keys).push_back(key_id);
    }
  }
  if (operator_keys.empty() && automation_keys.empty()) return schedule_check();
  auto self = shared_from_this();
  db_.submit(
      [self, operator_keys = std::move(operator_keys), automation_keys = std::move(automation_keys)](
          pqxx::connection& connection) {
        pqxx::read_transaction txn(connection);
        const auto invalid = store::keys::invalid_keys(txn, operator_keys, automation_keys);
        self->end_streams_of(invalid.operator_keys, invalid.automation_keys);
        self->schedule_check();
      },
      [self](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("event=stream_key_check_failed error=\"{}\"", e.what());
        }
        self->schedule_check();  // streams keep going meanwhile; the next check asks again
      });
}

void OpenStreams::end_streams_of(const std::vector<std::string>& invalid_operator_keys,
                                 const std::vector<std::string>& invalid_automation_keys) {
  // Tickets are destroyed by their streams on other threads: keep each alive while it is told.
  std::vector<std::shared_ptr<StreamTicket>> told;
  {
    std::lock_guard lock(mutex_);
    for (const auto* keys : {&invalid_operator_keys, &invalid_automation_keys}) {
      for (const auto& key_id : *keys) {
        auto it = by_key_.find(key_id);
        if (it == by_key_.end()) continue;
        for (auto* ticket : it->second) {
          if (auto alive = ticket->weak_from_this().lock()) told.push_back(std::move(alive));
        }
      }
    }
  }
  for (const auto& ticket : told) {
    spdlog::info("event=output_stream_key_invalid key_id={} detail=\"the key was revoked, expired or deleted\"",
                 ticket->owner().key_id);
    ticket->key_invalid();
  }
}

}  // namespace tether::streams
