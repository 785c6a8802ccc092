#pragma once
// Live output for readers of an operation's event stream. Agent links publish each batch of
// chunks once it is committed, so a reader that replays what is stored and then follows what is
// published misses nothing. Each reader's queue is bounded: when one is full, the publishing link
// is handed a hold and stops reading from its agent until every reader holding it has room again,
// so a slow reader slows the command instead of growing the controller's memory.
//
// All readers' buffered output also counts against one budget: each queued chunk once, however
// many readers queue it (they share it), plus what streams have read from the store or formatted
// and not yet written (charges). Over the budget, every reader given chunks holds its link as if
// its queue were full, and streams read no more of the store until there is room: many slow
// readers cost no more memory than the budget, instead of a queue and a write each.
#include "controller/store/records.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tether::http {
class StreamWriter;
}

namespace tether::streams {

using SharedChunk = std::shared_ptr<const store::OutputChunk>;

// What a queued chunk costs beyond its bytes (the chunk, its string, its queue entry), so that
// output written a few bytes at a time is bounded by memory, not by payload alone.
inline constexpr std::size_t chunk_overhead_bytes = 256;
inline std::size_t chunk_cost(std::size_t payload_bytes) { return payload_bytes + chunk_overhead_bytes; }

inline constexpr std::size_t default_buffer_budget_bytes = 64 * 1024 * 1024;

// Owned by a paused agent link's readers; when the last owner lets go, the link reads again.
class ReadHold {
 public:
  explicit ReadHold(std::function<void()> on_release) : on_release_(std::move(on_release)) {}
  ~ReadHold() { on_release_(); }
  ReadHold(const ReadHold&) = delete;
  ReadHold& operator=(const ReadHold&) = delete;

 private:
  std::function<void()> on_release_;
};

class OutputHub;

// One reader's queue of chunks published after it subscribed. The reader side (take,
// when_ready) belongs to one consumer; the hub pushes from agent links' strands.
class OutputSubscription {
 public:
  OutputSubscription(OutputHub& hub, std::string operation_id, std::size_t limit_bytes);
  ~OutputSubscription();
  OutputSubscription(const OutputSubscription&) = delete;
  OutputSubscription& operator=(const OutputSubscription&) = delete;

  // The queued chunks that continue the sequence after `after_seq`, oldest first, up to about
  // `max_bytes` (at least one when the next is queued). Chunks at or below `after_seq` are
  // dropped as already seen; a chunk beyond the next expected one stays queued (first_queued_seq
  // then shows the hole, which the store may fill). Releases the holds of paused links once the
  // queue is down to half its limit.
  std::vector<SharedChunk> take(std::size_t max_bytes, std::uint64_t after_seq);
  // Calls `callback` once, when a chunk is queued (at once, on this thread, if one already is).
  void when_ready(std::function<void()> callback);
  std::size_t queued_bytes() const;
  // The sequence number of the oldest queued chunk: everything from there on is in the queue.
  std::optional<std::uint64_t> first_queued_seq() const;
  // Since when this reader has been holding an agent link back, if it is.
  std::optional<std::chrono::steady_clock::time_point> holding_since() const;

 private:
  friend class OutputHub;
  using HoldMaker = std::function<std::shared_ptr<ReadHold>()>;
  // Queues the chunks; when the queue is then over its limit it keeps a hold (from `make_hold`)
  // until it has room again. `wake` receives the reader's ready callback, to be called once no
  // lock is held.
  // `over_budget`: the hub's budget is spent, so the reader holds the link whatever its queue.
  void push(const std::vector<SharedChunk>& chunks, const HoldMaker& make_hold, std::function<void()>& wake,
            bool over_budget);

  OutputHub& hub_;
  const std::string operation_id_;
  const std::size_t limit_bytes_;
  mutable std::mutex mutex_;
  std::deque<SharedChunk> queue_;
  std::size_t queued_bytes_ = 0;
  std::function<void()> ready_;
  std::vector<std::shared_ptr<ReadHold>> holds_;
  std::chrono::steady_clock::time_point holding_since_;  // meaningful while holds_ is not empty
};

// Bytes counted against an OutputHub's budget until the charge is destroyed.
class BufferCharge {
 public:
  BufferCharge(std::atomic<std::size_t>& counter, std::size_t bytes) : counter_(counter), bytes_(bytes) {
    counter_ += bytes_;
  }
  ~BufferCharge() { counter_ -= bytes_; }
  BufferCharge(const BufferCharge&) = delete;
  BufferCharge& operator=(const BufferCharge&) = delete;

 private:
  std::atomic<std::size_t>& counter_;
  const std::size_t bytes_;
};

class OutputHub {
 public:
  explicit OutputHub(std::size_t budget_bytes = default_buffer_budget_bytes) : budget_bytes_(budget_bytes) {}
  // Set once at startup, before any reader comes.
  void set_budget(std::size_t bytes) { budget_bytes_ = bytes; }
  std::size_t budget() const { return budget_bytes_; }
  // What readers' buffered output costs now: queued chunks (each once) and charges.
  std::size_t buffered_bytes() const { return buffered_bytes_; }
  bool over_budget() const { return buffered_bytes_ > budget_bytes_; }
  // Counts `bytes` (output read from the store or formatted for a reader) until the charge goes.
  std::shared_ptr<BufferCharge> charge(std::size_t bytes) {
    return std::make_shared<BufferCharge>(buffered_bytes_, bytes);
  }

  std::shared_ptr<OutputSubscription> subscribe(const std::string& operation_id, std::size_t limit_bytes);

  bool has_subscribers(const std::string& operation_id) const;
  // Queues the chunks for every reader of the operation. A reader whose queue is now full keeps a
  // hold made by `make_hold` (called only then, on the publishing thread) until it has room.
  void publish(const std::string& operation_id, std::vector<store::OutputChunk> chunks,
               const std::function<std::shared_ptr<ReadHold>()>& make_hold);

 private:
  friend class OutputSubscription;
  void unsubscribe(const std::string& operation_id, const OutputSubscription* subscription);

  std::atomic<std::size_t> budget_bytes_;
  std::atomic<std::size_t> buffered_bytes_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<OutputSubscription*>> readers_;
};

// Writes one piece of a reader's body, counted against the hub's budget until it is written: a
// reader that does not read keeps it (up to the stall timeout), so formatted text stays bounded
// like queued chunks. `done(ok)` as StreamWriter::write.
void write_charged(OutputHub& hub, http::StreamWriter& writer, std::string text, std::function<void(bool ok)> done);

}  // namespace tether::streams
