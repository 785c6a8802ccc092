#include "controller/streams/operation_event_stream.hpp"

#include "controller/store/operation_store.hpp"
#include "controller/streams/stream_timing.hpp"
#include "proto/messages.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace tether::streams {
namespace net = boost::asio;

namespace {

// What one reader may have queued before the agent it follows is held back: a few MiB per
// reader, whatever the output's size.
constexpr std::size_t queue_limit_bytes = 4 * 1024 * 1024;
// Events sent in one write, so that a fast stream is written in large pieces.
constexpr std::size_t write_batch_bytes = 256 * 1024;
// At most 4 × 64 KiB read from the store at once: a reader that stalls keeps one page and its text.
constexpr int page_chunks = 4;
constexpr std::size_t max_chunk_bytes = 64 * 1024;
// What a page may cost until its text is written: the page, and its text as JSON, where a control
// byte takes six (\u0000).
constexpr std::size_t page_reservation_bytes = page_chunks * (chunk_overhead_bytes + 7 * max_chunk_bytes);
// Over the budget, a following stream writes one chunk at a time.
constexpr std::size_t write_batch_over_budget_bytes = 1;

}  // namespace

OperationEventStream::OperationEventStream(StreamServices services, StreamRequest request)
    : services_(services),
      request_(std::move(request)),
      ticket_(std::move(request_.ticket)),
      last_sent_(request_.after_seq) {}

OperationEventStream::~OperationEventStream() {
  if (waiter_token_) services_.waiters.remove(request_.operation_id, waiter_token_);
}

void OperationEventStream::start(std::shared_ptr<http::StreamWriter> writer) {
  writer_ = std::move(writer);
  keep_alive_timer_.emplace(writer_->executor());
  retry_timer_.emplace(writer_->executor());
  hold_timer_.emplace(writer_->executor());
  // Both before the first read of the store (see the header).
  subscription_ = services_.hub.subscribe(request_.operation_id, queue_limit_bytes);
  waiter_token_ = services_.waiters.add(
      request_.operation_id, [weak = weak_from_this(), executor = writer_->executor()](const store::OperationRecord&) {
        net::post(executor, [weak] {
          if (auto self = weak.lock()) self->on_ended();
        });
      },
      dispatch::OperationWaiters::Interest::end);  // the stored output is read page by page instead
  if (ticket_) {
    ticket_->on_key_invalid([weak = weak_from_this(), executor = writer_->executor()] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->on_key_invalid();
      });
    });
  }
  keep_alive();
  watch_hold();
  send(comment_event("stream of operation " + request_.operation_id),
       [self = shared_from_this()] { self->read_page(Phase::replaying); });
}

void OperationEventStream::read_page(Phase phase) {
  if (stopped_ || dropping_) return;
  if (services_.hub.over_budget()) {
    // Readers' output already fills the budget: read no more of the store until it has room.
    retry_timer_->expires_after(budget_wait);
    retry_timer_->async_wait([self = shared_from_this(), phase](boost::system::error_code ec) {
      if (!ec) self->read_page(phase);
    });
    return;
  }
  auto self = shared_from_this();
  auto executor = writer_->executor();
  // Charged before the read, and until the page's text is charged instead (in send), so that
  // readers starting together cannot all read past the budget.
  auto reserved = services_.hub.charge(page_reservation_bytes);
  services_.db.submit(
      [self, executor, phase, after = last_sent_, reserved](pqxx::connection& connection) {
        pqxx::read_transaction txn(connection);
        Page page;
        page.operation = store::operations::find(txn, self->request_.operation_id, false);
        page.chunks = store::operations::output_after(txn, self->request_.operation_id, after, page_chunks);
        net::post(executor, [self, phase, page = std::move(page), reserved]() mutable {
          self->on_page(phase, std::move(page));
        });
      },
      [self, executor, phase](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("event=output_stream_read_failed operation_id={} error=\"{}\" retry_ms={}",
                       self->request_.operation_id, e.what(), db_retry_delay.count() * 1000);
        }
        net::post(executor, [self, phase] { self->retry_later(phase); });
      });
}

void OperationEventStream::retry_later(Phase phase) {
  if (stopped_) return;
  retry_timer_->expires_after(db_retry_delay);
  retry_timer_->async_wait([self = shared_from_this(), phase](boost::system::error_code ec) {
    if (!ec && !self->stopped_) self->read_page(phase);
  });
}

void OperationEventStream::on_page(Phase phase, Page page) {
  if (stopped_ || dropping_) return;
  if (!page.operation) {  // deleted meanwhile: nothing more will come
    writer_->finish();
    return stop();
  }
  const bool full_page = page.chunks.size() == static_cast<std::size_t>(page_chunks);
  std::string text;
  if (phase == Phase::replaying) {
    // From the queue's first chunk on, the queue has everything: the replay stops there.
    const auto queued_from = subscription_->first_queued_seq();
    bool reached_queue = false;
    for (const auto& chunk : page.chunks) {
      if (queued_from && chunk.seq >= *queued_from) {
        reached_queue = true;
        break;
      }
      if (chunk.seq > last_sent_) append_chunk(text, chunk);
    }
    if (proto::is_finished_status(page.operation->status)) ended_ = true;
    if (full_page && !reached_queue) {
      return send(std::move(text), [self = shared_from_this()] { self->read_page(Phase::replaying); });
    }
    // Everything before the queue's first chunk was committed before it was published: what the
    // store does not have of it, nobody has.
    if (queued_from && *queued_from > last_sent_ + 1) append_gap(text, *queued_from - 1);
    return send(std::move(text), [self = shared_from_this()] { self->follow(); });
  }
  // Concluding: the operation has ended and nothing more is queued; what is stored after the
  // last chunk sent is all there is.
  for (const auto& chunk : page.chunks) {
    if (chunk.seq > last_sent_) append_chunk(text, chunk);
  }
  if (full_page) return send(std::move(text), [self = shared_from_this()] { self->read_page(Phase::concluding); });
  if (last_sent_ < page.operation->output_seq) append_gap(text, page.operation->output_seq);
  text += end_event(request_.render_end(*page.operation));
  send(std::move(text), [self = shared_from_this()] {
    self->writer_->finish();
    self->stop();
  });
}

void OperationEventStream::follow() {
  if (stopped_ || dropping_) return;
  // The queued chunks are already counted; their text is not, and many stalled readers would
  // each hold one write of it.
  auto chunks = subscription_->take(
      services_.hub.over_budget() ? write_batch_over_budget_bytes : write_batch_bytes, last_sent_);
  if (chunks.empty()) {
    // A hole before the queued chunks (two links of a reconnecting agent publishing out of
    // order, or a retried batch): the store has what is missing, or says it is a gap.
    if (subscription_->first_queued_seq()) return read_page(Phase::replaying);
    if (ended_) return read_page(Phase::concluding);
    waiting_ = true;
    subscription_->when_ready([weak = weak_from_this(), executor = writer_->executor()] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->on_ready();
      });
    });
    return;
  }
  std::string text;
  std::size_t bytes = 0;
  for (const auto& chunk : chunks) bytes += chunk->data.size();
  text.reserve(bytes + bytes / 16 + chunks.size() * 128);  // JSON escapes a newline in two bytes
  for (const auto& chunk : chunks) {
    if (chunk->seq > last_sent_) append_chunk(text, *chunk);
  }
  send(std::move(text), [self = shared_from_this()] { self->follow(); });
}

void OperationEventStream::on_ready() {
  if (!waiting_ || stopped_ || dropping_) return;
  waiting_ = false;
  follow();
}

void OperationEventStream::on_ended() {
  ended_ = true;
  on_ready();
}

void OperationEventStream::check_ended() {
  auto self = shared_from_this();
  auto executor = writer_->executor();
  services_.db.submit(
      [self, executor](pqxx::connection& connection) {
        pqxx::read_transaction txn(connection);
        const auto progress = store::operations::progress_of(txn, {self->request_.operation_id});
        if (!progress.empty() && proto::is_finished_status(progress[0].status)) {
          net::post(executor, [self] { self->on_ended(); });
        }
      },
      [](std::exception_ptr) {
        // The next keep-alive asks again.
      });
}

// A comment every so often keeps proxies from closing a quiet stream and shows a reader that is
// gone. It also asks the store whether the operation ended, in case its end was not seen here.
void OperationEventStream::keep_alive() {
  keep_alive_timer_->expires_after(services_.keep_alive_interval);
  keep_alive_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->stopped_ || self->dropping_) return;
    if (self->waiting_) {
      self->waiting_ = false;
      self->check_ended();
      self->send(comment_event("keep-alive"), [self] { self->follow(); });
    }
    self->keep_alive();
  });
}

void OperationEventStream::send(std::string text, std::function<void()> then) {
  // An empty HTTP chunk would end the body: with nothing to say, go straight on.
  if (text.empty()) return then();
  writing_ = true;
  write_charged(services_.hub, *writer_, std::move(text), [self = shared_from_this(), then = std::move(then)](bool ok) {
    self->writing_ = false;
    if (!ok) {
      spdlog::info("event=output_stream_closed operation_id={} reason=\"the reader went away or took nothing for "
                   "too long\"",
                   self->request_.operation_id);
      return self->stop();
    }
    if (self->dropping_) {
      self->writer_->finish();
      return self->stop();
    }
    if (!self->stopped_) then();
  });
}

// Checks once a second whether this reader has held its agent back for too long.
void OperationEventStream::watch_hold() {
  hold_timer_->expires_after(std::chrono::seconds(1));
  hold_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->stopped_ || self->dropping_) return;
    const auto since = self->subscription_->holding_since();
    if (since && std::chrono::steady_clock::now() - *since > self->services_.max_hold) return self->drop_slow_reader();
    self->watch_hold();
  });
}

void OperationEventStream::drop_slow_reader() {
  let_go(fmt::format("the reader held the agent back for more than {} ms", services_.max_hold.count()));
}

// The key that opened the stream was revoked, expired or deleted: what it may read ends here.
void OperationEventStream::on_key_invalid() {
  if (stopped_ || dropping_) return;
  let_go("the stream's key is no longer valid (revoked, expired or deleted)");
}

// The stream ends without an `end` event; the reader may come back with Last-Event-ID. Its queue
// goes at once, so the agent's connection is read again.
void OperationEventStream::let_go(const std::string& reason) {
  spdlog::info("event=output_stream_dropped operation_id={} reason=\"{}\"", request_.operation_id, reason);
  dropping_ = true;
  waiting_ = false;
  subscription_.reset();
  if (writing_) return;  // the write's completion finishes the stream
  writer_->finish();
  stop();
}

void OperationEventStream::stop() {
  if (stopped_) return;
  stopped_ = true;
  keep_alive_timer_->cancel();
  retry_timer_->cancel();
  hold_timer_->cancel();
  // Releasing the queue also releases any agent link it was holding back.
  subscription_.reset();
  services_.waiters.remove(request_.operation_id, waiter_token_);
  waiter_token_ = 0;
  ticket_.reset();  // its place under the caps is free from now on
  writer_.reset();
}

void OperationEventStream::append_chunk(std::string& text, const store::OutputChunk& chunk) {
  if (chunk.seq > last_sent_ + 1) append_gap(text, chunk.seq - 1);
  append_output_event(text, chunk.seq, chunk.stream, text_.text_of(chunk.stream, chunk.data));
  last_sent_ = chunk.seq;
}

void OperationEventStream::append_gap(std::string& text, std::uint64_t to_seq) {
  const auto from_seq = last_sent_ + 1;
  text += gap_event(from_seq, to_seq,
                    fmt::format("output chunks {}-{} are not stored (each stream keeps its first {} bytes) and were "
                                "produced before this reader connected",
                                from_seq, to_seq, services_.stored_bytes_per_stream));
  last_sent_ = to_seq;
}

}  // namespace tether::streams
