#pragma once
#include <string>

namespace tether::testing {

// A fresh, uniquely named PostgreSQL database on the server named by TETHER_TEST_DATABASE_URL
// (a superuser URL; `./dev.sh test` starts a throwaway server and sets it). Dropped, with any
// connections still open to it, on destruction.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  // URL of this database (the server URL with its database name replaced).
  const std::string& url() const { return url_; }

  // A plain-text pg_dump of the whole database (schema and data), for checking what was stored.
  std::string dump() const;

  // The server URL from the environment; throws std::runtime_error naming the variable if unset.
  static std::string server_url();

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace tether::testing
