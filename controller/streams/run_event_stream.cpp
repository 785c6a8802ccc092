#include "controller/streams/run_event_stream.hpp"

#include "controller/streams/sse_events.hpp"
#include "controller/streams/stream_timing.hpp"
#include "proto/messages.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

namespace tether::streams {
namespace net = boost::asio;

namespace {

bool run_status_ended(std::string_view status) {
  return status == "completed" || status == "failed" || status == "canceled";
}

// A target's latest operation has ended, or the target ended without one.
bool operation_ended(const store::RunOperation& operation) {
  if (!operation.operation_id) return operation.status != "pending";
  return proto::is_finished_status(operation.status);
}

void append_json_string(std::string& out, std::string_view text) {
  boost::json::serializer serializer;
  serializer.reset(boost::json::string_view(text.data(), text.size()));
  char buffer[16 * 1024];
  while (!serializer.done()) out.append(serializer.read(buffer));
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<store::runs::StreamCursor> parse_run_event_id(std::string_view text) {
  const auto first = text.find('.');
  const auto last = text.rfind('.');
  if (first == std::string_view::npos || first == last) return std::nullopt;
  store::runs::StreamCursor cursor;
  if (!parse_number(text.substr(0, first), cursor.xid)) return std::nullopt;
  if (!parse_number(text.substr(last + 1), cursor.seq)) return std::nullopt;
  const auto operation_id = text.substr(first + 1, last - first - 1);
  // Operation ids are UUIDs: hex digits and dashes.
  if (operation_id.empty() || operation_id.size() > 36) return std::nullopt;
  for (char c : operation_id) {
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '-')) return std::nullopt;
  }
  cursor.operation_id = std::string(operation_id);
  return cursor;
}

std::string run_event_id(std::uint64_t xid, std::string_view operation_id, std::uint64_t seq) {
  return fmt::format("{}.{}.{}", xid, operation_id, seq);
}

RunEventStream::RunEventStream(RunStreamServices services, RunStreamRequest request)
    : services_(services),
      request_(std::move(request)),
      ticket_(std::move(request_.ticket)),
      cursor_(request_.after) {}

void RunEventStream::start(std::shared_ptr<http::StreamWriter> writer) {
  writer_ = std::move(writer);
  poll_timer_.emplace(writer_->executor());
  if (ticket_) {
    ticket_->on_key_invalid([weak = weak_from_this(), executor = writer_->executor()] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->on_key_invalid();
      });
    });
  }
  send(comment_event("stream of run " + request_.run_id), [self = shared_from_this()] { self->poll(); });
}

void RunEventStream::poll_later(std::chrono::milliseconds delay) {
  if (stopped_ || dropping_) return;
  poll_timer_->expires_after(delay);
  poll_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->poll();
  });
}

void RunEventStream::poll() {
  if (stopped_ || dropping_) return;
  if (services_.hub.over_budget()) return poll_later(budget_wait);
  auto self = shared_from_this();
  auto executor = writer_->executor();
  services_.db.submit(
      [self, executor, after = cursor_](pqxx::connection& connection) {
        pqxx::read_transaction txn(connection);
        Page page;
        const auto& run_id = self->request_.run_id;
        // Chunks first, then the run and its operations: what those show ended, the next poll's
        // chunks cover.
        page.chunks = store::runs::chunks_after(txn, run_id, after, self->services_.page_chunks);
        page.full = page.chunks.size() >= static_cast<std::size_t>(self->services_.page_chunks);
        if (!page.full) {
          const auto& last = page.chunks.empty() ? after
                                                 : store::runs::StreamCursor{page.chunks.back().xid,
                                                                             page.chunks.back().operation_id,
                                                                             page.chunks.back().seq};
          page.held_back = store::runs::chunks_held_back(txn, run_id, last);
        }
        page.run = store::runs::find(txn, run_id);
        if (page.run && !page.full) {
          page.operations = store::runs::operations_of(txn, run_id);
          if (run_status_ended(page.run->status)) page.counts = store::runs::latest_counts(txn, run_id);
        }
        net::post(executor, [self, page = std::move(page)]() mutable { self->on_page(std::move(page)); });
      },
      [self, executor](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("event=run_stream_read_failed run_id={} error=\"{}\" retry_ms={}", self->request_.run_id,
                       e.what(), std::chrono::milliseconds(db_retry_delay).count());
        }
        net::post(executor, [self] { self->poll_later(db_retry_delay); });
      });
}

void RunEventStream::on_page(Page page) {
  if (stopped_ || dropping_) return;
  if (!page.run) {  // gone: nothing more will come
    return finish();
  }
  std::string text;
  for (const auto& chunk : page.chunks) append_output(text, chunk);
  if (page.full) {
    // More is stored: the next page as soon as this one is written.
    return send(std::move(text), [self = shared_from_this()] { self->poll(); });
  }
  if (page.held_back) {
    // More is stored but not servable yet: look again soon, announcing nothing meanwhile.
    return send(std::move(text), [self = shared_from_this()] { self->poll_later(self->services_.poll_interval); });
  }
  // Caught up: announce what the previous poll saw ended (its output is all above), then note
  // what this poll sees ended, for the next one.
  for (const auto& operation : to_announce_) append_operation(text, operation);
  to_announce_.clear();
  bool all_ended = true;
  for (const auto& operation : *page.operations) {
    if (!operation_ended(operation)) {
      all_ended = false;
      continue;
    }
    if (operation.operation_id && !announced_.contains(*operation.operation_id)) {
      to_announce_.push_back(operation);
    }
  }
  const bool run_over = run_status_ended(page.run->status) && all_ended;
  if (run_over_seen_ && page.chunks.empty() && to_announce_.empty()) {
    text += end_event(request_.render_end(*page.run, page.counts));
    return send(std::move(text), [self = shared_from_this()] { self->finish(); });
  }
  run_over_seen_ = run_over;
  // A quiet stream says something now and then: proxies keep it open, and a reader that is gone
  // is found at the write.
  if (text.empty() && std::chrono::steady_clock::now() - last_write_ >= services_.keep_alive_interval) {
    text = comment_event("keep-alive");
  }
  // Once the run is over, the next poll ends the stream: no need to wait.
  const auto delay = run_over || !to_announce_.empty() ? std::chrono::milliseconds(0) : services_.poll_interval;
  send(std::move(text), [self = shared_from_this(), delay] { self->poll_later(delay); });
}

void RunEventStream::append_output(std::string& text, const store::RunChunk& chunk) {
  const auto id = run_event_id(chunk.xid, chunk.operation_id, chunk.seq);
  fmt::format_to(std::back_inserter(text), "id: {}\nevent: output\ndata: {{\"operation_id\":", id);
  append_json_string(text, chunk.operation_id);
  text += ",\"server_id\":";
  append_json_string(text, chunk.server_id);
  fmt::format_to(std::back_inserter(text), ",\"stream\":\"{}\",\"seq\":{},\"data\":", stream_name(chunk.stream),
                 chunk.seq);
  append_json_string(text, text_[chunk.operation_id].text_of(chunk.stream, chunk.data));
  text += "}\n\n";
  cursor_ = store::runs::StreamCursor{chunk.xid, chunk.operation_id, chunk.seq};
}

void RunEventStream::append_operation(std::string& text, const store::RunOperation& operation) {
  if (!operation.operation_id || !announced_.insert(*operation.operation_id).second) return;
  const boost::json::object data{
      {"operation_id", *operation.operation_id},
      {"server_id", operation.server_id},
      {"status", operation.status},
      {"exit_code", operation.exit_code ? boost::json::value(*operation.exit_code) : boost::json::value(nullptr)}};
  text += fmt::format("event: operation\ndata: {}\n\n", boost::json::serialize(data));
  // Its text state is no longer needed: the operation writes nothing more.
  text_.erase(*operation.operation_id);
}

void RunEventStream::send(std::string text, std::function<void()> then) {
  // An empty HTTP chunk would end the body: with nothing to say, go straight on.
  if (text.empty()) return then();
  writing_ = true;
  write_charged(services_.hub, *writer_, std::move(text), [self = shared_from_this(), then = std::move(then)](bool ok) {
    self->writing_ = false;
    self->last_write_ = std::chrono::steady_clock::now();
    if (!ok) {
      spdlog::info("event=run_stream_closed run_id={} reason=\"the reader went away or took nothing for too long\"",
                   self->request_.run_id);
      return self->stop();
    }
    if (self->dropping_) return self->finish();
    if (!self->stopped_) then();
  });
}

// The key that opened the stream was revoked, expired or deleted: what it may read ends here,
// without an `end` event (the reader may come back with Last-Event-ID and another key).
void RunEventStream::on_key_invalid() {
  if (stopped_ || dropping_) return;
  spdlog::info("event=run_stream_dropped run_id={} reason=\"the stream's key is no longer valid\"", request_.run_id);
  dropping_ = true;
  poll_timer_->cancel();
  if (!writing_) finish();  // else the write's completion finishes it
}

void RunEventStream::finish() {
  if (stopped_) return;
  writer_->finish();
  stop();
}

void RunEventStream::stop() {
  if (stopped_) return;
  stopped_ = true;
  poll_timer_->cancel();
  ticket_.reset();  // its place under the caps is free from now on
  writer_.reset();
  text_.clear();
}

}  // namespace tether::streams
