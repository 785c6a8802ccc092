// Issue 9: a job's env values are secrets. They reach the job's command, whether the run was
// triggered or scheduled, after the job was changed and after the controller restarted, and they
// are in no database row (pg_dump), no log of the controller or agent, no agent file and no API
// answer. The commands print the value's SHA-256, which proves it arrived without printing it.
#include "tests/e2e/jobs_checks.hpp"
#include "tests/e2e/secret_checks.hpp"

#include "tests/support/script_file.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;

namespace {

testing::TetherStack& secrecy_stack() {
  testing::StackOptions options;
  options.log_level = "trace";  // the most talkative setting must not leak either
  options.master_key = true;
  return shared_stack(options);
}

std::string new_secret() { return crypto::hex_encode(crypto::random_bytes(16)); }  // 32 hex digits

std::string unique(const std::string& base) {
  static int count = 0;
  return fmt::format("{}-{}", base, ++count);
}

const std::string kPrintHash = "printf %s \"$JOB_SECRET\" | sha256sum | cut -c1-64";

boost::json::object job_with_secret(const std::string& name, const std::string& command, const std::string& secret) {
  return {{"name", name},
          {"operation",
           {{"type", "exec"},
            {"params", {{"command", command}, {"timeout_seconds", 60}, {"env", {{"JOB_SECRET", secret}}}}}}},
          {"targets", testing::server_targets({secrecy_stack().server_id()})}};
}

void check_env_keys_only(const boost::json::object& job) {
  INFO(boost::json::serialize(job));
  const auto& operation = object_at(job, "operation");
  CHECK(operation.at("env_keys") == boost::json::array{"JOB_SECRET"});
  CHECK_FALSE(object_at(operation, "params").contains("env"));
}

// The run completed, and its one operation printed `expected_stdout` and kept the key name only.
void check_run_output(AutomationApi& api, const boost::json::object& run, const std::string& expected_stdout) {
  INFO("run " << boost::json::serialize(run));
  CHECK(string_field(run, "status") == "completed");
  const auto operations = run_operations(run);
  REQUIRE(operations.size() == 1);
  const auto view = operation_view(api, string_field(operations.front(), "id"));
  INFO("operation " << boost::json::serialize(view));
  CHECK(string_field(object_at(view, "result"), "stdout") == expected_stdout);
  CHECK(view.at("env_keys") == boost::json::array{"JOB_SECRET"});
}

// What an operator may read afterwards: the audit log and the run lists (kept by the client).
void read_everything(AutomationApi& api, const std::string& job_id) {
  api.get_job(job_id);
  api.list_jobs("limit=1000");
  api.job_runs(job_id);
  api.list_runs("limit=1000");
  const auto audit = api.call("GET", "/api/audit?limit=1000");
  INFO(describe(audit));
  CHECK(audit.status == 200);
}

void check_answers(const AutomationApi& api, const std::string& secret) {
  REQUIRE_FALSE(api.answers().empty());
  for (const auto& answer : api.answers()) {
    INFO("answer " << answer.substr(0, 400));
    CHECK_FALSE(contains_any(answer, encodings_of(secret)));
  }
}

boost::json::object trigger_and_wait(AutomationApi& api, const std::string& job_id) {
  const auto run_id = string_field(api.trigger_job(job_id), "id");
  return api.wait_for_run_end(run_id, 60s);
}

}  // namespace

TEST_CASE("a job's env value reaches its triggered command and is in no database row, log, agent file or API answer",
          "[e2e][jobs][secrets]") {
  auto& stack = secrecy_stack();
  AutomationApi api(stack);
  api.keep_answers();
  const auto secret = new_secret();
  const auto started = stack.dir() / unique("job-secret-started");
  const auto release = stack.dir() / unique("job-secret-release");
  // The command waits for the test after printing, so that the agent's files are looked at while
  // the operation that holds the value is live.
  const std::string command = kPrintHash + "; touch " + testing::shell_quote(started.string()) + "; " +
                              wait_for_file_snippet(release) + "; echo released";

  const auto job = api.create_job(job_with_secret(unique("secret-job"), command, secret));
  const auto job_id = string_field(job, "id");
  check_env_keys_only(job);
  check_env_keys_only(api.get_job(job_id));

  const auto run_id = string_field(api.trigger_job(job_id), "id");
  REQUIRE(testing::wait_until([&] { return std::filesystem::exists(started); }, 30s));
  {
    INFO("while the command runs");
    check_agent_files_hold_no_secret_while_live(stack, secret);
    const auto dump = stack.database().dump();
    CHECK(dump.find(job_id) != std::string::npos);  // the dump does hold the job
    CHECK(dump.find(run_id) != std::string::npos);  // and its run
    CHECK_FALSE(contains_any(dump, encodings_of(secret)));
  }
  std::ofstream(release).put('\n');

  const auto run = api.wait_for_run_end(run_id, 60s);
  check_run_output(api, run, crypto::sha256_hex(secret) + "\nreleased\n");
  read_everything(api, job_id);

  INFO("after the run ended");
  check_stored_nowhere(stack, secret);
  check_answers(api, secret);
}

TEST_CASE("a scheduled job's env value reaches its command and is stored, logged and answered nowhere",
          "[e2e][jobs][secrets]") {
  auto& stack = secrecy_stack();
  AutomationApi api(stack);
  api.keep_answers();
  const auto secret = new_secret();
  auto body = job_with_secret(unique("scheduled-secret-job"), kPrintHash, secret);
  const std::chrono::system_clock::time_point at =
      std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + 2s;
  body["schedule"] = {{"mode", "at"}, {"time", testing::rfc3339(at)}};
  const auto job = api.create_job(body);
  const auto job_id = string_field(job, "id");
  check_env_keys_only(job);

  const auto runs = api.wait_for_job_runs(
      job_id,
      [](const boost::json::array& runs) { return !runs.empty() && testing::run_ended(runs.front().as_object()); },
      30s, "its run ended");
  REQUIRE(runs.size() == 1);
  check_run_output(api, api.get_run(string_field(runs.front().as_object(), "id")), crypto::sha256_hex(secret) + "\n");
  read_everything(api, job_id);

  check_stored_nowhere(stack, secret);
  check_answers(api, secret);
}

TEST_CASE("a new env value set by PATCH replaces the old one, survives other changes and a controller restart, "
          "and neither value is stored anywhere",
          "[e2e][jobs][secrets]") {
  auto& stack = secrecy_stack();
  const auto old_secret = new_secret();
  const auto new_secret_value = new_secret();
  AutomationApi api(stack);
  api.keep_answers();

  const auto job = api.create_job(job_with_secret(unique("rotated-job"), kPrintHash, old_secret));
  const auto job_id = string_field(job, "id");
  check_run_output(api, trigger_and_wait(api, job_id), crypto::sha256_hex(old_secret) + "\n");

  const auto patched = api.patch_job(
      job_id, {{"operation",
                {{"type", "exec"},
                 {"params", {{"command", kPrintHash}, {"timeout_seconds", 60}, {"env", {{"JOB_SECRET", new_secret_value}}}}}}}});
  check_env_keys_only(patched);
  check_run_output(api, trigger_and_wait(api, job_id), crypto::sha256_hex(new_secret_value) + "\n");

  // A change of another field keeps the env.
  const auto renamed = api.patch_job(job_id, {{"name", unique("rotated-job-renamed")}});
  check_env_keys_only(renamed);
  check_run_output(api, trigger_and_wait(api, job_id), crypto::sha256_hex(new_secret_value) + "\n");
  read_everything(api, job_id);

  // The value is kept (encrypted) in the database, not in the controller's memory: a new
  // controller process still hands it to the command.
  stack.restart_controller();
  REQUIRE(testing::wait_until([&] { return stack.get_server(stack.server_id()).at("connected") == true; }, 30s));
  AutomationApi after_restart(stack);
  after_restart.keep_answers();
  check_run_output(after_restart, trigger_and_wait(after_restart, job_id), crypto::sha256_hex(new_secret_value) + "\n");
  read_everything(after_restart, job_id);

  for (const auto& secret : {old_secret, new_secret_value}) {
    INFO("secret " << secret.substr(0, 6) << "...");
    check_stored_nowhere(stack, secret);
    check_answers(api, secret);
    check_answers(after_restart, secret);
  }
}
