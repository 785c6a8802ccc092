#pragma once
// How many HTTP connections the controller holds at once: a total cap and a cap per client
// address, so that no client (nor a crowd of them) can take every file descriptor or the memory
// that buffers requests. Invariant: every accepted connection holds a ConnectionSlot from accept
// until it closes or becomes an agent WebSocket, and the counts are exactly the slots alive.
// Agent WebSockets are not counted: they are authenticated and bounded by the registered servers.
// The address is the TCP peer's (X-Forwarded-For is not read yet at accept): peers the caller
// marks as shared (trusted reverse proxies, whose connections carry many clients) count only
// toward the total.
#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

namespace tether::http {

struct ConnectionLimits {
  std::size_t total = 4096;
  std::size_t per_address = 256;
  std::function<bool(const boost::asio::ip::address&)> shared_address;  // may be empty
};

class ConnectionCounter;

// One connection's place in the counts, given back when the slot is destroyed.
class ConnectionSlot {
 public:
  ConnectionSlot(ConnectionSlot&& other) noexcept = default;
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot();

 private:
  friend class ConnectionCounter;
  ConnectionSlot(std::shared_ptr<ConnectionCounter> counter, std::optional<boost::asio::ip::address> address)
      : counter_(std::move(counter)), address_(std::move(address)) {}
  void release();

  std::shared_ptr<ConnectionCounter> counter_;
  std::optional<boost::asio::ip::address> address_;  // unset for a shared address
};

class ConnectionCounter : public std::enable_shared_from_this<ConnectionCounter> {
 public:
  explicit ConnectionCounter(ConnectionLimits limits) : limits_(std::move(limits)) {}

  // Which cap refused a connection.
  enum class Refusal { total, per_address };
  struct Admission {
    std::optional<ConnectionSlot> slot;  // set when admitted
    Refusal refusal = Refusal::total;    // otherwise, why not
  };
  // Thread-safe: slots are released from whichever thread ends a connection.
  Admission admit(const boost::asio::ip::address& address);
  std::size_t total() const;

 private:
  friend class ConnectionSlot;
  void release(const std::optional<boost::asio::ip::address>& address);

  const ConnectionLimits limits_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::map<boost::asio::ip::address, std::size_t> per_address_;  // only addresses with connections
};

std::string_view to_string(ConnectionCounter::Refusal refusal);

}  // namespace tether::http
