#pragma once
// A TCP relay on 127.0.0.1 that stands in for the network between two processes of a test (an
// agent and its controller), so that the test can break that path while both processes stay up:
// reset every connection, refuse new ones for a while, or go silent without resetting anything.
// It runs on its own thread; every control below may be called from the test's thread and takes
// effect before it returns.
#include <cstdint>
#include <memory>
#include <string>

namespace tether::testing {

class TcpProxy {
 public:
  enum class Direction {
    to_target,  // bytes the connecting side (the agent) sends
    to_client,  // bytes the target (the controller) sends back
  };

  // What a tripwire does with the chunk that contains its needle.
  enum class Tripwire {
    deliver_then_cut,  // forward the chunk, then reset every connection
    cut_instead,       // reset every connection; the chunk is lost
  };

  // Listens on an ephemeral 127.0.0.1 port; each accepted connection is relayed to
  // 127.0.0.1:target_port (connected when accepted, so the target may start later).
  explicit TcpProxy(std::uint16_t target_port);
  // Resets every connection, stops listening and joins the relay's thread.
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const;

  // Resets every open connection on both of its sides at once, like a broken route: each side
  // sees its socket reset, whatever it was doing.
  void cut();
  // While on, each new connection is accepted and reset at once, so a client retrying meets a
  // network that is down. Open connections are not touched.
  void refuse(bool on);
  // While on, no byte and no end of stream crosses the relay in either direction, and nothing is
  // reset: a path that silently drops packets. Nothing is lost either, as with TCP behind such a
  // path: what was held back flows again, in order, once it is off (unless a side gave up first).
  void blackhole(bool on);
  // Arms a one-shot tripwire: the first chunk relayed in `direction` that contains `needle`
  // (also when it straddles two reads) makes the relay cut every connection, after or instead of
  // forwarding it. Used to break a connection right after (or right before) one particular
  // message, e.g. a dispatch, crosses it.
  void cut_when(Direction direction, std::string needle, Tripwire action);
  // How many armed tripwires have fired.
  std::uint64_t tripwires_fired() const;

  // Connections accepted from clients (the refused ones included).
  std::uint64_t accepted() const;
  // Accepted connections reset at once because refuse() was on.
  std::uint64_t refused() const;
  // Connections that reached the target and were relayed.
  std::uint64_t relayed() const;
  // Relayed connections that are still open.
  std::uint64_t open() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::testing
