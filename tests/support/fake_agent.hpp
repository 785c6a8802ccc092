#pragma once
// A stand-in for tether-agent that speaks the agent protocol (proto/PROTOCOL.md) over a real
// WebSocket to a real controller, one message at a time as the test says. For the protocol's
// promises that a real agent never puts to the test on its own: a second connection for the
// same server, an agent that never answers a dispatch, a hello that omits an operation.
#include "proto/messages.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace tether::testing {

class FakeAgent {
 public:
  // Opens ws://127.0.0.1:port/api/agent/ws with the server token, sends `hello` and reads the
  // welcome; throws std::runtime_error when any of that fails within 20 s.
  FakeAgent(std::uint16_t port, const std::string& token, const proto::Hello& hello);
  ~FakeAgent();
  FakeAgent(const FakeAgent&) = delete;
  FakeAgent& operator=(const FakeAgent&) = delete;

  const proto::Welcome& welcome() const { return welcome_; }

  void send(const proto::AgentMessage& message);
  // A binary output frame (proto::encode_output_frame), as the agent streams a command's output.
  void send_output(const std::string& frame);

  enum class Outcome { message, closed, timed_out };
  struct Received {
    Outcome outcome = Outcome::timed_out;
    std::optional<proto::ControllerMessage> message;  // set when outcome is `message`
  };
  // The next control message (binary frames and unknown types are skipped), or how the wait
  // ended: the controller closed the socket, or `timeout` passed (the socket is unusable then).
  Received receive(std::chrono::milliseconds timeout);
  // The next Dispatch; throws when another message, a close or the timeout comes first.
  proto::Dispatch receive_dispatch(std::chrono::milliseconds timeout);

  // Reads (and drops) messages until the controller closes the socket: true if it did in time.
  bool wait_closed(std::chrono::milliseconds timeout);

  // Closes the socket abruptly (no close frame), as a crashed agent or a broken network would.
  void drop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  proto::Welcome welcome_;
};

// A hello as tether-agent sends it, listing `operations` from its journal.
proto::Hello fake_hello(std::vector<proto::JournalEntrySummary> operations = {});

}  // namespace tether::testing
