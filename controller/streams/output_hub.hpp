#pragma once
// Live output for readers of an operation's event stream. Agent links publish each batch of
// chunks once it is committed, so a reader that replays what is stored and then follows what is
// published misses nothing. Each reader's queue is bounded: when one is full, the publishing link
// is handed a hold and stops reading from its agent until every reader holding it has room again,
// so a slow reader slows the command instead of growing the controller's memory.
#include "controller/store/records.hpp"

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

namespace tether::streams {

using SharedChunk = std::shared_ptr<const store::OutputChunk>;

// What a queued chunk costs beyond its bytes (the chunk, its string, its queue entry), so that
// output written a few bytes at a time is bounded by memory, not by payload alone.
inline constexpr std::size_t chunk_overhead_bytes = 256;
inline std::size_t chunk_cost(std::size_t payload_bytes) { return payload_bytes + chunk_overhead_bytes; }

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
  void push(const std::vector<SharedChunk>& chunks, const HoldMaker& make_hold, std::function<void()>& wake);

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

class OutputHub {
 public:
  std::shared_ptr<OutputSubscription> subscribe(const std::string& operation_id, std::size_t limit_bytes);

  bool has_subscribers(const std::string& operation_id) const;
  // Queues the chunks for every reader of the operation. A reader whose queue is now full keeps a
  // hold made by `make_hold` (called only then, on the publishing thread) until it has room.
  void publish(const std::string& operation_id, std::vector<store::OutputChunk> chunks,
               const std::function<std::shared_ptr<ReadHold>()>& make_hold);

 private:
  friend class OutputSubscription;
  void unsubscribe(const std::string& operation_id, const OutputSubscription* subscription);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<OutputSubscription*>> readers_;
};

}  // namespace tether::streams
