#include "controller/http/connection_limits.hpp"

namespace tether::http {

ConnectionSlot& ConnectionSlot::operator=(ConnectionSlot&& other) noexcept {
  if (this != &other) {
    release();
    counter_ = std::move(other.counter_);
    address_ = std::move(other.address_);
  }
  return *this;
}

ConnectionSlot::~ConnectionSlot() { release(); }

void ConnectionSlot::release() {
  if (!counter_) return;  // moved from
  counter_->release(address_);
  counter_.reset();
}

ConnectionCounter::Admission ConnectionCounter::admit(const boost::asio::ip::address& address) {
  // One listening socket gives one form per client (an IPv6 socket shows IPv4 clients as
  // ::ffff:a.b.c.d, always), so the peer address is counted as it is.
  const bool shared = limits_.shared_address && limits_.shared_address(address);
  std::lock_guard lock(mutex_);
  if (total_ >= limits_.total) return {std::nullopt, Refusal::total};
  if (!shared) {
    auto it = per_address_.find(address);
    if (it != per_address_.end() && it->second >= limits_.per_address) return {std::nullopt, Refusal::per_address};
    if (it == per_address_.end()) it = per_address_.emplace(address, 0).first;
    ++it->second;
  }
  ++total_;
  return {ConnectionSlot(shared_from_this(), shared ? std::nullopt : std::optional(address)), Refusal::total};
}

std::size_t ConnectionCounter::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

void ConnectionCounter::release(const std::optional<boost::asio::ip::address>& address) {
  std::lock_guard lock(mutex_);
  --total_;
  if (!address) return;
  auto it = per_address_.find(*address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

std::string_view to_string(ConnectionCounter::Refusal refusal) {
  return refusal == ConnectionCounter::Refusal::total ? "total_limit" : "per_address_limit";
}

}  // namespace tether::http
