#pragma once
// The output streams open on this controller, by the key that opened them. Keeps two invariants:
// no key holds more than `per_key` streams and the controller no more than `total` (a stream
// costs a connection, timers and up to one page and one write of output, so their number is what
// bounds that memory); and no stream outlives its key: every `check_interval` the keys of open
// streams are looked up, and the streams of a key that is revoked, expired or gone are ended.
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tether::streams {

// Who opened a stream: an operator API key (tak_) or an automation key (rca_), by id.
struct StreamOwner {
  enum class Kind { operator_key, automation_key };
  Kind kind;
  std::string key_id;
};

class OpenStreams;

// One open stream's place under the caps, from admission until the stream ends (the ticket's
// destruction gives the place back).
class StreamTicket : public std::enable_shared_from_this<StreamTicket> {
 public:
  StreamTicket(std::shared_ptr<OpenStreams> streams, StreamOwner owner);
  ~StreamTicket();
  StreamTicket(const StreamTicket&) = delete;
  StreamTicket& operator=(const StreamTicket&) = delete;

  const StreamOwner& owner() const { return owner_; }
  // What to call (from the checker's thread, at most once) when the key is no longer valid.
  void on_key_invalid(std::function<void()> callback);

 private:
  friend class OpenStreams;
  void key_invalid();

  std::shared_ptr<OpenStreams> streams_;
  const StreamOwner owner_;
  std::mutex mutex_;
  std::function<void()> on_key_invalid_;
  bool invalid_ = false;  // the key went before on_key_invalid was set
};

class OpenStreams : public std::enable_shared_from_this<OpenStreams> {
 public:
  struct Limits {
    std::size_t per_key;
    std::size_t total;
    std::chrono::milliseconds check_interval;
  };
  OpenStreams(boost::asio::io_context& io, store::DbPool& db, Limits limits);

  // A ticket for one more stream of `owner`, or nullptr when the key or the controller is at its cap.
  std::shared_ptr<StreamTicket> admit(const StreamOwner& owner);
  std::size_t open_count() const;
  const Limits& limits() const { return limits_; }

  // The periodic key check, until stop().
  void start();
  void stop();

 private:
  friend class StreamTicket;
  void release(StreamTicket* ticket);
  void schedule_check();
  void check_keys();
  void end_streams_of(const std::vector<std::string>& invalid_operator_keys,
                      const std::vector<std::string>& invalid_automation_keys);

  store::DbPool& db_;
  const Limits limits_;
  boost::asio::steady_timer timer_;
  mutable std::mutex mutex_;
  std::size_t open_ = 0;
  bool stopped_ = false;
  // Key ids are UUIDs, so operator and automation keys never share one.
  std::unordered_map<std::string, std::vector<StreamTicket*>> by_key_;
};

}  // namespace tether::streams
