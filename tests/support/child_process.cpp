#include "tests/support/child_process.hpp"

#include "tests/support/process_guard.hpp"
#include "tests/support/temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace tether::testing {
namespace {

std::vector<std::string> build_environment(const ProcessSpec& spec) {
  std::vector<std::string> out;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string variable = *entry;
    const std::string name = variable.substr(0, variable.find('='));
    bool dropped = spec.env.count(name) > 0;
    for (const auto& prefix : spec.drop_env_prefixes) dropped = dropped || name.rfind(prefix, 0) == 0;
    if (!dropped) out.push_back(variable);
  }
  for (const auto& [name, value] : spec.env) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void report_exec_failure(int error_pipe, int error) {
  [[maybe_unused]] auto ignored = ::write(error_pipe, &error, sizeof error);
  ::_exit(127);
}

// Between fork and exec only async-signal-safe calls are allowed; failures are reported to the
// parent through `error_pipe` as an errno value.
[[noreturn]] void exec_child(int error_pipe, pid_t parent, const char* out_path, const char* err_path, char** argv,
                             char** envp, long max_open_files) {
  auto fail = [error_pipe](int error) { report_exec_failure(error_pipe, error); };
  if (max_open_files > 0) {
    const rlimit limit{static_cast<rlim_t>(max_open_files), static_cast<rlim_t>(max_open_files)};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) fail(errno);
  }
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
  if (::getppid() != parent) ::_exit(127);  // the parent is already gone
  const int null_in = ::open("/dev/null", O_RDONLY);
  const int out = ::open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  const int err = err_path ? ::open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600) : out;
  if (null_in < 0 || out < 0 || err < 0) fail(errno);
  if (::dup2(null_in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) fail(errno);
  // Sockets and files the test holds must not leak into the child (asio and libpq do not
  // always open them close-on-exec); the error pipe is close-on-exec and stays open.
  const bool closed = (error_pipe == 3 || ::close_range(3, static_cast<unsigned>(error_pipe) - 1, 0) == 0) &&
                      ::close_range(static_cast<unsigned>(error_pipe) + 1, ~0U, 0) == 0;
  if (!closed) {  // kernels before 5.9
    for (int fd = 3; fd < 4096; ++fd) {
      if (fd != error_pipe) ::close(fd);
    }
  }
  ::execvpe(argv[0], argv, envp);
  report_exec_failure(error_pipe, errno);
}

}  // namespace

std::string ExitStatus::describe() const {
  if (code) return "exit code " + std::to_string(*code);
  if (signal) return std::string("signal ") + ::strsignal(*signal);
  return "unknown";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

ChildProcess::ChildProcess(ProcessSpec spec) : spec_(std::move(spec)) {
  if (spec_.argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");
  if (spec_.stdout_path.empty()) throw std::invalid_argument("ChildProcess: stdout_path is required");
  start_process_guard();  // before the environment is copied: the child must carry the marker
  std::vector<std::string> argv_strings = spec_.argv;
  std::vector<std::string> env_strings = build_environment(spec_);
  auto argv = pointers(argv_strings);
  auto envp = pointers(env_strings);
  const std::string out_path = spec_.stdout_path.string();
  const std::string err_path = spec_.stderr_path.string();

  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    const int error = errno;
    ::close(error_pipe[0]);
    ::close(error_pipe[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(error));
  }
  if (pid_ == 0) {
    ::close(error_pipe[0]);
    exec_child(error_pipe[1], parent, out_path.c_str(), err_path.empty() ? nullptr : err_path.c_str(), argv.data(),
               envp.data(), spec_.max_open_files.value_or(0));
  }
  ::close(error_pipe[1]);
  int child_errno = 0;
  ssize_t got;
  do {
    got = ::read(error_pipe[0], &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (got == sizeof child_errno) {
    reap(0);
    throw std::runtime_error("cannot start " + spec_.argv[0] + ": " + std::strerror(child_errno));
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_) kill_and_reap();
}

bool ChildProcess::reap(int wait_flags) {
  if (exit_) return true;
  int status = 0;
  pid_t result;
  do {
    result = ::waitpid(pid_, &status, wait_flags);
  } while (result < 0 && errno == EINTR);
  if (result != pid_) return false;
  ExitStatus ended;
  if (WIFEXITED(status)) ended.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) ended.signal = WTERMSIG(status);
  exit_ = ended;
  return true;
}

bool ChildProcess::running() { return !reap(WNOHANG); }

void ChildProcess::kill(int signal) {
  if (!running()) return;
  ::kill(pid_, signal);
}

std::optional<ExitStatus> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(WNOHANG)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_;
}

ExitStatus ChildProcess::kill_and_reap() {
  if (!reap(WNOHANG)) {
    ::kill(pid_, SIGKILL);
    reap(0);
  }
  return *exit_;
}

std::string ChildProcess::stdout_text() const { return read_file(spec_.stdout_path); }

std::string ChildProcess::stderr_text() const {
  return spec_.stderr_path.empty() ? std::string() : read_file(spec_.stderr_path);
}

std::string ChildProcess::log() const { return stdout_text() + stderr_text(); }

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& env,
                          const std::vector<std::string>& drop_env_prefixes) {
  TempDir capture("tether-command");
  ChildProcess process(ProcessSpec{argv, env, drop_env_prefixes, capture / "stdout", capture / "stderr"});
  CommandResult result;
  if (auto exit = process.wait_for_exit(timeout)) {
    result.status = *exit;
  } else {
    result.status = process.kill_and_reap();
    result.err = "[killed after " + std::to_string(timeout.count()) + " ms]\n";
  }
  result.out = process.stdout_text();
  result.err += process.stderr_text();
  return result;
}

}  // namespace tether::testing
