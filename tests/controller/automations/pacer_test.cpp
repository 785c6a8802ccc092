// The Pacer (controller/automations/pacer.hpp) over a real io_context and a database pool on the
// test PostgreSQL: a pass runs after first_in and the next after the delay it returned; a wake
// runs one at once, or right after the pass under way; a failing pass is reported and retried
// after `retry`; after stop no pass starts.
#include "controller/automations/pacer.hpp"
#include "tests/support/test_database.hpp"
#include "tests/support/wait.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

using namespace tether;
using namespace std::chrono_literals;

namespace {

// An io_context running on its own thread, and a one-connection pool on the test database.
struct Loop {
  testing::TestDatabase database;
  store::DbPool db{database.url(), 1, [](pqxx::connection&) {}};
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};

  ~Loop() {
    work.reset();
    io.stop();
    thread.join();
    db.stop();
  }
};

}  // namespace

TEST_CASE("a pacer runs a pass after first_in, then sleeps as long as the pass asks", "[pacer]") {
  std::atomic<int> passes{0};  // outlives the loop: a pass in flight at the end still counts
  Loop loop;
  auto pacer = std::make_shared<automations::Pacer>(
      loop.io, loop.db, [&](pqxx::connection&) { return ++passes == 1 ? 1h : 0ms; }, [](const std::string&) {}, 1h);
  pacer->start(0ms);
  REQUIRE(testing::wait_until([&] { return passes == 1; }, 10s));
  std::this_thread::sleep_for(200ms);
  CHECK(passes == 1);  // the pass asked for an hour

  pacer->wake();
  REQUIRE(testing::wait_until([&] { return passes >= 3; }, 10s));  // woken, then the pass asked for 0
  pacer->stop();
}

TEST_CASE("a pacer woken during a pass runs the next one right after it", "[pacer]") {
  std::atomic<int> passes{0};
  std::promise<void> release;
  auto released = release.get_future().share();
  Loop loop;
  auto pacer = std::make_shared<automations::Pacer>(
      loop.io, loop.db,
      [&, released](pqxx::connection&) {
        if (++passes == 1) released.wait();
        return 1h;
      },
      [](const std::string&) {}, 1h);
  pacer->start(0ms);
  REQUIRE(testing::wait_until([&] { return passes == 1; }, 10s));
  pacer->wake();  // while the first pass is under way
  std::this_thread::sleep_for(100ms);
  CHECK(passes == 1);  // one pass at a time
  release.set_value();
  REQUIRE(testing::wait_until([&] { return passes == 2; }, 10s));
  std::this_thread::sleep_for(200ms);
  CHECK(passes == 2);  // and then the hour the pass asked for
  pacer->stop();
}

TEST_CASE("a failing pass is reported and the next one comes after the retry delay", "[pacer]") {
  std::atomic<int> failures{0};
  std::string last_error;
  std::mutex mutex;
  Loop loop;
  auto pacer = std::make_shared<automations::Pacer>(
      loop.io, loop.db, [](pqxx::connection&) -> std::chrono::milliseconds { throw std::runtime_error("boom"); },
      [&](const std::string& error) {
        std::lock_guard lock(mutex);
        last_error = error;
        ++failures;
      },
      50ms);
  pacer->start(0ms);
  REQUIRE(testing::wait_until([&] { return failures >= 3; }, 10s));
  pacer->stop();
  std::lock_guard lock(mutex);
  CHECK(last_error == "boom");
}

TEST_CASE("after stop a pacer starts no pass, woken or not", "[pacer]") {
  std::atomic<int> passes{0};  // outlives the loop: a pass in flight at the end still counts
  Loop loop;
  auto pacer = std::make_shared<automations::Pacer>(
      loop.io, loop.db, [&](pqxx::connection&) { return ++passes, 20ms; }, [](const std::string&) {}, 20ms);
  pacer->start(0ms);
  REQUIRE(testing::wait_until([&] { return passes >= 2; }, 10s));
  pacer->stop();
  std::this_thread::sleep_for(100ms);  // a pass under way at stop ends; none follows
  const int stopped_at = passes;
  pacer->wake();
  std::this_thread::sleep_for(200ms);
  CHECK(passes == stopped_at);
}
