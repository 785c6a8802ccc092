#pragma once
// The HTTP vocabulary shared by the server, the router and the API handlers.
#include "controller/http/access.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace tether::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// A response body written piece by piece over time (Server-Sent Events). Implemented by a
// connection; all calls happen on its strand.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Writes one piece of the body; `done(ok)` runs on the strand once it is written, with ok false
  // when the client is gone or has read nothing for too long. One write at a time.
  virtual void write(std::string data, std::function<void(bool ok)> done) = 0;
  // Ends the body; the connection closes.
  virtual void finish() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
};

// What produces such a body. The connection keeps it until finish() or a failed write.
class StreamProducer {
 public:
  virtual ~StreamProducer() = default;
  // On the connection's strand, once the response head is written.
  virtual void start(std::shared_ptr<StreamWriter> writer) = 0;
};

// Implemented by a connection: takes the one response to the request it is serving. Called from
// any thread (handlers answer from database workers); the connection hops to its own strand.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void deliver(Response response) = 0;
  // Answers 200 text/event-stream and hands the body to `producer`.
  virtual void deliver_event_stream(std::shared_ptr<StreamProducer> producer) = 0;
};

// A handle a handler keeps until it answers. Exactly one response goes out; later sends are ignored
// (a sync-wait timer and a completion can race, and only the first may answer).
class Responder {
 public:
  explicit Responder(std::shared_ptr<ResponseSink> sink)
      : sink_(std::move(sink)), answered_(std::make_shared<std::atomic<bool>>(false)) {}

  bool send(Response response) const {
    if (answered_->exchange(true)) return false;
    sink_->deliver(std::move(response));
    return true;
  }
  bool stream_events(std::shared_ptr<StreamProducer> producer) const {
    if (answered_->exchange(true)) return false;
    sink_->deliver_event_stream(std::move(producer));
    return true;
  }
  bool answered() const { return answered_->load(); }
  // Where the response goes (the router wraps it to observe what is answered).
  const std::shared_ptr<ResponseSink>& sink() const { return sink_; }

 private:
  std::shared_ptr<ResponseSink> sink_;
  std::shared_ptr<std::atomic<bool>> answered_;
};

struct RequestContext {
  Request request;
  std::string client_ip;
  std::map<std::string, std::string> path_params;
  Responder responder;
  // The matched route's declared Access, set by the router before its handler runs. Until then
  // public_, which no operator or automation-key check accepts (see auth::authenticate_*).
  Access access = Access::public_;
};

}  // namespace tether::http
