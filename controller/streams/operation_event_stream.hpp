#pragma once
// One reader's Server-Sent Events stream of an operation's output: first what is stored (page by
// page, from after Last-Event-ID), then what agent links publish live, then an `end` event with
// the operation's final state. Output is never held whole: at most one page or one queue's worth.
//
// Exactly once, in order: the reader subscribes before it reads the store, and links publish a
// chunk only after it is committed. So every chunk is either stored, or queued for this reader,
// or both; the queue holds every chunk from its first sequence number on, and the replay stops
// where the queue begins. A chunk that is neither (past the stored limit and produced before the
// reader came) is reported as a `gap`.
//
// Bounded: what it reads from the store and formats is charged to the hub's budget until written,
// and no page is read while the budget is spent. It ends (without an `end` event) when its key is
// no longer valid, as its ticket says.
#include "controller/dispatch/operation_waiters.hpp"
#include "controller/http/types.hpp"
#include "controller/store/db_pool.hpp"
#include "controller/streams/open_streams.hpp"
#include "controller/streams/output_hub.hpp"
#include "controller/streams/sse_events.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tether::streams {

struct StreamServices {
  store::DbPool& db;
  OutputHub& hub;
  dispatch::OperationWaiters& waiters;
  std::int64_t stored_bytes_per_stream;  // for what a gap event says
  // A reader that holds its agent's connection back longer than this is disconnected (it may
  // resume): the link's reads stop meanwhile, heartbeats and pongs included.
  std::chrono::milliseconds max_hold;
  // How long a quiet stream waits before it sends a `: keep-alive` comment.
  std::chrono::milliseconds keep_alive_interval = std::chrono::seconds(15);
};

struct StreamRequest {
  std::string operation_id;
  std::uint64_t after_seq = 0;  // Last-Event-ID
  // The route's view of the operation, for the `end` event.
  std::function<boost::json::value(const store::OperationRecord&)> render_end;
  // The stream's place under the caps; it tells when the key goes. Held until the stream stops.
  std::shared_ptr<StreamTicket> ticket;
};

class OperationEventStream : public http::StreamProducer,
                             public std::enable_shared_from_this<OperationEventStream> {
 public:
  OperationEventStream(StreamServices services, StreamRequest request);
  ~OperationEventStream() override;

  void start(std::shared_ptr<http::StreamWriter> writer) override;

 private:
  struct Page {
    std::optional<store::OperationRecord> operation;
    std::vector<store::OutputChunk> chunks;
  };
  enum class Phase { replaying, following, concluding };

  void read_page(Phase phase);
  void on_page(Phase phase, Page page);
  void follow();
  void on_ready();
  void on_ended();
  void check_ended();
  void keep_alive();
  void watch_hold();
  void drop_slow_reader();
  void on_key_invalid();
  void let_go(const std::string& reason);
  void retry_later(Phase phase);
  void send(std::string text, std::function<void()> then);
  void stop();

  void append_chunk(std::string& text, const store::OutputChunk& chunk);
  void append_gap(std::string& text, std::uint64_t to_seq);

  StreamServices services_;
  StreamRequest request_;
  std::shared_ptr<http::StreamWriter> writer_;
  std::shared_ptr<OutputSubscription> subscription_;
  std::shared_ptr<StreamTicket> ticket_;
  std::uint64_t waiter_token_ = 0;
  std::optional<boost::asio::steady_timer> keep_alive_timer_;
  std::optional<boost::asio::steady_timer> retry_timer_;
  std::optional<boost::asio::steady_timer> hold_timer_;
  std::uint64_t last_sent_ = 0;
  Utf8Streams text_;
  bool writing_ = false;
  bool waiting_ = false;   // following, with nothing queued: on_ready or on_ended resumes
  bool ended_ = false;     // the operation has ended: once the queue is drained, conclude
  bool dropping_ = false;  // disconnecting a slow reader once the write in progress completes
  bool stopped_ = false;
};

}  // namespace tether::streams
