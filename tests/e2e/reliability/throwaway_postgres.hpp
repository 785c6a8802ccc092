#pragma once
// A PostgreSQL server of the test's own, which it may stop and start: the outage test must not
// take down the server that every other test shares (TETHER_TEST_DATABASE_URL).
#include "tests/support/temp_dir.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::reliability {

class ThrowawayPostgres {
 public:
  // initdb into a fresh temp dir (as the `postgres` account when running as root, since initdb
  // refuses root) and start the server on a free port of 127.0.0.1. Throws with the server's log
  // when that fails.
  ThrowawayPostgres();
  // Stops the server (immediate shutdown); the temp dir goes with it. When the test process dies
  // instead, the process guard does both.
  ~ThrowawayPostgres();
  ThrowawayPostgres(const ThrowawayPostgres&) = delete;
  ThrowawayPostgres& operator=(const ThrowawayPostgres&) = delete;

  // Superuser URL of its `postgres` database.
  std::string url() const;
  std::uint16_t port() const { return port_; }

  // pg_ctl stop -m fast (clients are disconnected) / pg_ctl start on the same port; both wait for
  // the server and throw with its log when it fails.
  void stop();
  void start();

 private:
  void pg_ctl(const std::vector<std::string>& arguments) const;
  std::vector<std::string> as_owner(std::vector<std::string> argv) const;

  testing::TempDir dir_{"tether-pg"};
  std::string bin_dir_;
  std::uint16_t port_ = 0;
  bool running_ = false;
};

// Points TETHER_TEST_DATABASE_URL (read by testing::TestDatabase) at another server while it
// lives, and restores the previous value afterwards.
class DatabaseServerOverride {
 public:
  explicit DatabaseServerOverride(const std::string& server_url);
  ~DatabaseServerOverride();
  DatabaseServerOverride(const DatabaseServerOverride&) = delete;
  DatabaseServerOverride& operator=(const DatabaseServerOverride&) = delete;

 private:
  std::optional<std::string> previous_;
};

}  // namespace tether::reliability
