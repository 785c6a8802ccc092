// Registry credentials and login/logout. The password is sealed with the controller's master key,
// never returned, and reaches the container runtime on stdin only: not its argv, a log, the
// database in clear, or the agent's state dir. The runtime is a script that records its argv and
// stdin; its logout fails, as a logout of a registry one is not logged in to does.
#include "tests/e2e/ci_api.hpp"
#include "tests/e2e/secret_checks.hpp"

#include "tests/e2e/runtime_stack.hpp"
#include "tests/support/wait.hpp"

#include <openssl/crypto.h>
#include <pqxx/pqxx>

using namespace tether;
using namespace tether::e2e;

namespace {

RecordingRuntimeStack& registry_stack() {
  static RecordingRuntimeStack shared([](testing::StackOptions& options) {
    options.master_key = true;
    options.log_level = "trace";  // the most talkative setting must not leak the password either
  });
  return shared;
}

bool mentions(const std::string& text, const std::string& secret) { return contains_any(text, encodings_of(secret)); }

std::string bytes_of_hex(const std::string& hex) {
  long length = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> buffer(OPENSSL_hexstr2buf(hex.c_str(), &length),
                                                         [](void* p) { OPENSSL_free(p); });
  if (!buffer) throw std::invalid_argument("not hex: " + hex);
  return std::string(reinterpret_cast<const char*>(buffer.get()), static_cast<std::size_t>(length));
}

// What the credential's row holds, opened with the controller's master key (AES-256-GCM): the
// password is stored sealed with that key, not merely absent from the dump.
std::string open_stored_password(testing::TetherStack& stack, const std::string& credential_id) {
  pqxx::connection connection(stack.database().url());
  pqxx::read_transaction txn(connection);
  const auto row = txn.exec_params1("SELECT password_encrypted FROM registry_credentials WHERE id = $1", credential_id);
  return crypto::open(bytes_of_hex(stack.master_key()), pqxx::binarystring(row[0]).str());
}

}  // namespace

TEST_CASE("registry credentials: created, listed, read, patched and deleted without ever returning the password",
          "[e2e][registry][operator]") {
  auto& stack = registry_stack().stack;
  const std::string password = new_registry_password();
  const auto created_response = stack.admin("POST", "/api/registry-credentials",
                                            boost::json::serialize(boost::json::object{{"name", "docker-hub"},
                                                                                       {"registry_url", "docker.io"},
                                                                                       {"registry_type", "dockerhub"},
                                                                                       {"username", "deployer"},
                                                                                       {"password", password}}));
  INFO(describe(created_response));
  REQUIRE(created_response.status == 201);
  CHECK_FALSE(mentions(created_response.body, password));
  const auto created = json_object(created_response);
  const std::string id = string_field(created, "id");
  CHECK(string_field(created, "name") == "docker-hub");
  CHECK(string_field(created, "registry_url") == "docker.io");
  CHECK(string_field(created, "registry_type") == "dockerhub");
  CHECK(string_field(created, "username") == "deployer");
  CHECK(created.at("password_set") == boost::json::value(true));
  CHECK(created.if_contains("password") == nullptr);
  CHECK(is_rfc3339_utc(created.at("created_at")));
  CHECK(open_stored_password(stack, id) == password);

  const auto one = stack.admin("GET", "/api/registry-credentials/" + id);
  REQUIRE(one.status == 200);
  CHECK(json_object(one) == created);
  const auto list = stack.admin("GET", "/api/registry-credentials");
  REQUIRE(list.status == 200);
  CHECK_FALSE(mentions(list.body, password));
  bool listed = false;
  const auto credentials = json_object(list);
  for (const auto& entry : array_field(credentials, "credentials")) {
    listed = listed || entry.as_object() == created;
  }
  CHECK(listed);

  const std::string new_password = new_registry_password();
  const auto patched_response =
      stack.admin("PATCH", "/api/registry-credentials/" + id,
                  boost::json::serialize(boost::json::object{{"username", "deployer2"}, {"password", new_password}}));
  INFO(describe(patched_response));
  REQUIRE(patched_response.status == 200);
  CHECK_FALSE(mentions(patched_response.body, new_password));
  const auto patched = json_object(patched_response);
  CHECK(string_field(patched, "username") == "deployer2");
  CHECK(patched.at("password_set") == boost::json::value(true));
  CHECK(patched.if_contains("password") == nullptr);

  for (const auto& secret : {password, new_password}) check_stored_nowhere(stack, secret);
  CHECK(open_stored_password(stack, id) == new_password);

  CHECK(admin_json(stack, "DELETE", "/api/registry-credentials/" + id, nullptr, 200).at("id") ==
        boost::json::value(id));
  check_error(stack.admin("GET", "/api/registry-credentials/" + id), 404);
}

TEST_CASE("registry credentials accept the five registry types and refuse others with 422", "[e2e][registry][422]") {
  auto& stack = registry_stack().stack;
  for (const std::string type : {"ghcr", "dockerhub", "ecr", "gcr", "generic"}) {
    INFO("registry_type " << type);
    const auto created =
        create_registry_credential(stack, "type-" + type, "registry.example", type, "u", new_registry_password());
    CHECK(string_field(created, "registry_type") == type);
  }
  const auto refused = stack.admin("POST", "/api/registry-credentials",
                                   boost::json::serialize(boost::json::object{{"name", "quay"},
                                                                              {"registry_url", "quay.io"},
                                                                              {"registry_type", "quay"},
                                                                              {"username", "u"},
                                                                              {"password", "p"}}));
  check_error(refused, 422);
}

TEST_CASE("registry login answers 202 and runs `<runtime> login URL -u USER --password-stdin` with the password "
          "on stdin and nowhere else",
          "[e2e][registry][secrets]") {
  auto& fixture = registry_stack();
  auto& stack = fixture.stack;
  const std::string password = new_registry_password();
  const auto credential = create_registry_credential(stack, "ghcr", "ghcr.io", "ghcr", "ci-bot", password);
  const std::string credential_id = string_field(credential, "id");
  testing::AutomationKeySpec spec;
  spec.allowed_operations = {"registry_login"};
  const auto key = stack.create_automation_key(spec);
  auto client = stack.client();
  fixture.runtime.clear();
  fixture.runtime.hold_logins();

  auto body = login_body(stack.server_id(), credential_id);
  body["run_id"] = "registry-run";
  body["run_context"] = {{"provider", "github_actions"}, {"repository", "acme/app"}};
  const auto response = testing::v1_post(client, key.key, "/registry-auth/login", body);
  INFO(describe(response));
  REQUIRE(response.status == 202);
  CHECK_FALSE(mentions(response.body, password));
  const auto answer = json_object(response);
  CHECK(answer.size() == 4);
  CHECK(string_field(answer, "status") == "running");
  CHECK(string_field(answer, "registry_url") == "ghcr.io");
  CHECK(string_field(answer, "registry_type") == "ghcr");
  const std::string operation_id = string_field(answer, "operation_id");

  {
    INFO("while the runtime holds the login, the password is in no file of the agent");
    const bool waiting = testing::wait_until([&] { return fixture.runtime.login_waiting(); }, std::chrono::seconds(20));
    if (waiting) check_agent_files_hold_no_secret_while_live(stack, password);
    fixture.runtime.release_login();
    REQUIRE(waiting);
  }

  const auto finished = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(30));
  INFO(boost::json::serialize(finished));
  CHECK(string_field(finished, "operation_type") == "registry_login");
  REQUIRE(string_field(finished, "status") == "completed");
  const auto& result = finished.at("result").as_object();
  CHECK(int_field(result, "exit_code") == 0);
  CHECK(string_field(result, "stdout") == "Login Succeeded\n");
  CHECK(finished.at("run_id") == boost::json::value("registry-run"));

  CHECK(fixture.runtime.arguments() == std::vector<std::string>{"login", "ghcr.io", "-u", "ci-bot", "--password-stdin"});
  const std::string given = fixture.runtime.login_stdin();
  // `docker login --password-stdin` drops one trailing newline, so either form is the password.
  CHECK((given == password || given == password + "\n"));

  INFO("the password is in no answer, database row, log or agent file");
  CHECK_FALSE(mentions(boost::json::serialize(finished), password));
  CHECK_FALSE(mentions(stack.admin("GET", "/api/operations/" + operation_id).body, password));
  CHECK_FALSE(mentions(stack.admin("GET", "/api/audit").body, password));
  const std::string dump = stack.database().dump();
  CHECK(dump.find(credential_id) != std::string::npos);  // the credential is in the dump, sealed
  CHECK(dump.find(operation_id) != std::string::npos);
  check_stored_nowhere(stack, password);
}

TEST_CASE("a failing registry logout answers 200 with a completed operation and the runtime's exit code",
          "[e2e][registry]") {
  auto& fixture = registry_stack();
  auto& stack = fixture.stack;
  testing::AutomationKeySpec spec;
  spec.allowed_operations = {"registry_logout"};
  const auto key = stack.create_automation_key(spec);
  auto client = stack.client();
  fixture.runtime.clear();

  const auto response = testing::v1_post(client, key.key, "/registry-auth/logout",
                                         {{"server_id", stack.server_id()},
                                          {"registry_url", "ghcr.io"},
                                          {"run_id", "registry-run"}});
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  const std::string operation_id = string_field(answer, "operation_id");
  CHECK(string_field(answer, "status") == "completed");
  CHECK(int_field(answer, "exit_code") == testing::RecordingRuntime::logout_exit_code);
  CHECK(string_field(answer, "stdout").empty());
  CHECK(string_field(answer, "stderr") == "not logged in to ghcr.io\n");
  CHECK(int_field(answer, "duration_ms") >= 0);
  CHECK(fixture.runtime.arguments() == std::vector<std::string>{"logout", "ghcr.io"});

  const auto polled = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(10));
  CHECK(string_field(polled, "operation_type") == "registry_logout");
  CHECK(string_field(polled, "status") == "completed");
  CHECK(int_field(polled.at("result").as_object(), "exit_code") == testing::RecordingRuntime::logout_exit_code);
}

TEST_CASE("registry login with an unknown credential or server gets 404", "[e2e][registry][404]") {
  auto& fixture = registry_stack();
  auto& stack = fixture.stack;
  const auto credential =
      create_registry_credential(stack, "for-404", "registry.example", "generic", "u", new_registry_password());
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  fixture.runtime.clear();
  check_error(testing::v1_post(client, key.key, "/registry-auth/login", login_body(stack.server_id(), ids::new_uuid())),
              404);
  check_error(testing::v1_post(client, key.key, "/registry-auth/login",
                               login_body(ids::new_uuid(), string_field(credential, "id"))),
              404);
  check_error(testing::v1_post(client, key.key, "/registry-auth/logout",
                               {{"server_id", ids::new_uuid()}, {"registry_url", "ghcr.io"}}),
              404);
  CHECK(fixture.runtime.arguments().empty());
}

TEST_CASE("without a master key every registry-credential endpoint and registry login answer 503",
          "[e2e][registry]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.agents = 0;
  testing::TetherStack stack(database, options);
  const auto created = stack.admin("POST", "/api/registry-credentials",
                                   boost::json::serialize(boost::json::object{{"name", "ghcr"},
                                                                              {"registry_url", "ghcr.io"},
                                                                              {"registry_type", "ghcr"},
                                                                              {"username", "u"},
                                                                              {"password", "p"}}));
  check_error(created, 503);
  CHECK(string_field(json_object(created), "detail").rfind("no master key configured", 0) == 0);
  check_error(stack.admin("GET", "/api/registry-credentials"), 503);
  const std::string some_id = ids::new_uuid();
  check_error(stack.admin("GET", "/api/registry-credentials/" + some_id), 503);
  check_error(stack.admin("PATCH", "/api/registry-credentials/" + some_id,
                          boost::json::serialize(boost::json::object{{"password", "p2"}})),
              503);
  check_error(stack.admin("DELETE", "/api/registry-credentials/" + some_id), 503);

  const auto server = stack.create_server("no-master-key");
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  const auto login = testing::v1_post(client, key.key, "/registry-auth/login",
                                      login_body(string_field(server, "id"), some_id));
  check_error(login, 503);
  CHECK(string_field(json_object(login), "detail").rfind("no master key configured", 0) == 0);
}
