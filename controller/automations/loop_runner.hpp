#pragma once
// Runs a loop's passes, whoever asks (its cadence or an operator's POST .../run), one at a time:
// - here: a pass asked for while one is running is not started (Outcome::busy);
// - across replicas: every pass holds a PostgreSQL advisory lock on the loop's key for its whole
//   length (session-level, so that a pass may commit many short transactions); a replica that
//   cannot take it does not run (Outcome::locked);
// - a paused loop (system_automations.paused, read with the lock) skips its cadence's passes;
//   an operator's run still runs it.
// Each pass's start, end, duration, error and metrics are written to system_automations; time comes
// from the injected clock. The database side is behind LoopBackend so that the state machine is
// tested without a database and without sleeping.
#include "common/clock.hpp"
#include "controller/automations/loop.hpp"

#include <mutex>
#include <optional>
#include <string>

namespace tether::automations {

enum class Trigger { cadence, manual };
enum class Outcome { ran, failed, paused, busy, locked };
std::string outcome_name(Outcome outcome);

class LoopBackend {
 public:
  struct Lock {
    bool taken = false;
    bool paused = false;
  };
  struct Record {
    Clock::time_point started, completed;
    std::optional<std::string> error;
    boost::json::object metrics;
  };
  virtual ~LoopBackend() = default;
  virtual Lock try_lock(const std::string& key) = 0;
  virtual void unlock(const std::string& key) = 0;
  virtual void record(const std::string& key, const Record& record) = 0;
  // What the pass is handed (its connection, if any).
  virtual PassContext context() = 0;
};

// LoopBackend on a pooled PostgreSQL connection.
class PgLoopBackend final : public LoopBackend {
 public:
  PgLoopBackend(pqxx::connection& connection, std::string instance)
      : connection_(connection), instance_(std::move(instance)) {}
  Lock try_lock(const std::string& key) override;
  void unlock(const std::string& key) override;
  void record(const std::string& key, const Record& record) override;
  PassContext context() override { return PassContext(&connection_, instance_); }

 private:
  pqxx::connection& connection_;
  std::string instance_;
};

struct RunResult {
  Outcome outcome = Outcome::ran;
  PassResult pass;    // when ran
  std::string error;  // when failed
};

// seed 001's derived state: running (a pass runs here), paused, degraded (the last pass failed),
// idle (a manual-only loop), else active.
std::string derive_state(const LoopSpec& spec, bool running, bool paused, bool last_failed);

class LoopRunner {
 public:
  LoopRunner(LoopSpec spec, Pass pass, const Clock& clock, std::string instance)
      : spec_(std::move(spec)), pass_(std::move(pass)), clock_(clock), instance_(std::move(instance)) {}

  const LoopSpec& spec() const { return spec_; }
  const std::string& instance() const { return instance_; }
  RunResult run(LoopBackend& backend, Trigger trigger);
  bool running() const;

 private:
  LoopSpec spec_;
  Pass pass_;
  const Clock& clock_;
  std::string instance_;
  mutable std::mutex mutex_;
  bool running_ = false;
};

}  // namespace tether::automations
