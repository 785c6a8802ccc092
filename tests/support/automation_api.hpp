#pragma once
// The jobs and runs API (/api/automation/jobs, /api/automation/runs) for end-to-end tests: a
// client that unwraps the {"job": ...} / {"run": ...} answers and follows runs to their end,
// operator keys of any role, and a second tether-controller on a stack's database.
#include "common/http_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/tether_stack.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::testing {

// ---- time

// Microseconds since the Unix epoch of an RFC 3339 date-time (a JSON string); throws
// std::runtime_error when the value is not one.
std::int64_t epoch_micros(const boost::json::value& value);
std::int64_t epoch_micros(std::chrono::system_clock::time_point when);
// RFC 3339 in UTC: whole seconds ("2026-12-01T18:00:00Z") or with microseconds.
std::string rfc3339(std::chrono::system_clock::time_point when, bool micros = false);

// ---- bodies

// {"type":"exec","params":{"command":…,"timeout_seconds":…}}
boost::json::object exec_operation(const std::string& command, int timeout_seconds = 60);
// {"server_ids":[…]} / {"tags":[…]}
boost::json::object server_targets(const std::vector<std::string>& server_ids);
boost::json::object tag_targets(const std::vector<std::string>& tags);

// ---- reading answers

// A run has ended once it is completed, failed or canceled.
bool run_ended(const boost::json::object& run);
// obj[key] as an object / array; throws naming the key when absent or of another kind.
const boost::json::object& object_at(const boost::json::object& obj, std::string_view key);
const boost::json::array& array_at(const boost::json::object& obj, std::string_view key);
// obj[key] when it is a string, nullopt when it is absent or null (throws for another kind).
std::optional<std::string> optional_string(const boost::json::object& obj, std::string_view key);
// The objects of an array (throws when an element is not an object).
std::vector<boost::json::object> objects(const boost::json::array& items);

// A client of the jobs and runs routes with one operator key. Every method but call() throws
// std::runtime_error with the answer when the status is not the documented one.
class AutomationApi {
 public:
  // The stack's controller with its admin key.
  explicit AutomationApi(TetherStack& stack);
  AutomationApi(http::ClientOptions options, std::string key);

  // Any request with this client's key (a JSON body is serialized).
  http::Response call(std::string_view method, std::string_view target, std::string_view body = {});
  http::Response call(std::string_view method, std::string_view target, const boost::json::object& body);

  // POST /api/automation/jobs → 201 {"job": JOB}; returns JOB.
  boost::json::object create_job(const boost::json::object& body);
  // GET /api/automation/jobs/{id} → 200 {"job": JOB}.
  boost::json::object get_job(const std::string& job_id);
  // PATCH /api/automation/jobs/{id} → 200 {"job": JOB}.
  boost::json::object patch_job(const std::string& job_id, const boost::json::object& body);
  // DELETE /api/automation/jobs/{id} → 204.
  void delete_job(const std::string& job_id);
  // GET /api/automation/jobs[?query] → {"jobs": […]}.
  boost::json::array list_jobs(const std::string& query = {});
  // POST /api/automation/jobs/{id}/trigger → 201 {"run": RUN}.
  boost::json::object trigger_job(const std::string& job_id);
  // GET /api/automation/jobs/{id}/runs[?query] → {"runs": […]} (newest first).
  boost::json::array job_runs(const std::string& job_id, const std::string& query = "limit=1000");
  // POST /api/automation/runs → 201 {"run": RUN} (an ad hoc fan-out).
  boost::json::object create_run(const boost::json::object& body);
  // GET /api/automation/runs/{id} → {"run": RUN}, with its attempts and operations.
  boost::json::object get_run(const std::string& run_id);
  // GET /api/automation/runs[?query] → {"runs": […]}.
  boost::json::array list_runs(const std::string& query = {});
  // POST /api/automation/runs/{id}/cancel (any answer).
  http::Response cancel_run(const std::string& run_id);

  // Polls GET /runs/{id} until the run has ended; throws with the last answer when it has not
  // after `timeout`.
  boost::json::object wait_for_run_end(const std::string& run_id, std::chrono::milliseconds timeout);
  // Polls GET /runs/{id} until `done(run)`; throws with the last answer on timeout.
  boost::json::object wait_for_run(const std::string& run_id, const std::function<bool(const boost::json::object&)>& done,
                                   std::chrono::milliseconds timeout, std::string_view what);
  // Polls the job's runs (GET /jobs/{id}/runs?limit=1000) until `enough(runs)`; returns them.
  // Throws with the last list on timeout.
  boost::json::array wait_for_job_runs(const std::string& job_id,
                                       const std::function<bool(const boost::json::array&)>& enough,
                                       std::chrono::milliseconds timeout, std::string_view what);

  // Keep every response body from now on (for checks that a secret is in none of them).
  void keep_answers(bool keep = true) { keep_answers_ = keep; }
  const std::vector<std::string>& answers() const { return answers_; }

 private:
  boost::json::object expect(const http::Response& response, unsigned status, std::string_view what);

  http::Client client_;
  std::string key_;
  bool keep_answers_ = false;
  std::vector<std::string> answers_;
};

// `tether-controller admin create-key --role <role>` on `database`: a tak_ key of that role
// (viewer, operator or admin). Throws with the command's output when it fails.
std::string create_operator_key(const TestDatabase& database, const std::string& name, const std::string& role);

// One more tether-controller on the database of `stack` (which must not use TLS): its own port
// on 127.0.0.1 and --instance-id, the stack's master key file when it has one. Healthy when the
// constructor returns; killed (SIGKILL) on destruction unless stopped before.
class ExtraController {
 public:
  ExtraController(const TetherStack& stack, const std::string& instance_id,
                  std::vector<std::string> extra_args = {}, const std::string& log_level = "info");
  ~ExtraController();
  ExtraController(const ExtraController&) = delete;
  ExtraController& operator=(const ExtraController&) = delete;

  std::uint16_t port() const { return port_; }
  std::string base_url() const;
  http::ClientOptions client_options() const;
  std::string log() const;
  // SIGTERM, then SIGKILL when it is still running after 10 s.
  void stop();

 private:
  std::uint16_t port_ = 0;
  std::filesystem::path log_path_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace tether::testing
