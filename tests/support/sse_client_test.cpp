// The SSE test client against a real socket: a small Beast server on 127.0.0.1 answers its GET
// with canned event-stream bytes, chunk by chunk, pausing between chunks so that each arrives in
// a read of its own.
#include "tests/support/sse_client.hpp"
#include "tests/support/wait.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

using namespace tether::testing;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct CannedChunk {
  std::string bytes;
  std::chrono::milliseconds pause_before{20};
};

struct CannedAnswer {
  unsigned status = 200;                // 0: read the request and never answer
  std::string error_body;               // the JSON body of a non-200 answer
  std::vector<CannedChunk> chunks;      // the event stream, one HTTP chunk each
  bool last_chunk = true;               // false: close without ending the chunked body
  bool hold_open = false;               // after the chunks, wait until the client goes away
};

// Serves one connection with a CannedAnswer, on its own thread and io_context (bounded to 30 s so
// that a broken test cannot hang).
class CannedServer {
 public:
  explicit CannedServer(CannedAnswer answer) : answer_(std::move(answer)) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::address_v4::loopback(), 0});
    acceptor_.listen();
    asio::co_spawn(io_, serve(), [this](std::exception_ptr error) {
      std::lock_guard lock(mutex_);
      error_ = error;
    });
    thread_ = std::thread([this] { io_.run_for(30s); });
  }

  ~CannedServer() {
    io_.stop();
    thread_.join();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  bhttp::request<bhttp::string_body> request() const {
    std::lock_guard lock(mutex_);
    return request_;
  }

  // What ended the server's side with an error ("" when nothing did).
  std::string failure() const {
    std::lock_guard lock(mutex_);
    if (!error_) return "";
    try {
      std::rethrow_exception(error_);
    } catch (const std::exception& e) {
      return e.what();
    }
  }

  bool wrote_everything() const { return wrote_everything_; }
  bool saw_client_leave() const { return saw_client_leave_; }

 private:
  asio::awaitable<void> serve() {
    auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    co_await bhttp::async_read(socket, buffer, request, asio::use_awaitable);
    {
      std::lock_guard lock(mutex_);
      request_ = request;
    }
    if (answer_.status == 0) {
      co_await wait_for_client_to_leave(socket);
      co_return;
    }
    if (answer_.status != 200) {
      bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(answer_.status), 11};
      response.set(bhttp::field::content_type, "application/json");
      response.body() = answer_.error_body;
      response.prepare_payload();
      co_await bhttp::async_write(socket, response, asio::use_awaitable);
      co_return;
    }
    bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
    head.set(bhttp::field::content_type, "text/event-stream");
    head.set(bhttp::field::cache_control, "no-cache");
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    co_await bhttp::async_write_header(socket, serializer, asio::use_awaitable);
    asio::steady_timer timer(io_);
    for (const auto& chunk : answer_.chunks) {
      timer.expires_after(chunk.pause_before);
      co_await timer.async_wait(asio::use_awaitable);
      co_await asio::async_write(socket, bhttp::make_chunk(asio::buffer(chunk.bytes)), asio::use_awaitable);
    }
    if (answer_.last_chunk) co_await asio::async_write(socket, bhttp::make_chunk_last(), asio::use_awaitable);
    wrote_everything_ = true;
    if (answer_.hold_open) co_await wait_for_client_to_leave(socket);
  }

  asio::awaitable<void> wait_for_client_to_leave(tcp::socket& socket) {
    char byte;
    boost::system::error_code ec;
    co_await socket.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(asio::use_awaitable, ec));
    saw_client_leave_ = true;
  }

  CannedAnswer answer_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  mutable std::mutex mutex_;
  bhttp::request<bhttp::string_body> request_;
  std::exception_ptr error_;
  std::atomic<bool> wrote_everything_{false};
  std::atomic<bool> saw_client_leave_{false};
};

SseRequest request_to(const CannedServer& server, std::string target = "/stream") {
  SseRequest request;
  request.port = server.port();
  request.target = std::move(target);
  return request;
}

std::vector<CannedChunk> chunks_of(std::initializer_list<const char*> texts) {
  std::vector<CannedChunk> chunks;
  for (const char* text : texts) chunks.push_back({text});
  return chunks;
}

}  // namespace

TEST_CASE("the SSE client decodes events split across chunks, with CRLF, LF and CR line ends and comments",
          "[support][sse]") {
  const auto chunks = chunks_of({
      ": stream of operation 1\n\n",  // a comment and an empty event: nothing to dispatch
      "id: 1\nevent: output\ndata: {\"seq\":1}\n\n",
      "id: 2\r\nevent: out",
      "put\r\ndata: first\r\ndata:second\r",  // CR here, its LF in the next chunk: one line end
      "\n\r\n",
      "data: plain\r\r",
      "event: end\ndata\n\n",  // a field without a colon has an empty value
      ":no space\nid: 3\nretry: 10\nunknown: x\ndata:  two spaces\n\n",
  });
  CannedServer server({.chunks = chunks});
  SseClient client(request_to(server));
  REQUIRE(client.status() == 200);
  CHECK(client.header("content-type") == "text/event-stream");
  CHECK(client.header("Cache-Control") == "no-cache");
  CHECK(client.header("X-Absent").empty());

  auto event = client.next(5s);
  REQUIRE(event);
  CHECK(event->id == "1");
  CHECK(event->event == "output");
  CHECK(event->data == "{\"seq\":1}");

  event = client.next(5s);
  REQUIRE(event);
  CHECK(event->id == "2");
  CHECK(event->event == "output");
  CHECK(event->data == "first\nsecond");

  event = client.next(5s);
  REQUIRE(event);
  CHECK(event->id.empty());
  CHECK(event->event == "message");
  CHECK(event->data == "plain");

  event = client.next(5s);
  REQUIRE(event);
  CHECK(event->event == "end");
  CHECK(event->data.empty());

  event = client.next(5s);
  REQUIRE(event);
  CHECK(event->id == "3");
  CHECK(event->data == " two spaces");

  CHECK_FALSE(client.next(5s));
  CHECK_FALSE(client.next(5s));  // and it stays ended

  std::uint64_t sent = 0;
  for (const auto& chunk : chunks) sent += chunk.bytes.size();
  CHECK(client.body_bytes() == sent);
  CHECK(server.failure().empty());
}

TEST_CASE("the SSE client sends its target and headers and asks for an event stream", "[support][sse]") {
  CannedServer server({.chunks = chunks_of({"data: x\n\n"})});
  auto request = request_to(server, "/api/operations/abc/stream?token=tak_secret");
  request.headers = {{"Authorization", "Bearer rca_x"}, {"Last-Event-ID", "41"}};
  SseClient client(request);
  REQUIRE(client.next(5s));

  const auto received = server.request();
  CHECK(received.method() == bhttp::verb::get);
  CHECK(received.target() == "/api/operations/abc/stream?token=tak_secret");
  CHECK(received[bhttp::field::authorization] == "Bearer rca_x");
  CHECK(received["Last-Event-ID"] == "41");
  CHECK(received[bhttp::field::accept] == "text/event-stream");
}

TEST_CASE("an event cut off by the server's close is dropped and the stream ends", "[support][sse]") {
  CannedServer server({.chunks = chunks_of({"data: complete\n\n", "data: incomplete\n"}), .last_chunk = false});
  SseClient client(request_to(server));
  const auto event = client.next(5s);
  REQUIRE(event);
  CHECK(event->data == "complete");
  CHECK_FALSE(client.next(5s));
}

TEST_CASE("the SSE client reads the whole body of an answer other than 200", "[support][sse]") {
  CannedServer server({.status = 404, .error_body = R"({"detail":"operation not found"})"});
  SseClient client(request_to(server));
  CHECK(client.status() == 404);
  CHECK(client.header("Content-Type") == "application/json");
  CHECK(client.error_body() == R"({"detail":"operation not found"})");
  CHECK_FALSE(client.next(1s));
}

TEST_CASE("next() throws when no event arrives in time, and the stream can be read on afterwards",
          "[support][sse]") {
  CannedServer server({.chunks = {{"id: 1\ndata: early\n\n"}, {"id: 2\ndata: late\n\n", 1500ms}}});
  SseClient client(request_to(server));
  REQUIRE(client.next(5s)->data == "early");

  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(client.next(200ms), std::runtime_error);
  CHECK(std::chrono::steady_clock::now() - start < 1400ms);  // it gave up before the event came

  const auto late = client.next(5s);
  REQUIRE(late);
  CHECK(late->id == "2");
  CHECK(late->data == "late");
}

TEST_CASE("the SSE client gives up when the response head does not come within its timeout", "[support][sse]") {
  CannedServer server({.status = 0});
  CHECK_THROWS_AS(SseClient(request_to(server), 300ms), std::runtime_error);
}

TEST_CASE("close() drops the connection at once", "[support][sse]") {
  CannedServer server({.chunks = chunks_of({"data: one\n\n"}), .last_chunk = false, .hold_open = true});
  SseClient client(request_to(server));
  REQUIRE(client.next(5s));
  client.close();
  CHECK(wait_until([&] { return server.saw_client_leave(); }, 5s));
  CHECK_FALSE(client.next(1s));
}

TEST_CASE("the SSE client takes at most 64 KiB ahead of the events asked for, leaving the rest in the socket",
          "[support][sse]") {
  // 64 MiB of 16 KiB events, four to a chunk: more than the kernel buffers of a loopback
  // connection hold, so the server's writes can finish only once the client reads.
  const std::string event = "data: " + std::string(16 * 1024 - 8, 'x') + "\n\n";
  const std::string four_events = event + event + event + event;
  constexpr int kChunks = 1024;
  CannedAnswer answer;
  for (int i = 0; i < kChunks; ++i) answer.chunks.push_back({four_events, 0ms});
  CannedServer server(answer);
  SseClient client(request_to(server));

  REQUIRE(client.next(5s));
  std::this_thread::sleep_for(300ms);  // room for a client that read ahead to fill its memory
  CHECK(client.body_bytes() <= 64 * 1024);
  CHECK_FALSE(server.wrote_everything());

  std::size_t events = 1;
  while (auto next = client.next(10s)) {
    REQUIRE(next->data.size() == event.size() - 8);
    ++events;
  }
  CHECK(events == 4 * kChunks);
  CHECK(client.body_bytes() == std::uint64_t{4} * kChunks * event.size());
  CHECK(server.wrote_everything());
  CHECK(server.failure().empty());
}

TEST_CASE("the SSE client reports a refused connection", "[support][sse]") {
  std::uint16_t closed_port = 0;
  {
    asio::io_context io;
    tcp::acceptor probe(io, {asio::ip::address_v4::loopback(), 0});
    closed_port = probe.local_endpoint().port();
  }
  SseRequest request;
  request.port = closed_port;
  request.target = "/stream";
  CHECK_THROWS_AS(SseClient(request, 2s), std::runtime_error);
}
