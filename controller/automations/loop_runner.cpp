#include "controller/automations/loop_runner.hpp"

#include "controller/store/sql_text.hpp"
#include "controller/store/system_automation_store.hpp"

#include <spdlog/spdlog.h>

namespace tether::automations {

std::string outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::ran: return "ran";
    case Outcome::failed: return "failed";
    case Outcome::paused: return "paused";
    case Outcome::busy: return "busy";
    case Outcome::locked: return "locked";
  }
  return "unknown";
}

LoopBackend::Lock PgLoopBackend::try_lock(const std::string& key) {
  const auto attempt = store::system_automations::try_lock(connection_, key);
  return {attempt.locked, attempt.paused};
}

void PgLoopBackend::unlock(const std::string& key) { store::system_automations::unlock(connection_, key); }

void PgLoopBackend::record(const std::string& key, const Record& record) {
  pqxx::work txn(connection_);
  store::system_automations::record_pass(
      txn, {key, instance_, record.started, record.completed, record.error, boost::json::serialize(record.metrics)});
  txn.commit();
}

std::string derive_state(const LoopSpec& spec, bool running, bool paused, bool last_failed) {
  if (running) return "running";
  if (paused && spec.pausable) return "paused";
  if (last_failed) return "degraded";
  if (!spec.scheduled) return "idle";
  return "active";
}

bool LoopRunner::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

RunResult LoopRunner::run(LoopBackend& backend, Trigger trigger) {
  {
    std::lock_guard lock(mutex_);
    if (running_) return {Outcome::busy, {}, {}};
    running_ = true;
  }
  struct Done {
    LoopRunner& runner;
    ~Done() {
      std::lock_guard lock(runner.mutex_);
      runner.running_ = false;
    }
  } done{*this};

  const auto lock = backend.try_lock(spec_.key);
  if (!lock.taken) return {Outcome::locked, {}, {}};
  struct Unlock {
    LoopBackend& backend;
    const std::string& key;
    ~Unlock() {
      try {
        backend.unlock(key);
      } catch (const std::exception& e) {
        // A broken connection releases its locks with it.
        spdlog::warn("event=automation_unlock_failed key={} error=\"{}\"", key, e.what());
      }
    }
  } unlock{backend, spec_.key};
  if (lock.paused && spec_.pausable && trigger == Trigger::cadence) return {Outcome::paused, {}, {}};

  LoopBackend::Record record;
  RunResult result;
  record.started = clock_.now();
  try {
    result.pass = pass_(backend.context());
    record.metrics = result.pass.metrics;
  } catch (const std::exception& e) {
    result.outcome = Outcome::failed;
    result.error = e.what();
    record.error = e.what();
    spdlog::warn("event=automation_failed key={} error=\"{}\"", spec_.key, e.what());
  }
  record.completed = clock_.now();
  backend.record(spec_.key, record);
  // Both ends are read while the lock is held: across replicas, these intervals never overlap.
  spdlog::debug("event=automation_pass key={} instance={} started_us={} ended_us={} outcome={}", spec_.key,
                instance_, store::epoch_micros(record.started), store::epoch_micros(record.completed),
                outcome_name(result.outcome));
  return result;
}

}  // namespace tether::automations
