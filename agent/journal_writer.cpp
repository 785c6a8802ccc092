#include "agent/journal_writer.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <spdlog/spdlog.h>

#include <future>

namespace tether::agent {
namespace asio = boost::asio;

JournalWriter::JournalWriter(Journal& journal, asio::any_io_executor completion_executor)
    : journal_(journal), completion_executor_(std::move(completion_executor)) {}

JournalWriter::~JournalWriter() { disk_thread_.join(); }

void JournalWriter::submit(std::function<void()> work, Completion done) {
  // The tracked executor counts as outstanding work: the io_context keeps running until the
  // completion has been delivered.
  auto tracked = asio::prefer(completion_executor_, asio::execution::outstanding_work.tracked);
  asio::post(disk_thread_, [work = std::move(work), done = std::move(done), executor = std::move(tracked)] {
    std::optional<std::string> error;
    try {
      work();
    } catch (const std::exception& failure) {
      error = failure.what();
    }
    if (done) {
      asio::post(executor, [done, error] { done(error); });
    } else if (error) {
      spdlog::error("event=journal_write_failed error=\"{}\"", *error);
    }
  });
}

void JournalWriter::save(OperationRecord record, Durability durability, Completion done) {
  submit([this, record = std::move(record), durability] { journal_.save(record, durability); }, std::move(done));
}

void JournalWriter::forget(std::string operation_id, Completion done) {
  submit([this, id = std::move(operation_id)] { journal_.forget(id); }, std::move(done));
}

void JournalWriter::drain() {
  std::promise<void> written;
  auto future = written.get_future();
  asio::post(disk_thread_, [&written] { written.set_value(); });
  future.wait();
}

}  // namespace tether::agent
