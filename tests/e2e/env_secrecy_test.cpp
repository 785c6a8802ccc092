// Env values of an exec reach the command and are written nowhere: not the database, not a log,
// not the agent's state dir (journal, spool). Keys and tokens likewise stay out of logs and the
// database in clear.
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/secret_checks.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/wait.hpp"

#include <filesystem>
#include <fstream>

using namespace tether;
using namespace tether::e2e;
using testing::exec;

namespace {

testing::TetherStack& verbose_stack() {
  testing::StackOptions options;
  options.log_level = "trace";  // the most talkative setting must not leak either
  options.sync_wait_cap_seconds = 1;
  return shared_stack(options);
}

}  // namespace

TEST_CASE("an env value reaches the command and appears in no database row, log or agent file",
          "[e2e][secrets]") {
  auto& stack = verbose_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  const std::string secret = "e2e-secret-" + crypto::hex_encode(crypto::random_bytes(16));
  const auto forms = encodings_of(secret);
  const auto started = stack.dir() / "secret-started";
  const auto release = stack.dir() / "secret-release";
  // The command proves it saw the value by printing its hash, then waits so the journal and
  // spool can be inspected while the operation is live.
  auto request = exec_body(stack.server_id(),
                           "printf %s \"$DEPLOY_TOKEN\" | sha256sum | cut -c1-64; touch " + started.string() +
                               "; " + wait_for_file_snippet(release) + "; echo released");
  request["env"] = {{"DEPLOY_TOKEN", secret}, {"OTHER", "plain-value"}};
  request["timeout_seconds"] = 60;
  const auto response = exec(client, key.key, request);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  REQUIRE(string_field(body, "status") == "running");  // held by the release file
  const std::string operation_id = string_field(body, "operation_id");
  REQUIRE(testing::wait_until([&] { return std::filesystem::exists(started); }, std::chrono::seconds(20)));

  {
    INFO("while the command runs");
    int files_read = 0;
    CHECK(files_containing(stack.agent().state_dir, forms, files_read).empty());
    CHECK(files_read > 0);  // the journal holds the live operation, so something was read
    const std::string dump = stack.database().dump();
    CHECK(dump.find(operation_id) != std::string::npos);  // the dump does hold the operation
    CHECK_FALSE(contains_any(dump, forms));
  }

  { std::ofstream touch(release); }
  const auto finished = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(30));
  REQUIRE(string_field(finished, "status") == "completed");
  const auto& result = finished.at("result").as_object();
  CHECK(string_field(result, "stdout") == crypto::sha256_hex(secret) + "\nreleased\n");

  {
    INFO("after the command ended");
    int files_read = 0;
    CHECK(files_containing(stack.agent().state_dir, forms, files_read).empty());
    CHECK_FALSE(contains_any(stack.database().dump(), forms));
    const std::string controller_log = stack.controller_log();
    const std::string agent_log = stack.agent_log();
    CHECK_FALSE(controller_log.empty());
    CHECK_FALSE(agent_log.empty());
    CHECK_FALSE(contains_any(controller_log, forms));
    CHECK_FALSE(contains_any(agent_log, forms));
  }
}

TEST_CASE("admin keys, automation keys and agent tokens are stored hashed and never logged", "[e2e][secrets]") {
  auto& stack = verbose_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  // Use each secret once so that every authentication path has run.
  const auto response = exec(client, key.key, exec_body(stack.server_id(), "true"));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  REQUIRE(stack.admin("GET", "/api/servers").status == 200);

  const std::string dump = stack.database().dump();
  const std::string logs = stack.controller_log() + stack.agent_log();
  for (const auto& secret : {stack.admin_key(), key.key, stack.agent().token}) {
    INFO("secret " << secret.substr(0, 8) << "...");
    CHECK_FALSE(contains_any(dump, encodings_of(secret)));
    CHECK_FALSE(contains_any(logs, encodings_of(secret)));
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(stack.agent().state_dir)) {
    if (!entry.is_regular_file()) continue;
    INFO("agent file " << entry.path());
    CHECK(testing::read_file(entry.path()).find(stack.agent().token) == std::string::npos);
  }
}
