#include "tests/e2e/reliability/throwaway_postgres.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/net.hpp"
#include "tests/support/process_guard.hpp"
#include "tests/support/script_file.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace tether::reliability {
namespace {

constexpr auto command_timeout = std::chrono::seconds(90);

// Debian keeps initdb and pg_ctl under /usr/lib/postgresql/<major>/bin; the newest major wins.
std::string find_bin_dir() {
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(entry.path() / "bin" / "initdb")) candidates.push_back(entry.path() / "bin");
  }
  if (candidates.empty()) throw std::runtime_error("PostgreSQL's initdb was not found under /usr/lib/postgresql");
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return std::stoi(a.parent_path().filename().string()) < std::stoi(b.parent_path().filename().string());
  });
  return candidates.back().string();
}

void give_to(const std::filesystem::path& path, const passwd& owner) {
  if (::chown(path.c_str(), owner.pw_uid, owner.pw_gid) != 0) {
    throw std::runtime_error("cannot hand " + path.string() + " to the postgres account");
  }
}

}  // namespace

ThrowawayPostgres::ThrowawayPostgres() : bin_dir_(find_bin_dir()), port_(testing::free_loopback_port()) {
  const auto data = dir_ / "data";
  const auto socket = dir_ / "socket";
  std::filesystem::create_directories(data);
  std::filesystem::create_directories(socket);
  std::filesystem::permissions(data, std::filesystem::perms::owner_all);
  if (::geteuid() == 0) {
    const passwd* owner = ::getpwnam("postgres");
    if (owner == nullptr) throw std::runtime_error("running as root, but there is no postgres account for initdb");
    // The server's account must be able to enter the temp dir (mkdtemp made it 0700).
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::others_exec | std::filesystem::perms::group_exec,
                                 std::filesystem::perm_options::add);
    give_to(data, *owner);
    give_to(socket, *owner);
  }
  auto initdb = testing::run_command(
      as_owner({bin_dir_ + "/initdb", "-D", data.string(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"}),
      command_timeout);
  if (!initdb.succeeded()) {
    throw std::runtime_error(fmt::format("initdb failed ({}): {}{}", initdb.status.describe(), initdb.out, initdb.err));
  }
  {
    // A test killed before its destructor runs must not leave this server running.
    std::string stop = "[ -e " + testing::shell_quote((data / "postmaster.pid").string()) + " ] &&";
    for (const auto& word : as_owner({bin_dir_ + "/pg_ctl", "-D", data.string(), "-w", "-t", "30", "stop", "-m",
                                      "immediate"})) {
      stop += " " + testing::shell_quote(word);
    }
    testing::on_test_process_death(stop);
  }
  {
    std::ofstream conf(data / "postgresql.conf", std::ios::app);
    conf << "\nlisten_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << socket.string() << "'\n"
         << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
    if (!conf) throw std::runtime_error("cannot write the throwaway server's postgresql.conf");
  }
  start();
}

ThrowawayPostgres::~ThrowawayPostgres() {
  if (!running_) return;
  try {
    pg_ctl({"stop", "-m", "immediate"});
  } catch (const std::exception& error) {
    std::fprintf(stderr, "could not stop the throwaway PostgreSQL server: %s\n", error.what());
  }
}

std::string ThrowawayPostgres::url() const { return fmt::format("postgresql://postgres@127.0.0.1:{}/postgres", port_); }

void ThrowawayPostgres::start() {
  pg_ctl({"start", "-l", (dir_ / "data" / "server.log").string(), "-o", fmt::format("-p {}", port_)});
  running_ = true;
}

void ThrowawayPostgres::stop() {
  pg_ctl({"stop", "-m", "fast"});
  running_ = false;
}

void ThrowawayPostgres::pg_ctl(const std::vector<std::string>& arguments) const {
  std::vector<std::string> argv{bin_dir_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-w", "-t", "60"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  auto result = testing::run_command(as_owner(argv), command_timeout);
  if (!result.succeeded()) {
    throw std::runtime_error(fmt::format("pg_ctl {} failed ({}): {}{}\n--- server log:\n{}", arguments.front(),
                                         result.status.describe(), result.out, result.err,
                                         testing::read_file(dir_ / "data" / "server.log")));
  }
}

std::vector<std::string> ThrowawayPostgres::as_owner(std::vector<std::string> argv) const {
  if (::geteuid() != 0) return argv;
  // From / so that a current directory the account cannot enter does not bother initdb or pg_ctl.
  argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--", "env", "-C", "/"});
  return argv;
}

DatabaseServerOverride::DatabaseServerOverride(const std::string& server_url) {
  if (const char* previous = std::getenv("TETHER_TEST_DATABASE_URL")) previous_ = previous;
  ::setenv("TETHER_TEST_DATABASE_URL", server_url.c_str(), 1);
}

DatabaseServerOverride::~DatabaseServerOverride() {
  if (previous_) {
    ::setenv("TETHER_TEST_DATABASE_URL", previous_->c_str(), 1);
  } else {
    ::unsetenv("TETHER_TEST_DATABASE_URL");
  }
}

}  // namespace tether::reliability
