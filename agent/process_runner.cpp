#include "agent/process_runner.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <set>

extern char** environ;

namespace tether::agent {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t read_chunk_size = proto::max_output_payload;
constexpr std::string_view agent_secret_variable = "TETHER_TOKEN";

std::string errno_text(int error) { return std::strerror(error); }

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// A missing or unusable working directory is reported as such instead of as a generic spawn error.
std::optional<std::string> check_working_directory(const std::string& directory) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) {
    if (errno == ENOENT) return fmt::format("working directory {} does not exist", directory);
    return fmt::format("working directory {} is not accessible: {}", directory, errno_text(errno));
  }
  if (!S_ISDIR(info.st_mode)) return fmt::format("working directory {} is not a directory", directory);
  return std::nullopt;
}

// RAII for the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

struct PipeEnds {
  int read = -1;
  int write = -1;
  ~PipeEnds() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
};

// A pipe whose ends are all above fd 3: they are dup2'ed onto fds 0 to 3 in the child, and a
// source that already sits on its target would keep its close-on-exec flag (an agent started
// with closed standard descriptors gets such low numbers from pipe2).
std::optional<std::string> open_pipe(PipeEnds& ends) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fmt::format("cannot create a pipe: {}", errno_text(errno));
  ends.read = fds[0];
  ends.write = fds[1];
  for (int* fd : {&ends.read, &ends.write}) {
    if (*fd > 3) continue;
    const int moved = ::fcntl(*fd, F_DUPFD_CLOEXEC, 4);
    if (moved < 0) return fmt::format("cannot create a pipe: {}", errno_text(errno));
    ::close(*fd);
    *fd = moved;
  }
  return std::nullopt;
}

// Puts all of `data` into the pipe now, so the command finds it waiting and the agent never
// blocks on a command that does not read its stdin.
std::optional<std::string> fill_pipe(PipeEnds& ends, const std::string& data) {
  if (data.size() > max_stdin_size) return fmt::format("stdin input is larger than {} bytes", max_stdin_size);
  if (data.size() > PIPE_BUF) ::fcntl(ends.write, F_SETPIPE_SZ, static_cast<int>(max_stdin_size));
  ::fcntl(ends.write, F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  while (written < data.size()) {
    const auto n = ::write(ends.write, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fmt::format("cannot pass stdin input to the command: {}", errno_text(n < 0 ? errno : EAGAIN));
    written += static_cast<std::size_t>(n);
  }
  ::close(ends.write);
  ends.write = -1;
  return std::nullopt;
}

// What the child does between its birth and exec when it is started with fork_into_cgroup
// (posix_spawn cannot put a child into a cgroup): the same steps as the posix_spawn attributes and
// file actions of the other path. Only async-signal-safe calls: the agent has other threads.
struct ChildPlan {
  int stdin_fd = -1;  // onto fd 0; -1 for /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
  int report_fd = -1;  // onto fd 3 when set
  const char* working_directory = nullptr;
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
};

enum class ChildStep : int { setup = 1, working_directory = 2, exec = 3 };
struct ChildFailure {
  int step = 0;
  int error = 0;
};

// Without a cgroup: posix_spawn (vfork semantics: its cost does not grow with the agent's memory).
std::variant<pid_t, std::string> spawn_with_posix_spawn(const ChildPlan& plan) {
  SpawnSetup setup;
  // Own process group (pgid = pid) so that timeouts and cancels reach every descendant.
  // Default signal dispositions and an empty mask: the agent ignores SIGPIPE, its commands must not.
  sigset_t all_signals;
  sigset_t no_signals;
  sigfillset(&all_signals);
  sigemptyset(&no_signals);
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&setup.attributes, 0);
  posix_spawnattr_setsigdefault(&setup.attributes, &all_signals);
  posix_spawnattr_setsigmask(&setup.attributes, &no_signals);

  if (plan.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&setup.actions, plan.stdin_fd, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&setup.actions, plan.stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, plan.stderr_fd, STDERR_FILENO);
  constexpr int report_target = STDERR_FILENO + 1;
  if (plan.report_fd >= 0) posix_spawn_file_actions_adddup2(&setup.actions, plan.report_fd, report_target);
  // Nothing else of the agent's (its controller socket, journal files) leaks into commands.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, plan.report_fd >= 0 ? report_target + 1 : report_target);
  if (plan.working_directory) posix_spawn_file_actions_addchdir_np(&setup.actions, plan.working_directory);

  pid_t pid = -1;
  if (const int rc = ::posix_spawn(&pid, plan.path, &setup.actions, &setup.attributes, plan.argv, plan.envp); rc != 0) {
    if (plan.working_directory && rc == ENOENT) {
      if (auto problem = check_working_directory(plan.working_directory)) return *problem;
    }
    return fmt::format("cannot start {}: {}", plan.path, errno_text(rc));
  }
  return pid;
}

[[noreturn]] void run_child(const ChildPlan& plan, int failure_fd) {
  const auto fail = [failure_fd](ChildStep step) {
    const ChildFailure failure{static_cast<int>(step), errno};
    [[maybe_unused]] const auto ignored = ::write(failure_fd, &failure, sizeof failure);
    ::_exit(127);
  };
  if (::setpgid(0, 0) != 0) fail(ChildStep::setup);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);
  const int input = plan.stdin_fd >= 0 ? plan.stdin_fd : ::open("/dev/null", O_RDONLY);
  if (input < 0 || ::dup2(input, STDIN_FILENO) < 0) fail(ChildStep::setup);
  if (::dup2(plan.stdout_fd, STDOUT_FILENO) < 0 || ::dup2(plan.stderr_fd, STDERR_FILENO) < 0) fail(ChildStep::setup);
  constexpr int report_target = STDERR_FILENO + 1;
  if (plan.report_fd >= 0 && ::dup2(plan.report_fd, report_target) < 0) fail(ChildStep::setup);
  // Nothing else of the agent's leaks into the command. The failure pipe is close-on-exec.
  const unsigned first = plan.report_fd >= 0 ? report_target + 1 : report_target;
  if (static_cast<unsigned>(failure_fd) > first) ::close_range(first, static_cast<unsigned>(failure_fd) - 1, 0);
  ::close_range(static_cast<unsigned>(failure_fd) + 1, ~0U, 0);
  if (plan.working_directory && ::chdir(plan.working_directory) != 0) fail(ChildStep::working_directory);
  ::execve(plan.path, plan.argv, plan.envp);
  fail(ChildStep::exec);
  ::_exit(127);
}

// Starts the child in `cgroup_fd` and waits for its exec (the failure pipe reaches end-of-file)
// or for the step that failed. Returns the pid, or a readable error.
std::variant<pid_t, std::string> spawn_into_cgroup(int cgroup_fd, const ChildPlan& plan) {
  PipeEnds failure;
  if (auto problem = open_pipe(failure)) return *problem;
  // The child must not run the agent's signal handlers before it has reset them.
  sigset_t all_signals;
  sigset_t previous;
  sigfillset(&all_signals);
  ::pthread_sigmask(SIG_SETMASK, &all_signals, &previous);
  const pid_t pid = fork_into_cgroup(cgroup_fd);
  if (pid == 0) run_child(plan, failure.write);
  const int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) return fmt::format("cannot start {}: {}", plan.path, errno_text(clone_error));
  ::close(failure.write);
  failure.write = -1;

  ChildFailure report;
  ssize_t n = 0;
  do {
    n = ::read(failure.read, &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof report)) return pid;  // end-of-file: exec succeeded
  ::waitpid(pid, nullptr, 0);
  switch (static_cast<ChildStep>(report.step)) {
    case ChildStep::working_directory:
      if (auto problem = check_working_directory(plan.working_directory)) return *problem;
      return fmt::format("cannot enter working directory {}: {}", plan.working_directory, errno_text(report.error));
    case ChildStep::exec:
      return fmt::format("cannot start {}: {}", plan.path, errno_text(report.error));
    default:
      return fmt::format("cannot set up the command's process: {}", errno_text(report.error));
  }
}

}  // namespace

std::vector<std::string> command_environment(const char* const* base, const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (auto entry = base; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const auto key = text.substr(0, text.find('='));
    if (key == agent_secret_variable || extra.count(std::string(key))) continue;
    out.emplace_back(text);
  }
  for (const auto& [key, value] : extra) out.push_back(key + "=" + value);
  return out;
}

ProcessRunner::ProcessRunner(asio::any_io_executor executor, ProcessSpec spec)
    : executor_(executor),
      spec_(std::move(spec)),
      pipes_{Pipe(executor), Pipe(executor)},
      exit_watch_(executor),
      deadline_timer_(executor),
      kill_timer_(executor),
      drain_timer_(executor),
      cleanup_timer_(executor) {
  pipes_[0].stream = proto::Stream::stdout_stream;
  pipes_[1].stream = proto::Stream::stderr_stream;
}

ProcessRunner::~ProcessRunner() {
  // Nothing outlives the runner (the agent is stopping, or the owner let go early), and no zombie
  // is left behind: a runner dropped before its exit was observed still reaps.
  if (pid_ > 0 && !ended_) signal_all(SIGKILL);
  if (pid_ > 0 && !exited_) ::waitpid(pid_, nullptr, 0);
  if (spec_.cgroup && !ended_) {
    // SIGKILLed processes leave within moments; a cgroup still busy after that is removed by the
    // next agent process (OperationTable::recover).
    for (int attempt = 0; attempt < 40 && !spec_.cgroup->remove(); ++attempt) ::usleep(5000);
  }
  if (report_fd_ >= 0) ::close(report_fd_);
}

std::variant<ProcessIdentity, std::string> ProcessRunner::start(OutputHandler on_output, FinishHandler on_finish) {
  if (spec_.working_directory) {
    if (auto problem = check_working_directory(*spec_.working_directory)) return *problem;
  }

  std::array<PipeEnds, 2> ends;
  for (auto& end : ends) {
    if (auto problem = open_pipe(end)) return *problem;
  }
  PipeEnds input;
  if (spec_.stdin_data) {
    if (auto problem = open_pipe(input)) return *problem;
    if (auto problem = fill_pipe(input, *spec_.stdin_data)) return *problem;
  }
  PipeEnds report;
  if (spec_.report_pipe) {
    if (auto problem = open_pipe(report)) return *problem;
  }

  const auto environment = command_environment(environ, spec_.env);
  std::vector<char*> envp;
  envp.reserve(environment.size() + 1);
  for (const auto& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  std::vector<std::string> words = spec_.argv;
  if (words.empty()) words = {"/bin/sh", "-c", spec_.command};
  std::vector<char*> argv;
  argv.reserve(words.size() + 1);
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  ChildPlan plan;
  plan.stdin_fd = spec_.stdin_data ? input.read : -1;
  plan.stdout_fd = ends[0].write;
  plan.stderr_fd = ends[1].write;
  plan.report_fd = spec_.report_pipe ? report.write : -1;
  plan.working_directory = spec_.working_directory ? spec_.working_directory->c_str() : nullptr;
  plan.path = words[0].c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();

  started_at_ = std::chrono::steady_clock::now();
  auto spawned = spec_.cgroup ? spawn_into_cgroup(spec_.cgroup->directory_fd(), plan) : spawn_with_posix_spawn(plan);
  if (auto* problem = std::get_if<std::string>(&spawned)) return *problem;
  const pid_t pid = std::get<pid_t>(spawned);
  pid_ = pid;
  spec_.stdin_data.reset();  // it is in the pipe now; a secret is kept no longer than needed
  if (spec_.report_pipe) {
    ::fcntl(report.read, F_SETFL, O_NONBLOCK);
    report_fd_ = report.read;
    report.read = -1;
  }

  const int pidfd = open_pidfd(pid);
  if (pidfd < 0) {
    const int error = errno;
    signal_all(SIGKILL);
    ::waitpid(pid, nullptr, 0);
    exited_ = true;
    return fmt::format("cannot watch the command's process (pidfd_open: {})", errno_text(error));
  }
  exit_watch_.assign(pidfd);

  for (std::size_t i = 0; i < pipes_.size(); ++i) {
    ::close(ends[i].write);
    ends[i].write = -1;
    pipes_[i].descriptor.assign(ends[i].read);
    ends[i].read = -1;
    pipes_[i].buffer.resize(read_chunk_size);
  }

  ProcessIdentity identity;
  identity.pid = pid;
  identity.pgid = pid;
  identity.start_ticks = process_start_ticks(pid).value_or(0);

  on_output_ = std::move(on_output);
  on_finish_ = std::move(on_finish);
  wait_for_exit();
  for (auto& pipe : pipes_) read_from(pipe);
  deadline_timer_.expires_at(started_at_ + spec_.timeout);
  deadline_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) { self->on_deadline(error); });
  return identity;
}

void ProcessRunner::read_from(Pipe& pipe) {
  if (pipe.reading || pipe.at_eof || paused_ || finished_) return;
  pipe.reading = true;
  pipe.descriptor.async_read_some(
      asio::buffer(pipe.buffer),
      [self = shared_from_this(), &pipe](const boost::system::error_code& error, std::size_t size) {
        self->on_read(pipe, error, size);
      });
}

void ProcessRunner::on_read(Pipe& pipe, const boost::system::error_code& error, std::size_t size) {
  pipe.reading = false;
  if (finished_ || pipe.at_eof) return;
  if (size > 0) on_output_(pipe.stream, std::string_view(pipe.buffer.data(), size));
  if (finished_ || pipe.at_eof) return;  // the output handler may have aborted the command
  if (error) {
    // EOF, or a read error that no retry would fix: either way this stream is over.
    pipe.at_eof = true;
    boost::system::error_code ignored;
    pipe.descriptor.close(ignored);
    finish_if_done();
    return;
  }
  read_from(pipe);
}

void ProcessRunner::wait_for_exit() {
  exit_watch_.async_wait(asio::posix::stream_descriptor::wait_read,
                         [self = shared_from_this()](const boost::system::error_code& error) { self->on_exit_ready(error); });
}

void ProcessRunner::on_exit_ready(const boost::system::error_code& error) {
  if (error == asio::error::operation_aborted || exited_) return;
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == 0) {
    wait_for_exit();
    return;
  }
  exited_ = true;
  exited_at_ = std::chrono::steady_clock::now();
  wait_status_ = reaped == pid_ ? status : 0;
  boost::system::error_code ignored;
  exit_watch_.close(ignored);
  deadline_timer_.cancel();
  arm_drain_timer();
  finish_if_done();
}

void ProcessRunner::arm_drain_timer() {
  if (!exited_ || finished_ || paused_ || (pipes_[0].at_eof && pipes_[1].at_eof)) return;
  drain_timer_.expires_after(spec_.drain_limit);
  drain_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error || self->finished_ || self->paused_) return;
    // A background process still holds the pipes after the shell exited (see the header).
    self->signal_all(SIGKILL);
    self->close_pipes();
    self->finish_if_done();
  });
}

void ProcessRunner::on_deadline(const boost::system::error_code& error) {
  if (error || exited_ || finished_) return;
  stop_group(StopReason::timeout);
}

bool ProcessRunner::cancel() {
  if (exited_ || finished_ || stop_reason_ != StopReason::none) return false;
  stop_group(StopReason::canceled);
  return true;
}

void ProcessRunner::abort(std::string error) {
  if (finished_) return;
  stop_reason_ = StopReason::failed;
  failure_ = std::move(error);
  signal_all(SIGKILL);
  close_pipes();
  finish_if_done();
}

void ProcessRunner::stop_group(StopReason reason) {
  stop_reason_ = reason;
  terminate_all();
}

// SIGTERM now (SIGKILL without a grace period) and SIGKILL when the grace is over. Once only: the
// end of an operation that timed out keeps the clock its timeout started.
void ProcessRunner::terminate_all() {
  if (terminating_) return;
  terminating_ = true;
  signal_all(spec_.kill_grace > 0ms ? SIGTERM : SIGKILL);
  kill_timer_.expires_after(std::max(spec_.kill_grace, std::chrono::milliseconds(0)));
  kill_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error) return;
    self->grace_over_ = true;
    if (self->anything_left()) self->signal_all(SIGKILL);
    if (self->ending_) self->remove_cgroup_when_empty();
  });
}

void ProcessRunner::end_remaining() {
  if (ending_ || pid_ <= 0) return;
  ending_ = true;
  if (!terminating_) {
    // Most commands leave nothing behind: then there is nothing to wait for.
    if (!anything_left()) return remove_cgroup_when_empty();
    return terminate_all();
  }
  if (!grace_over_) return;  // the kill timer finishes the job
  if (anything_left()) signal_all(SIGKILL);
  remove_cgroup_when_empty();
}

// In cgroup mode every process of the command; else its process group. The group's number cannot
// be taken by another process while one of its members lives; once they are all gone a signal
// to it finds nobody (ESRCH), unless the number was reused meanwhile, which the kernel's pid
// allocation makes unlikely within a grace period.
void ProcessRunner::signal_all(int signal) {
  if (spec_.cgroup) {
    spec_.cgroup->signal_all(signal);
  } else if (pid_ > 0) {
    ::kill(-pid_, signal);
  }
}

bool ProcessRunner::anything_left() const {
  if (spec_.cgroup) return spec_.cgroup->populated();
  return pid_ > 0 && !(::kill(-pid_, 0) != 0 && errno == ESRCH);
}

// Called once nothing is left or everything left was SIGKILLed; those take a moment to go. A
// process stuck in the kernel (a hung NFS mount) may keep the cgroup for long: the runner gives up
// after about a minute, and the next agent process removes the cgroup (OperationTable::recover).
void ProcessRunner::remove_cgroup_when_empty() {
  if (ended_) return;
  if (!spec_.cgroup || spec_.cgroup->remove() || cleanup_attempts_ >= max_cleanup_attempts) {
    ended_ = true;
    return;
  }
  spec_.cgroup->signal_all(SIGKILL);  // also whatever was moved into the cgroup meanwhile
  const auto delay = std::min(std::chrono::milliseconds(5 << std::min(cleanup_attempts_, 8)), std::chrono::milliseconds(1000));
  ++cleanup_attempts_;
  cleanup_timer_.expires_after(delay);
  cleanup_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (!error) self->remove_cgroup_when_empty();
  });
}

void ProcessRunner::close_pipes() {
  for (auto& pipe : pipes_) {
    pipe.at_eof = true;
    boost::system::error_code ignored;
    pipe.descriptor.close(ignored);
  }
}

void ProcessRunner::pause_output() {
  paused_ = true;
  drain_timer_.cancel();
}

void ProcessRunner::resume_output() {
  if (!paused_) return;
  paused_ = false;
  for (auto& pipe : pipes_) read_from(pipe);
  arm_drain_timer();
}

// The report is read once, at the end: it is a few bytes that wait in the pipe, and waiting for
// its end-of-file could be held up by any descendant that kept fd 3 open.
void ProcessRunner::read_report() {
  if (report_fd_ < 0) return;
  char buffer[max_report_size];
  while (report_.size() < max_report_size) {
    const auto n = ::read(report_fd_, buffer, max_report_size - report_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report_.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(report_fd_);
  report_fd_ = -1;
}

void ProcessRunner::finish_if_done() {
  if (finished_ || !exited_ || !pipes_[0].at_eof || !pipes_[1].at_eof) return;
  finished_ = true;
  read_report();
  deadline_timer_.cancel();
  drain_timer_.cancel();  // the kill timer goes on: what it would SIGKILL may outlive the shell
  auto handler = std::move(on_finish_);
  on_output_ = nullptr;
  on_finish_ = nullptr;
  const auto result = outcome();
  // Delivered through the executor so that the caller never sees the outcome re-entrantly
  // (for example from inside its own call to abort()).
  asio::post(executor_, [handler = std::move(handler), result] { handler(result); });
}

ProcessOutcome ProcessRunner::outcome() const {
  ProcessOutcome out;
  out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(exited_at_ - started_at_).count();
  if (WIFSIGNALED(wait_status_)) out.signal = WTERMSIG(wait_status_);
  out.report = report_;
  const std::optional<int> exit_code =
      WIFEXITED(wait_status_) ? std::optional<int>(WEXITSTATUS(wait_status_)) : std::nullopt;
  switch (stop_reason_) {
    case StopReason::timeout:
      out.status = "timeout";
      out.exit_code = exit_code;
      out.error = fmt::format("command exceeded its timeout of {} s", spec_.timeout.count() / 1000);
      break;
    case StopReason::canceled:
      out.status = "canceled";
      out.exit_code = exit_code;
      out.error = "operation canceled";
      break;
    case StopReason::failed:
      out.status = "failed";
      out.error = failure_;
      break;
    case StopReason::none:
      out.status = "completed";
      // As shells report it: a command killed by signal N "exits" 128 + N.
      out.exit_code = exit_code ? *exit_code : 128 + WTERMSIG(wait_status_);
      break;
  }
  return out;
}

}  // namespace tether::agent
