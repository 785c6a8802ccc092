#include "controller/streams/output_hub.hpp"

#include "controller/http/types.hpp"

#include <algorithm>
#include <utility>

namespace tether::streams {

OutputSubscription::OutputSubscription(OutputHub& hub, std::string operation_id, std::size_t limit_bytes)
    : hub_(hub), operation_id_(std::move(operation_id)), limit_bytes_(limit_bytes) {}

OutputSubscription::~OutputSubscription() {
  hub_.unsubscribe(operation_id_, this);
  // Destroying the holds lets their links read again: a reader that leaves never blocks an agent.
}

std::vector<SharedChunk> OutputSubscription::take(std::size_t max_bytes, std::uint64_t after_seq) {
  std::vector<SharedChunk> out;
  std::vector<std::shared_ptr<ReadHold>> released;
  {
    std::lock_guard lock(mutex_);
    std::size_t taken = 0;
    std::uint64_t next_seq = after_seq + 1;
    while (!queue_.empty()) {
      const auto& chunk = queue_.front();
      const auto cost = chunk_cost(chunk->data.size());
      if (chunk->seq < next_seq) {
        queued_bytes_ -= cost;
        queue_.pop_front();
        continue;
      }
      if (chunk->seq > next_seq || (!out.empty() && taken + cost > max_bytes)) break;
      taken += cost;
      queued_bytes_ -= cost;
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
      ++next_seq;
    }
    if (queued_bytes_ <= limit_bytes_ / 2) released.swap(holds_);
  }
  return out;  // `released` goes out of scope here, outside the lock
}

void OutputSubscription::when_ready(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      ready_ = std::move(callback);
      return;
    }
  }
  callback();
}

std::size_t OutputSubscription::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return queued_bytes_;
}

std::optional<std::chrono::steady_clock::time_point> OutputSubscription::holding_since() const {
  std::lock_guard lock(mutex_);
  if (holds_.empty()) return std::nullopt;
  return holding_since_;
}

std::optional<std::uint64_t> OutputSubscription::first_queued_seq() const {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) return std::nullopt;
  return queue_.front()->seq;
}

void OutputSubscription::push(const std::vector<SharedChunk>& chunks, const HoldMaker& make_hold,
                              std::function<void()>& wake, bool over_budget) {
  std::lock_guard lock(mutex_);
  for (const auto& chunk : chunks) {
    queued_bytes_ += chunk_cost(chunk->data.size());
    queue_.push_back(chunk);
  }
  if (!chunks.empty() && ready_) wake = std::exchange(ready_, nullptr);
  if (queued_bytes_ <= limit_bytes_ && !over_budget) return;
  auto hold = make_hold();
  if (holds_.empty()) holding_since_ = std::chrono::steady_clock::now();
  if (std::find(holds_.begin(), holds_.end(), hold) == holds_.end()) holds_.push_back(std::move(hold));
}

std::shared_ptr<OutputSubscription> OutputHub::subscribe(const std::string& operation_id, std::size_t limit_bytes) {
  auto subscription = std::make_shared<OutputSubscription>(*this, operation_id, limit_bytes);
  std::lock_guard lock(mutex_);
  readers_[operation_id].push_back(subscription.get());
  return subscription;
}

void OutputHub::unsubscribe(const std::string& operation_id, const OutputSubscription* subscription) {
  std::lock_guard lock(mutex_);
  auto it = readers_.find(operation_id);
  if (it == readers_.end()) return;
  std::erase(it->second, subscription);
  if (it->second.empty()) readers_.erase(it);
}

bool OutputHub::has_subscribers(const std::string& operation_id) const {
  std::lock_guard lock(mutex_);
  return readers_.count(operation_id) > 0;
}

void OutputHub::publish(const std::string& operation_id, std::vector<store::OutputChunk> chunks,
                        const std::function<std::shared_ptr<ReadHold>()>& make_hold) {
  if (chunks.empty()) return;
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(mutex_);
    auto it = readers_.find(operation_id);
    if (it == readers_.end()) return;
    std::vector<SharedChunk> shared;
    shared.reserve(chunks.size());
    for (auto& chunk : chunks) {
      // Counted once, while any reader has it queued (or is formatting it).
      const auto cost = chunk_cost(chunk.data.size());
      buffered_bytes_ += cost;
      shared.emplace_back(new store::OutputChunk(std::move(chunk)), [this, cost](const store::OutputChunk* done) {
        buffered_bytes_ -= cost;
        delete done;
      });
    }
    const bool spent = over_budget();
    // One hold for this publish, shared by every reader that is full.
    std::shared_ptr<ReadHold> hold;
    const OutputSubscription::HoldMaker lazy_hold = [&] {
      if (!hold) hold = make_hold();
      return hold;
    };
    for (auto* reader : it->second) {
      std::function<void()> wake;
      reader->push(shared, lazy_hold, wake, spent);
      if (wake) wakes.push_back(std::move(wake));
    }
  }
  for (auto& wake : wakes) wake();
}

void write_charged(OutputHub& hub, http::StreamWriter& writer, std::string text, std::function<void(bool ok)> done) {
  auto charge = hub.charge(text.size());
  writer.write(std::move(text), [charge = std::move(charge), done = std::move(done)](bool ok) mutable {
    charge.reset();
    done(ok);
  });
}

}  // namespace tether::streams
