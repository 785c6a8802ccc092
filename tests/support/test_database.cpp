#include "tests/support/test_database.hpp"

#include "common/crypto.hpp"
#include "tests/support/child_process.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace tether::testing {
namespace {

std::string with_database(const std::string& server_url, const std::string& database) {
  auto parsed = boost::urls::parse_uri(server_url);
  if (!parsed || (parsed->scheme() != "postgresql" && parsed->scheme() != "postgres")) {
    throw std::runtime_error(
        "TETHER_TEST_DATABASE_URL must be a postgresql:// URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres");
  }
  boost::urls::url url(*parsed);
  url.set_path("/" + database);
  return std::string(url.buffer());
}

std::string pg_dump_program() {
  // Prefer the server's own major version when the Debian layout has it, else whatever is on PATH.
  for (const char* candidate : {"/usr/lib/postgresql/15/bin/pg_dump"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return "pg_dump";
}

}  // namespace

std::string TestDatabase::server_url() {
  const char* url = std::getenv("TETHER_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(
        "TETHER_TEST_DATABASE_URL is not set: it must name a PostgreSQL server this test may create "
        "databases on, e.g. postgresql://postgres@127.0.0.1:5432/postgres (./dev.sh test sets it)");
  }
  return url;
}

TestDatabase::TestDatabase()
    : admin_url_(server_url()), name_("tether_test_" + crypto::hex_encode(crypto::random_bytes(8))) {
  url_ = with_database(admin_url_, name_);
  pqxx::connection connection(admin_url_);
  pqxx::nontransaction work(connection);
  work.exec0("CREATE DATABASE " + work.quote_name(name_));
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection connection(admin_url_);
    pqxx::nontransaction work(connection);
    work.exec0("DROP DATABASE IF EXISTS " + work.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& error) {
    // A destructor cannot throw; the database is uniquely named, so a leftover harms no other test.
    std::fprintf(stderr, "could not drop test database %s: %s\n", name_.c_str(), error.what());
  }
}

std::string TestDatabase::dump() const {
  auto result = run_command({pg_dump_program(), "--no-owner", "--dbname", url_}, std::chrono::seconds(60));
  if (!result.succeeded()) {
    throw std::runtime_error(fmt::format("pg_dump failed ({}): {}", result.status.describe(), result.err));
  }
  return result.out;
}

}  // namespace tether::testing
