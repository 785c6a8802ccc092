#include "common/config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

using tether::config::Options;

namespace {

// Sets a variable for one test and restores the previous state afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) previous_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (previous_) {
      ::setenv(name_.c_str(), previous_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> previous_;
};

Options parse(std::vector<const char*> words, std::set<std::string> known, std::set<std::string> switches = {}) {
  words.insert(words.begin(), "program");
  return Options(static_cast<int>(words.size()), words.data(), std::move(known), std::move(switches));
}

}  // namespace

TEST_CASE("env_name turns a flag name into its TETHER_ variable", "[config]") {
  CHECK(Options::env_name("sync-wait-cap-seconds") == "TETHER_SYNC_WAIT_CAP_SECONDS");
  CHECK(Options::env_name("listen") == "TETHER_LISTEN");
}

TEST_CASE("a flag wins over the environment variable of the same option", "[config]") {
  ScopedEnv env("TETHER_LOG_LEVEL", "debug");
  CHECK(parse({"--log-level", "warn"}, {"log-level"}).get("log-level") == "warn");
  CHECK(parse({"--log-level=error"}, {"log-level"}).get("log-level") == "error");
}

TEST_CASE("the environment variable is used when the flag is absent", "[config]") {
  ScopedEnv env("TETHER_LOG_LEVEL", "debug");
  const auto options = parse({}, {"log-level"});
  CHECK(options.get("log-level") == "debug");
  CHECK(options.get_or("log-level", "info") == "debug");
}

TEST_CASE("an empty environment variable counts as unset", "[config]") {
  ScopedEnv env("TETHER_LOG_LEVEL", "");
  const auto options = parse({}, {"log-level"});
  CHECK_FALSE(options.get("log-level").has_value());
  CHECK(options.get_or("log-level", "info") == "info");
}

TEST_CASE("require names both the flag and the variable when neither is given", "[config]") {
  ::unsetenv("TETHER_DATABASE_URL");
  const auto options = parse({}, {"database-url"});
  CHECK_THROWS_WITH(options.require("database-url"),
                    Catch::Contains("--database-url") && Catch::Contains("TETHER_DATABASE_URL"));
}

TEST_CASE("unknown flags and flags missing their value are refused", "[config]") {
  CHECK_THROWS_WITH(parse({"--bogus", "1"}, {"listen"}), Catch::Contains("--bogus"));
  CHECK_THROWS_WITH(parse({"--listen"}, {"listen"}), Catch::Contains("--listen"));
  CHECK_THROWS_WITH(parse({"--help=yes"}, {}, {"help"}), Catch::Contains("--help"));
}

TEST_CASE("switches and positional words are kept apart from valued flags", "[config]") {
  const auto options = parse({"admin", "create-key", "--name", "ci", "--help"}, {"name"}, {"help"});
  CHECK(options.positional() == std::vector<std::string>{"admin", "create-key"});
  CHECK(options.get("name") == "ci");
  CHECK(options.has_switch("help"));
  CHECK_FALSE(options.has_switch("version"));
}

TEST_CASE("get_int parses integers within range and rejects anything else, naming the flag", "[config]") {
  CHECK(parse({"--db-pool-size", "8"}, {"db-pool-size"}).get_int("db-pool-size", 4, 1, 64) == 8);
  CHECK(parse({}, {"db-pool-size"}).get_int("db-pool-size", 4, 1, 64) == 4);
  for (const char* bad : {"0", "65", "8x", "", "eight", "-1"}) {
    INFO("value '" << bad << "'");
    const auto options = parse({"--db-pool-size", bad}, {"db-pool-size"});
    CHECK_THROWS_WITH(options.get_int("db-pool-size", 4, 1, 64), Catch::Contains("--db-pool-size"));
  }
}
