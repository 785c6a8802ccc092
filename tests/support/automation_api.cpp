#include "tests/support/automation_api.hpp"

#include "common/time.hpp"
#include "tests/support/api.hpp"
#include "tests/support/net.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <csignal>
#include <ctime>
#include <stdexcept>
#include <thread>

#ifndef TETHER_CONTROLLER_BINARY
#error "TETHER_CONTROLLER_BINARY must name the tether-controller executable"
#endif

namespace tether::testing {
namespace {

std::string tail(const std::string& text, std::size_t bytes = 4000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::string with_query(std::string target, const std::string& query) {
  if (!query.empty()) target += "?" + query;
  return target;
}

}  // namespace

// ---- time

std::int64_t epoch_micros(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
}

std::int64_t epoch_micros(const boost::json::value& value) {
  if (!value.is_string()) {
    throw std::runtime_error("not an RFC 3339 date-time string: " + boost::json::serialize(value));
  }
  const auto parsed = timeutil::parse_rfc3339(std::string_view(value.as_string()));
  if (!parsed) throw std::runtime_error("not an RFC 3339 date-time: " + boost::json::serialize(value));
  return epoch_micros(*parsed);
}

std::string rfc3339(std::chrono::system_clock::time_point when, bool micros) {
  const auto total = epoch_micros(when);
  std::int64_t seconds = total / 1'000'000;
  std::int64_t fraction = total % 1'000'000;
  if (fraction < 0) fraction += 1'000'000, --seconds;
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm parts{};
  ::gmtime_r(&t, &parts);
  std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", parts.tm_year + 1900, parts.tm_mon + 1,
                                 parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
  if (micros) text += fmt::format(".{:06}", fraction);
  return text + "Z";
}

// ---- bodies

boost::json::object exec_operation(const std::string& command, int timeout_seconds) {
  return {{"type", "exec"}, {"params", {{"command", command}, {"timeout_seconds", timeout_seconds}}}};
}

boost::json::object server_targets(const std::vector<std::string>& server_ids) {
  return {{"server_ids", boost::json::array(server_ids.begin(), server_ids.end())}};
}

boost::json::object tag_targets(const std::vector<std::string>& tags) {
  return {{"tags", boost::json::array(tags.begin(), tags.end())}};
}

// ---- reading answers

bool run_ended(const boost::json::object& run) {
  const auto status = string_field(run, "status");
  return status == "completed" || status == "failed" || status == "canceled";
}

const boost::json::object& object_at(const boost::json::object& obj, std::string_view key) {
  const auto* value = obj.if_contains(key);
  if (value == nullptr || !value->is_object()) {
    throw std::runtime_error(fmt::format("field '{}' missing or not an object in {}", key, boost::json::serialize(obj)));
  }
  return value->as_object();
}

const boost::json::array& array_at(const boost::json::object& obj, std::string_view key) {
  const auto* value = obj.if_contains(key);
  if (value == nullptr || !value->is_array()) {
    throw std::runtime_error(fmt::format("field '{}' missing or not an array in {}", key, boost::json::serialize(obj)));
  }
  return value->as_array();
}

std::optional<std::string> optional_string(const boost::json::object& obj, std::string_view key) {
  const auto* value = obj.if_contains(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_string()) {
    throw std::runtime_error(fmt::format("field '{}' is neither a string nor null in {}", key,
                                         boost::json::serialize(obj)));
  }
  return std::string(value->as_string());
}

std::vector<boost::json::object> objects(const boost::json::array& items) {
  std::vector<boost::json::object> out;
  for (const auto& item : items) {
    if (!item.is_object()) throw std::runtime_error("not an object: " + boost::json::serialize(item));
    out.push_back(item.as_object());
  }
  return out;
}

// ---- AutomationApi

AutomationApi::AutomationApi(TetherStack& stack) : AutomationApi(stack.client_options(), stack.admin_key()) {}

AutomationApi::AutomationApi(http::ClientOptions options, std::string key)
    : client_(std::move(options)), key_(std::move(key)) {}

http::Response AutomationApi::call(std::string_view method, std::string_view target, std::string_view body) {
  auto response = client_.request(method, target, body, {http::bearer(key_)});
  if (keep_answers_) answers_.push_back(response.body);
  return response;
}

http::Response AutomationApi::call(std::string_view method, std::string_view target, const boost::json::object& body) {
  return call(method, target, std::string_view(boost::json::serialize(body)));
}

boost::json::object AutomationApi::expect(const http::Response& response, unsigned status, std::string_view what) {
  if (response.status != status) {
    throw std::runtime_error(fmt::format("{}: expected HTTP {}, got {}", what, status, describe(response)));
  }
  return json_object(response);
}

boost::json::object AutomationApi::create_job(const boost::json::object& body) {
  auto answer = expect(call("POST", "/api/automation/jobs", body), 201, "POST /api/automation/jobs");
  return object_at(answer, "job");
}

boost::json::object AutomationApi::get_job(const std::string& job_id) {
  const auto target = "/api/automation/jobs/" + job_id;
  return object_at(expect(call("GET", target), 200, "GET " + target), "job");
}

boost::json::object AutomationApi::patch_job(const std::string& job_id, const boost::json::object& body) {
  const auto target = "/api/automation/jobs/" + job_id;
  return object_at(expect(call("PATCH", target, body), 200, "PATCH " + target), "job");
}

void AutomationApi::delete_job(const std::string& job_id) {
  const auto target = "/api/automation/jobs/" + job_id;
  const auto response = call("DELETE", target);
  if (response.status != 204) {
    throw std::runtime_error(fmt::format("DELETE {}: expected HTTP 204, got {}", target, describe(response)));
  }
}

boost::json::array AutomationApi::list_jobs(const std::string& query) {
  const auto target = with_query("/api/automation/jobs", query);
  return array_at(expect(call("GET", target), 200, "GET " + target), "jobs");
}

boost::json::object AutomationApi::trigger_job(const std::string& job_id) {
  const auto target = "/api/automation/jobs/" + job_id + "/trigger";
  return object_at(expect(call("POST", target), 201, "POST " + target), "run");
}

boost::json::array AutomationApi::job_runs(const std::string& job_id, const std::string& query) {
  const auto target = with_query("/api/automation/jobs/" + job_id + "/runs", query);
  return array_at(expect(call("GET", target), 200, "GET " + target), "runs");
}

boost::json::object AutomationApi::create_run(const boost::json::object& body) {
  return object_at(expect(call("POST", "/api/automation/runs", body), 201, "POST /api/automation/runs"), "run");
}

boost::json::object AutomationApi::get_run(const std::string& run_id) {
  const auto target = "/api/automation/runs/" + run_id;
  return object_at(expect(call("GET", target), 200, "GET " + target), "run");
}

boost::json::array AutomationApi::list_runs(const std::string& query) {
  const auto target = with_query("/api/automation/runs", query);
  return array_at(expect(call("GET", target), 200, "GET " + target), "runs");
}

http::Response AutomationApi::cancel_run(const std::string& run_id) {
  return call("POST", "/api/automation/runs/" + run_id + "/cancel");
}

boost::json::object AutomationApi::wait_for_run(const std::string& run_id,
                                                const std::function<bool(const boost::json::object&)>& done,
                                                std::chrono::milliseconds timeout, std::string_view what) {
  boost::json::object last;
  const bool reached = wait_until(
      [&] {
        last = get_run(run_id);
        return done(last);
      },
      timeout, std::chrono::milliseconds(100));
  if (!reached) {
    throw std::runtime_error(fmt::format("run {}: not {} after {} ms; last read as {}", run_id, what, timeout.count(),
                                         boost::json::serialize(last)));
  }
  return last;
}

boost::json::object AutomationApi::wait_for_run_end(const std::string& run_id, std::chrono::milliseconds timeout) {
  return wait_for_run(run_id, run_ended, timeout, "ended");
}

boost::json::array AutomationApi::wait_for_job_runs(const std::string& job_id,
                                                    const std::function<bool(const boost::json::array&)>& enough,
                                                    std::chrono::milliseconds timeout, std::string_view what) {
  boost::json::array last;
  const bool reached = wait_until(
      [&] {
        last = job_runs(job_id);
        return enough(last);
      },
      timeout, std::chrono::milliseconds(100));
  if (!reached) {
    throw std::runtime_error(fmt::format("job {}: {} not reached after {} ms; its runs: {}", job_id, what,
                                         timeout.count(), boost::json::serialize(last)));
  }
  return last;
}

// ---- keys

std::string create_operator_key(const TestDatabase& database, const std::string& name, const std::string& role) {
  auto result = run_command({TETHER_CONTROLLER_BINARY, "admin", "create-key", "--name", name, "--role", role,
                             "--database-url", database.url()},
                            std::chrono::seconds(60), {}, {"TETHER_"});
  std::string key = result.out;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (!result.succeeded() || key.rfind("tak_", 0) != 0 || key.find('\n') != std::string::npos) {
    throw std::runtime_error(fmt::format("tether-controller admin create-key --role {} failed ({}); stdout '{}'; {}",
                                         role, result.status.describe(), result.out, tail(result.err)));
  }
  return key;
}

// ---- ExtraController

ExtraController::ExtraController(const TetherStack& stack, const std::string& instance_id,
                                 std::vector<std::string> extra_args, const std::string& log_level)
    : port_(free_loopback_port()), log_path_(stack.dir() / ("controller-" + instance_id + ".log")) {
  if (!stack.ca_file().empty()) throw std::logic_error("ExtraController: TLS stacks are not supported");
  ProcessSpec spec;
  spec.argv = {TETHER_CONTROLLER_BINARY, "serve",     "--listen",    fmt::format("127.0.0.1:{}", port_),
               "--database-url",         stack.database().url(), "--log-level", log_level,
               "--instance-id",          instance_id};
  if (!stack.master_key_file().empty()) {
    spec.argv.insert(spec.argv.end(), {"--master-key-file", stack.master_key_file().string()});
  }
  spec.argv.insert(spec.argv.end(), extra_args.begin(), extra_args.end());
  spec.drop_env_prefixes = {"TETHER_"};
  spec.stdout_path = log_path_;
  process_ = std::make_unique<ChildProcess>(std::move(spec));

  const bool healthy = wait_until(
      [&] {
        if (!process_->running()) return true;  // reported below
        try {
          http::Client probe(client_options());
          return probe.get("/api/health").status == 200;
        } catch (const http::TransportError&) {
          return false;
        }
      },
      std::chrono::seconds(20), std::chrono::milliseconds(25));
  if (!process_->running()) {
    throw std::runtime_error(fmt::format("tether-controller {} exited ({}) during start-up:\n{}", instance_id,
                                         process_->kill_and_reap().describe(), tail(log())));
  }
  if (!healthy) {
    throw std::runtime_error(fmt::format("tether-controller {} did not answer /api/health within 20 s:\n{}",
                                         instance_id, tail(log())));
  }
}

ExtraController::~ExtraController() = default;  // ChildProcess kills and reaps

std::string ExtraController::base_url() const { return fmt::format("http://127.0.0.1:{}", port_); }

http::ClientOptions ExtraController::client_options() const {
  auto options = http::ClientOptions::from_url(base_url());
  options.timeout = std::chrono::seconds(30);
  return options;
}

std::string ExtraController::log() const { return read_file(log_path_); }

void ExtraController::stop() {
  if (!process_) return;
  process_->kill(SIGTERM);
  if (!process_->wait_for_exit(std::chrono::seconds(10))) process_->kill_and_reap();
}

}  // namespace tether::testing
