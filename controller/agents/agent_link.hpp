#pragma once
// The protocol side of one agent connection (proto/PROTOCOL.md), independent of whether the socket
// is plain or TLS. Everything here runs on the connection's strand except the database work, which
// goes to the pool through a single "lane": at most one transaction per connection is in flight,
// and whatever arrives meanwhile is batched into the next one. Acks go out only after the commit,
// so an acknowledged chunk is durable.
#include "controller/operations/lifecycle.hpp"
#include "controller/store/operation_store.hpp"
#include "proto/messages.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tether::agents {

class AgentLink : public std::enable_shared_from_this<AgentLink> {
 public:
  AgentLink(operations::Lifecycle& lifecycle, std::string server_id, boost::asio::any_io_executor strand);
  virtual ~AgentLink() = default;

  const std::string& server_id() const { return server_id_; }

  // Both may be called from any thread.
  void send(const proto::ControllerMessage& message);
  virtual void close(std::string reason) = 0;

 protected:
  // Called by the I/O layer, on the strand.
  void on_text(std::string_view text);
  void on_binary(std::string_view frame);
  void on_closed();

  virtual void write_text(std::string text) = 0;
  virtual void set_reading_paused(bool paused) = 0;

  boost::asio::any_io_executor strand_;

 private:
  struct Batch {
    std::map<std::string, std::vector<store::OutputChunk>> output;
    std::vector<proto::AgentMessage> events;
    std::size_t output_bytes = 0;
    bool heartbeat = false;
    bool empty() const { return output.empty() && events.empty() && !heartbeat; }
  };
  struct BatchOutcome {
    std::map<std::string, std::uint64_t> acks;
    std::map<std::string, store::operations::AppendedOutput> appended;
    std::vector<std::string> finished;
    std::vector<std::string> settled;  // accepted, rejected or finished: their env is no longer needed
    operations::EndNotice ended;
  };

  void handle_hello(proto::Hello hello);
  // Starts the next transaction when none is in flight (output alone may first gather a moment).
  void flush();
  void write_pending();
  void merge_back(Batch batch);
  void protocol_error(const std::string& what);
  // A report refused by the store (another server's operation, output out of order): the
  // connection is closed; another server's operation is also a security event.
  void refuse(const store::operations::AgentReportRefused& refusal);
  void publish_output(Batch& batch, const BatchOutcome& outcome);
  // Reading from the agent pauses while too much output waits for the database or while a
  // reader of the live output has no room; it resumes when neither holds.
  void update_reading();
  BatchOutcome write_batch(pqxx::connection& connection, const Batch& batch);

  operations::Lifecycle& lifecycle_;
  dispatch::Dispatcher& dispatcher_;
  std::string server_id_;
  bool hello_seen_ = false;
  bool ready_ = false;  // welcome sent: batches may be written
  bool closed_ = false;
  bool in_flight_ = false;
  bool paused_ = false;
  int reader_holds_ = 0;  // holds given to full readers and not yet released
  std::weak_ptr<streams::ReadHold> current_hold_;
  Batch pending_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer gather_timer_;
  bool gathering_ = false;
};

}  // namespace tether::agents
