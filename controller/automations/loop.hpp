#pragma once
// A background loop of the controller as seed 001 shows it ("automation"): declared once, with
// its key, words and abilities, and the pass it runs. LoopRunner (loop_runner.hpp) runs passes.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace tether::automations {

struct LoopSpec {
  std::string key;            // stable, e.g. "job-scheduler"
  std::string name;           // "Job Scheduler"
  std::string description;
  std::string domain;         // "jobs", "operations", "servers", "users", "webhooks", "retention", "agents"
  std::string cadence_label;  // "Every 1s", "Manual maintenance"
  bool scheduled = true;      // runs on a cadence; false: manual only
  bool pausable = true;
  bool triggerable = true;
  std::chrono::milliseconds period{0};    // between cadence passes (scheduled loops)
  std::chrono::milliseconds first_in{0};  // the first cadence pass after start-up
};

// What a pass is given: the database connection of the worker it runs on (passes open their own
// transactions on it, as short as they like) and this controller's instance id.
class PassContext {
 public:
  PassContext(pqxx::connection* connection, std::string instance)
      : connection_(connection), instance_(std::move(instance)) {}
  pqxx::connection& connection() const {
    if (!connection_) throw std::logic_error("this pass has no database connection");
    return *connection_;
  }
  const std::string& instance() const { return instance_; }

 private:
  pqxx::connection* connection_;
  std::string instance_;
};

struct PassResult {
  boost::json::object metrics;                       // this pass's own figures
  bool more = false;                                 // a full batch was done: run again at once
  std::optional<std::chrono::milliseconds> next_in;  // run again sooner than the cadence
};

using Pass = std::function<PassResult(const PassContext&)>;

}  // namespace tether::automations
