#include "agent/process_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

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
      drain_timer_(executor) {
  pipes_[0].stream = proto::Stream::stdout_stream;
  pipes_[1].stream = proto::Stream::stderr_stream;
}

ProcessRunner::~ProcessRunner() {
  // Never leave a zombie behind: a runner dropped before its exit was observed still reaps.
  if (pid_ > 0 && !exited_) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
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

  if (spec_.stdin_data) {
    posix_spawn_file_actions_adddup2(&setup.actions, input.read, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&setup.actions, ends[0].write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, ends[1].write, STDERR_FILENO);
  constexpr int report_fd = STDERR_FILENO + 1;
  if (spec_.report_pipe) posix_spawn_file_actions_adddup2(&setup.actions, report.write, report_fd);
  // Nothing else of the agent's (its controller socket, journal files) leaks into commands.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, spec_.report_pipe ? report_fd + 1 : report_fd);
  if (spec_.working_directory) posix_spawn_file_actions_addchdir_np(&setup.actions, spec_.working_directory->c_str());

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

  pid_t pid = -1;
  started_at_ = std::chrono::steady_clock::now();
  if (const int rc = ::posix_spawn(&pid, words[0].c_str(), &setup.actions, &setup.attributes, argv.data(), envp.data());
      rc != 0) {
    if (spec_.working_directory && rc == ENOENT) {
      if (auto problem = check_working_directory(*spec_.working_directory)) return *problem;
    }
    return fmt::format("cannot start {}: {}", words[0], errno_text(rc));
  }
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
    ::kill(-pid, SIGKILL);
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
    self->signal_group(SIGKILL);
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
  signal_group(SIGKILL);
  close_pipes();
  finish_if_done();
}

void ProcessRunner::stop_group(StopReason reason) {
  stop_reason_ = reason;
  if (spec_.kill_grace <= 0ms) {
    signal_group(SIGKILL);
    return;
  }
  signal_group(SIGTERM);
  kill_timer_.expires_after(spec_.kill_grace);
  kill_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (!error && !self->finished_) self->signal_group(SIGKILL);
  });
}

void ProcessRunner::signal_group(int signal) {
  if (pid_ > 0) ::kill(-pid_, signal);
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
  kill_timer_.cancel();
  drain_timer_.cancel();
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
