#pragma once
// One reader's Server-Sent Events stream of a run: the output of all its operations in the order
// the store commits it, an `operation` event when each operation has ended, and an `end` event
// with the run once it is over. It polls the store (on the database pool, one poll in flight at
// a time) and reads the next page only once the previous one is written, so a slow reader holds
// at most one page; what it formats is charged to the output hub's budget until written, and no
// page is read while that budget is spent.
//
// Events:
//   id: <xid>.<operation_id>.<seq>  event: output
//     data: {"operation_id","server_id","stream":"stdout"|"stderr","seq","data"}
//   event: operation   data: {"operation_id","server_id","status","exit_code"}
//   event: end         data: RUN
// Resuming with Last-Event-ID (an output event's id) continues after that chunk. The `operation`
// events carry no id: a resumed stream announces again every operation that has ended (readers
// take them by operation_id).
//
// Ordering: an operation is announced, and the run ended, only after a poll that started once
// the store already showed it ended, so the announcement follows every chunk of it the store
// then served. Chunks are served only once every older transaction has ended (store::runs::
// chunks_after), so a poll that finds committed chunks still held back announces nothing: an
// `operation` or `end` event never overtakes output that is stored. The stream ends (without an
// `end` event) when its key is no longer valid.
#include "controller/http/types.hpp"
#include "controller/store/db_pool.hpp"
#include "controller/store/run_store.hpp"
#include "controller/streams/open_streams.hpp"
#include "controller/streams/output_hub.hpp"
#include "controller/streams/sse_events.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tether::streams {

struct RunStreamServices {
  store::DbPool& db;
  OutputHub& hub;  // its budget bounds what all readers hold
  std::chrono::milliseconds keep_alive_interval = std::chrono::seconds(15);
  std::chrono::milliseconds poll_interval = std::chrono::milliseconds(200);
  int page_chunks = 200;
};

struct RunStreamRequest {
  std::string run_id;
  store::runs::StreamCursor after;  // Last-Event-ID; default: from the beginning
  // The route's view of the run, for the `end` event.
  std::function<boost::json::value(const store::RunRecord&, const store::TargetCounts&)> render_end;
  std::shared_ptr<StreamTicket> ticket;
};

// "<xid>.<operation_id>.<seq>" as a cursor; nullopt when malformed.
std::optional<store::runs::StreamCursor> parse_run_event_id(std::string_view text);
std::string run_event_id(std::uint64_t xid, std::string_view operation_id, std::uint64_t seq);

class RunEventStream : public http::StreamProducer, public std::enable_shared_from_this<RunEventStream> {
 public:
  RunEventStream(RunStreamServices services, RunStreamRequest request);

  void start(std::shared_ptr<http::StreamWriter> writer) override;

 private:
  struct Page {
    std::optional<store::RunRecord> run;
    std::vector<store::RunChunk> chunks;
    bool full = false;
    // Output is committed after the cursor that this poll could not yet serve (an older
    // transaction is still open): not caught up, however ended the operations look.
    bool held_back = false;
    // Read only once the page is not full (the reader has caught up).
    std::optional<std::vector<store::RunOperation>> operations;
    store::TargetCounts counts;
  };

  void poll();
  void poll_later(std::chrono::milliseconds delay);
  void on_page(Page page);
  void on_key_invalid();
  void send(std::string text, std::function<void()> then);
  void finish();
  void stop();

  void append_output(std::string& text, const store::RunChunk& chunk);
  void append_operation(std::string& text, const store::RunOperation& operation);

  RunStreamServices services_;
  RunStreamRequest request_;
  std::shared_ptr<StreamTicket> ticket_;
  std::shared_ptr<http::StreamWriter> writer_;
  std::optional<boost::asio::steady_timer> poll_timer_;
  store::runs::StreamCursor cursor_;
  std::map<std::string, Utf8Streams> text_;  // by operation id
  std::set<std::string> announced_;          // operations whose `operation` event is sent
  // Seen ended by the previous poll, not yet announced: announced after the next poll's chunks.
  std::vector<store::RunOperation> to_announce_;
  bool run_over_seen_ = false;  // the previous poll saw the run and all its operations ended
  std::chrono::steady_clock::time_point last_write_;
  bool writing_ = false;
  bool dropping_ = false;
  bool stopped_ = false;
};

}  // namespace tether::streams
