#pragma once
// Journal writes off the I/O thread: fsync takes a disk round trip, so writes run on one
// dedicated thread, in submission order (an operation's records can never overtake each other),
// and their completions come back to the agent's executor.
#include "agent/journal.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <optional>
#include <string>

namespace tether::agent {

class JournalWriter {
 public:
  // `done` receives nullopt on success or a readable error.
  using Completion = std::function<void(std::optional<std::string> error)>;

  JournalWriter(Journal& journal, boost::asio::any_io_executor completion_executor);
  // Finishes the writes already submitted.
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  void save(OperationRecord record, Durability durability, Completion done = {});
  void forget(std::string operation_id, Completion done = {});
  // Blocks until every write submitted so far is done (start-up, shutdown and tests).
  void drain();

 private:
  void submit(std::function<void()> work, Completion done);

  Journal& journal_;
  boost::asio::any_io_executor completion_executor_;
  boost::asio::thread_pool disk_thread_{1};
};

}  // namespace tether::agent
