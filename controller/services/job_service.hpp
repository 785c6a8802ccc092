#pragma once
// Jobs: saved operations with targets, an optional schedule and the policies of their firings.
// A job's env values are sealed with the master key before they are stored and are never
// returned; the next due time is computed here whenever the schedule or the job changes.
#include "common/clock.hpp"
#include "common/schedule_spec.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/runs/fanout.hpp"
#include "controller/services/secret_box.hpp"
#include "controller/store/job_store.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::services {

// A job as its creator declares it (validated by the API layer's parser).
struct JobSpec {
  std::string name;
  bool enabled = true;
  std::optional<schedule::Spec> schedule;  // none: fired only by hand (or, later, by triggers)
  std::string timezone = "UTC";
  runs::AdHocRun run;  // operation (env values in clear), targets, rate, retry
  std::optional<int> fire_limit_max;
  std::optional<std::string> fire_limit_window;  // a duration, e.g. "1h"
  std::string overlap_policy = "skip";           // skip | allow | queue | cancel_previous
  int misfire_grace_seconds = 60;
  std::string catch_up_policy = "skip";  // skip | run_once | run_all
  // Each run waits as pending_approval until approved (by one of `approvers`, usernames of
  // existing users; none listed: any operator or admin but the one who asked for the run).
  bool requires_approval = false;
  std::vector<std::string> approvers;
};

class Jobs {
 public:
  Jobs(const Clock& clock, const SecretBox& secrets) : clock_(clock), secrets_(secrets) {}

  store::JobRecord create(pqxx::transaction_base& txn, const auth::Operator& actor, const JobSpec& spec,
                          const std::string& client_ip) const;
  // Replaces the job's declaration with `spec`; with keep_env the stored env values stay (the
  // change did not name them). A changed schedule is counted again from now.
  store::JobRecord update(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                          const JobSpec& spec, bool keep_env, const std::string& client_ip) const;
  void remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
              const std::string& client_ip) const;
  store::JobRecord get(pqxx::transaction_base& txn, const std::string& id) const;
  // One page, newest first.
  store::Page<store::JobRecord> list(pqxx::transaction_base& txn, const std::optional<std::string>& source,
                                     const store::PageRequest& page) const;

 private:
  void fill(store::JobRecord& job, const JobSpec& spec, bool keep_env) const;
  const Clock& clock_;
  const SecretBox& secrets_;
};

// The schedule a stored job declares (nullopt: manual only), and its zone.
std::optional<schedule::Spec> schedule_of(const store::JobRecord& job);
// The first due time of the job's schedule strictly after `after`, counted from its anchor.
std::optional<Clock::time_point> next_due_of(const store::JobRecord& job, Clock::time_point after);

}  // namespace tether::services
