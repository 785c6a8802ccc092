#pragma once
// One firing of a trigger's job, whatever set it off (a controller event or a webhook delivery):
// the event's fields become TETHER_EVENT_* environment values of the run, a deploy job's
// commit_ref may come from one of them, and the trigger's retry policy and fire limit apply. A
// firing that cannot run (disabled job, a commit_ref field missing or not a valid ref, fire limit,
// chain too deep) is recorded as a run canceled with the reason, so that it is visible.
#include "controller/runs/fanout.hpp"
#include "controller/store/trigger_store.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace tether::events {

struct Firing {
  const boost::json::value& fields;       // what the filter matched and commit_ref_from reads
  std::map<std::string, std::string> env;  // TETHER_EVENT_* from the fields
  std::optional<std::int64_t> event_id;
  int chain_depth = 1;
  std::optional<std::string> fire_id;
};

// nullopt when the job is gone.
std::optional<runs::Created> fire_trigger(pqxx::transaction_base& txn, runs::Fanout& fanout,
                                          const store::TriggerRecord& trigger, const Firing& firing,
                                          runs::FanOut fan_out);

}  // namespace tether::events
