#pragma once
// Runs one command as `/bin/sh -c <command>` (or a program with its own argv, no shell) in its own
// process group (and, when given one, its operation's cgroup) and reports, on the io_context, each
// piece of output as it is read and then exactly one outcome.
//
// When the command is over: the operation ends once the shell has exited AND both pipes have
// reached end-of-file. A background process that keeps the pipes open may hold them for at most
// `drain_limit` (2 s) after the shell exited; then the command's other processes are SIGKILLed and
// the pipes are closed (output it wrote after that is lost, the outcome is unchanged). While output
// reading is paused for back-pressure that clock does not run, so no buffered output is dropped.
//
// Nothing outlives its operation: end_remaining() (which the owner calls once it is done with the
// outcome) sends SIGTERM to whatever the command left running, and SIGKILL after `kill_grace`.
// With a cgroup that is every process the command started, whatever it did to its session or
// process group; without one it is the process group (a process that called setsid escapes).
// Dropping the runner SIGKILLs what is left at once.
#include "agent/operation_cgroups.hpp"
#include "agent/process_identity.hpp"
#include "proto/output_frame.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tether::agent {

struct ProcessSpec {
  std::string command;            // run as `/bin/sh -c <command>` ...
  std::vector<std::string> argv;  // ... unless this is set: argv[0] (a path) runs with these words, no shell
  std::optional<std::string> working_directory;
  std::map<std::string, std::string> env;  // added to (and overriding) the agent's environment
  // The command's stdin: this text through a pipe that is closed after it, else /dev/null. The
  // pipe is filled before the spawn, so a secret passed this way never waits in agent memory
  // for the command to read it, and never appears in argv or the environment.
  std::optional<std::string> stdin_data;
  // A pipe on fd 3 for a short report from the command to the agent (the deploy script names the
  // commit it checked out there); it arrives in ProcessOutcome::report.
  bool report_pipe = false;
  // The operation's cgroup: the command is born in it (see operation_cgroups.hpp). Without one the
  // process group is all the runner can reach.
  std::shared_ptr<OperationCgroup> cgroup;
  std::chrono::milliseconds timeout{60'000};
  std::chrono::milliseconds kill_grace{5'000};
  std::chrono::milliseconds drain_limit{2'000};
};

struct ProcessOutcome {
  std::string status;  // completed | timeout | canceled | failed
  std::optional<int> exit_code;
  std::int64_t duration_ms = 0;
  std::optional<std::string> error;
  std::optional<int> signal;  // the signal that ended the command, when one did
  std::string report;         // what the command wrote to fd 3 (ProcessSpec::report_pipe), at most 4 KiB
};

inline constexpr std::size_t max_report_size = 4096;
// The largest stdin_data a command can be given (the pipe is filled before the spawn).
inline constexpr std::size_t max_stdin_size = 65536;

// The environment a command gets: the agent's own (minus TETHER_TOKEN, the agent's secret)
// with `extra` added on top. Entries are "KEY=VALUE".
std::vector<std::string> command_environment(const char* const* base, const std::map<std::string, std::string>& extra);

class ProcessRunner : public std::enable_shared_from_this<ProcessRunner> {
 public:
  using OutputHandler = std::function<void(proto::Stream, std::string_view)>;
  using FinishHandler = std::function<void(const ProcessOutcome&)>;

  ProcessRunner(boost::asio::any_io_executor executor, ProcessSpec spec);
  ~ProcessRunner();
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  // Spawns the command. On success the handlers are later called on the executor (output any
  // number of times, finish exactly once, nothing after finish). On failure (bad working
  // directory, spawn error) returns a readable error and never calls the handlers.
  std::variant<ProcessIdentity, std::string> start(OutputHandler on_output, FinishHandler on_finish);

  // SIGTERM to the command's processes, SIGKILL after the grace period; the outcome is `canceled`.
  // Returns false when the command has already exited or is already being stopped.
  bool cancel();
  // SIGKILL to the command's processes now and stop reading; the outcome is `failed` with `error`.
  void abort(std::string error);

  // After the outcome: SIGTERM to every process the command left (at once; nothing when none is
  // left), SIGKILL after the grace period, then its cgroup is removed. The runner keeps itself
  // alive until then. A stop already under way (timeout, cancel) keeps its own clock.
  void end_remaining();

  // Back-pressure: stop / resume reading the pipes (a paused command blocks once they are full).
  void pause_output();
  void resume_output();
  bool output_paused() const { return paused_; }

 private:
  enum class StopReason { none, timeout, canceled, failed };
  struct Pipe {
    explicit Pipe(const boost::asio::any_io_executor& executor) : descriptor(executor) {}
    boost::asio::posix::stream_descriptor descriptor;
    proto::Stream stream = proto::Stream::stdout_stream;
    std::vector<char> buffer;
    bool reading = false;
    bool at_eof = false;
  };

  void read_from(Pipe& pipe);
  void on_read(Pipe& pipe, const boost::system::error_code& error, std::size_t size);
  void wait_for_exit();
  void on_exit_ready(const boost::system::error_code& error);
  void on_deadline(const boost::system::error_code& error);
  void stop_group(StopReason reason);
  void terminate_all();
  void signal_all(int signal);
  bool anything_left() const;
  void remove_cgroup_when_empty();
  void arm_drain_timer();
  void close_pipes();
  void read_report();
  void finish_if_done();
  ProcessOutcome outcome() const;

  boost::asio::any_io_executor executor_;
  ProcessSpec spec_;
  OutputHandler on_output_;
  FinishHandler on_finish_;

  pid_t pid_ = -1;
  std::array<Pipe, 2> pipes_;
  boost::asio::posix::stream_descriptor exit_watch_;  // pidfd: readable once the shell has exited
  int report_fd_ = -1;                                // read end of the fd 3 pipe, non-blocking
  std::string report_;
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer kill_timer_;
  boost::asio::steady_timer drain_timer_;
  boost::asio::steady_timer cleanup_timer_;

  std::chrono::steady_clock::time_point started_at_;
  std::chrono::steady_clock::time_point exited_at_;
  bool exited_ = false;
  int wait_status_ = 0;
  bool paused_ = false;
  bool finished_ = false;
  StopReason stop_reason_ = StopReason::none;
  bool terminating_ = false;  // SIGTERM sent, SIGKILL follows when the grace is over
  bool grace_over_ = false;   // the kill timer fired
  bool ending_ = false;       // end_remaining() was called
  bool ended_ = false;        // nothing is left and the cgroup is removed
  int cleanup_attempts_ = 0;
  static constexpr int max_cleanup_attempts = 70;
  std::string failure_;
};

}  // namespace tether::agent
