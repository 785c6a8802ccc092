// Deploys against a real git repository on the agent's machine: the agent fetches from "origin",
// checks out the branch, tag or SHA asked for, runs the application's deploy command there with
// the env_overrides, and the deployment record keeps the ref asked for and the commit it became.
#include "tests/e2e/ci_api.hpp"
#include "tests/e2e/secret_checks.hpp"

#include "tests/support/git.hpp"
#include "tests/support/wait.hpp"

#include <filesystem>
#include <fstream>

using namespace tether;
using namespace tether::e2e;
using testing::git;

namespace {

// An "origin" bare repository and the application's checkout cloned from it:
//   main:    first -- second -- fourth   (fourth is pushed after the clone: only a fetch finds it)
//   release: first -- third
//   v1.0:    annotated tag on first
struct DeployRepository : testing::AuthoredOrigin {
  std::string first, second, third, fourth;

  explicit DeployRepository(const std::filesystem::path& dir) : AuthoredOrigin(dir) {
    first = testing::commit_label(authoring, "first");
    git(authoring, {"tag", "-a", "v1.0", "-m", "release 1.0"});
    second = testing::commit_label(authoring, "second");
    git(authoring, {"checkout", "-q", "-b", "release", first});
    third = testing::commit_label(authoring, "third");
    git(authoring, {"push", "-q", "origin", "main", "release", "v1.0"});
    git(dir, {"clone", "-q", "-b", "main", origin.string(), checkout.string()});
    git(authoring, {"checkout", "-q", "main"});
    fourth = testing::commit_label(authoring, "fourth");
    git(authoring, {"push", "-q", "origin", "main"});
  }
};

struct DeploySetup {
  testing::TetherStack& stack;
  DeployRepository repository;
  std::filesystem::path deployed_file;  // the deploy command writes HEAD and $DEPLOY_SECRET here
  boost::json::object application;
  std::string application_id;
  testing::AutomationKey key;
  http::Client client;

  DeploySetup(testing::TetherStack& s, const std::string& label)
      : stack(s),
        repository(s.dir() / ("repo-" + label)),
        deployed_file(s.dir() / ("deployed-" + label + ".txt")),
        client(s.client()) {
    const std::string command =
        fmt::format("printf '%s\\n%s\\n' \"$(git rev-parse HEAD)\" \"$DEPLOY_SECRET\" > {}", deployed_file.string());
    application = admin_post(stack, "/api/applications",
                             {{"name", "app-" + label},
                              {"server_id", stack.server_id()},
                              {"directory", repository.checkout.string()},
                              {"deploy_branch", "main"},
                              {"deploy_command", command}});
    application_id = string_field(application, "id");
    testing::AutomationKeySpec spec;
    spec.name = "deploy-" + label;
    spec.allowed_server_ids = {stack.server_id()};
    spec.allowed_operations = {"deploy"};
    key = stack.create_automation_key(spec);
  }

  boost::json::object deploy_body(const std::optional<std::string>& ref) const {
    boost::json::object body{{"application_id", application_id}};
    if (ref) body["commit_ref"] = *ref;
    return body;
  }
};

struct Deployed {
  std::string operation_id;
  std::string deployment_id;
  boost::json::object operation;   // the finished v1 poll view
  boost::json::object deployment;  // GET /api/deployments/{id}
};

// POST /deploy (always answered "running"), then the finished operation and its deployment.
Deployed deploy(DeploySetup& setup, const boost::json::object& body) {
  const auto response = testing::v1_post(setup.client, setup.key.key, "/deploy", body);
  INFO("deploy " << boost::json::serialize(body) << " -> " << describe(response));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  CHECK(answer.size() == 3);
  CHECK(string_field(answer, "status") == "running");
  Deployed out;
  out.operation_id = string_field(answer, "operation_id");
  out.deployment_id = string_field(answer, "deployment_id");
  CHECK(ids::is_uuid(out.operation_id));
  CHECK(ids::is_uuid(out.deployment_id));
  out.operation = testing::wait_for_operation(setup.client, setup.key.key, out.operation_id, std::chrono::seconds(45));
  CHECK(string_field(out.operation, "operation_type") == "deploy");
  out.deployment = admin_get(setup.stack, "/api/deployments/" + out.deployment_id);
  CHECK(string_field(out.deployment, "id") == out.deployment_id);
  CHECK(string_field(out.deployment, "application_id") == setup.application_id);
  CHECK(string_field(out.deployment, "operation_id") == out.operation_id);
  CHECK(is_rfc3339_utc(out.deployment.at("created_at")));
  return out;
}

// A successful deploy of `ref` checked out `expected_commit` and ran the deploy command on it.
void check_deployed(DeploySetup& setup, const Deployed& deployed, const boost::json::value& expected_ref,
                    const std::string& expected_commit, const std::string& secret) {
  INFO("operation " << boost::json::serialize(deployed.operation));
  INFO("deployment " << boost::json::serialize(deployed.deployment));
  REQUIRE(string_field(deployed.operation, "status") == "completed");
  CHECK(int_field(deployed.operation.at("result").as_object(), "exit_code") == 0);
  CHECK(deployed.deployment.at("commit_ref") == expected_ref);
  CHECK(deployed.deployment.at("resolved_commit") == boost::json::value(expected_commit));
  CHECK(string_field(deployed.deployment, "status") == "completed");
  CHECK(is_rfc3339_utc(deployed.deployment.at("completed_at")));
  CHECK(testing::read_file(setup.deployed_file) == expected_commit + "\n" + secret + "\n");
  CHECK(git(setup.repository.checkout, {"rev-parse", "HEAD"}) == expected_commit);
}

}  // namespace

TEST_CASE("deploy checks out a branch, an annotated tag and a SHA and runs the deploy command on that commit",
          "[e2e][deploy]") {
  auto& stack = shared_stack();
  DeploySetup setup(stack, "refs");
  const auto& repo = setup.repository;
  const std::string secret = "override-" + crypto::hex_encode(crypto::random_bytes(16));

  struct Case {
    std::string ref;
    std::string expected_commit;
  };
  for (const auto& [ref, expected_commit] : {Case{"release", repo.third}, Case{"v1.0", repo.first},
                                             Case{repo.second, repo.second}, Case{"main", repo.fourth}}) {
    INFO("commit_ref " << ref);
    auto body = setup.deploy_body(ref);
    body["env_overrides"] = {{"DEPLOY_SECRET", secret}};
    body["run_id"] = "deploy-run-1";
    const auto deployed = deploy(setup, body);
    check_deployed(setup, deployed, boost::json::value(ref), expected_commit, secret);
  }

  INFO("the env_overrides value reached the command (above) and was stored nowhere");
  check_stored_nowhere(stack, secret);
}

TEST_CASE("while a deploy runs, its env_overrides value is in no file of the agent", "[e2e][deploy][secrets]") {
  auto& stack = shared_stack();
  DeployRepository repository(stack.dir() / "repo-live");
  const auto started = stack.dir() / "deploy-live-started";
  const auto release = stack.dir() / "deploy-live-release";
  const std::string command = "test -n \"$DEPLOY_SECRET\" && touch " + started.string() + "; " +
                              wait_for_file_snippet(release);
  const auto application = admin_post(stack, "/api/applications",
                                      {{"name", "app-live"},
                                       {"server_id", stack.server_id()},
                                       {"directory", repository.checkout.string()},
                                       {"deploy_branch", "main"},
                                       {"deploy_command", command}});
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  const std::string secret = "override-" + crypto::hex_encode(crypto::random_bytes(16));

  const auto response = testing::v1_post(
      client, key.key, "/deploy",
      {{"application_id", string_field(application, "id")}, {"env_overrides", {{"DEPLOY_SECRET", secret}}}});
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const std::string operation_id = string_field(json_object(response), "operation_id");
  {
    INFO("while the deploy command runs (it saw the value)");
    const bool running = testing::wait_until([&] { return std::filesystem::exists(started); }, std::chrono::seconds(30));
    if (running) check_agent_files_hold_no_secret_while_live(stack, secret);
    { std::ofstream touch(release); }
    REQUIRE(running);
  }
  const auto finished = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(30));
  CHECK(string_field(finished, "status") == "completed");
  check_stored_nowhere(stack, secret);
}

TEST_CASE("deploy without commit_ref fetches and checks out the deploy branch, also after PATCH changes it",
          "[e2e][deploy]") {
  auto& stack = shared_stack();
  DeploySetup setup(stack, "default-branch");
  const auto& repo = setup.repository;

  // "fourth" was pushed to origin after the clone: only a fetch makes it the deploy branch's head.
  const auto on_main = deploy(setup, setup.deploy_body(std::nullopt));
  REQUIRE(string_field(on_main.operation, "status") == "completed");
  CHECK(on_main.deployment.at("resolved_commit") == boost::json::value(repo.fourth));
  CHECK(git(repo.checkout, {"rev-parse", "HEAD"}) == repo.fourth);

  const auto patched =
      admin_patch(stack, "/api/applications/" + setup.application_id, {{"deploy_branch", "release"}});
  CHECK(string_field(patched, "deploy_branch") == "release");
  const auto on_release = deploy(setup, setup.deploy_body(std::nullopt));
  check_deployed(setup, on_release, boost::json::value("release"), repo.third, "");

  const auto listed = admin_get(stack, "/api/deployments?application_id=" + setup.application_id);
  const auto& deployments = array_field(listed, "deployments");
  CHECK(deployments.size() == 2);
  for (const auto& entry : deployments) CHECK(string_field(entry.as_object(), "application_id") == setup.application_id);
}

TEST_CASE("deploy of a ref that resolves to nothing fails with an error naming the ref and runs no command",
          "[e2e][deploy]") {
  auto& stack = shared_stack();
  DeploySetup setup(stack, "unknown-ref");
  const std::string ref = "no-such-ref-" + crypto::hex_encode(crypto::random_bytes(4));

  const auto deployed = deploy(setup, setup.deploy_body(ref));
  INFO(boost::json::serialize(deployed.operation));
  CHECK(string_field(deployed.operation, "status") == "failed");
  CHECK(string_field(deployed.operation, "error").find(ref) != std::string::npos);
  CHECK(string_field(deployed.deployment, "status") == "failed");
  CHECK(deployed.deployment.at("commit_ref") == boost::json::value(ref));
  CHECK(deployed.deployment.at("resolved_commit").is_null());
  CHECK_FALSE(std::filesystem::exists(setup.deployed_file));
  // The checkout stays where the clone left it.
  CHECK(git(setup.repository.checkout, {"rev-parse", "HEAD"}) == setup.repository.second);
}

TEST_CASE("deploy of an application that does not exist gets 404", "[e2e][deploy][404]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  check_error(testing::v1_post(client, key.key, "/deploy", {{"application_id", ids::new_uuid()}}), 404);
}

TEST_CASE("applications: create, list, get, patch and delete", "[e2e][deploy][operator]") {
  auto& stack = shared_stack();
  const auto created = admin_post(stack, "/api/applications",
                                  {{"name", "crud-app"}, {"server_id", stack.server_id()}, {"directory", "/srv/crud"}});
  const std::string id = string_field(created, "id");
  CHECK(string_field(created, "name") == "crud-app");
  CHECK(string_field(created, "server_id") == stack.server_id());
  CHECK(string_field(created, "directory") == "/srv/crud");
  CHECK(string_field(created, "deploy_branch") == "main");
  CHECK(string_field(created, "deploy_command") == "docker compose up -d");
  CHECK(is_rfc3339_utc(created.at("created_at")));

  CHECK(admin_get(stack, "/api/applications/" + id) == created);
  bool listed = false;
  const auto applications = admin_get(stack, "/api/applications");
  for (const auto& app : array_field(applications, "applications")) {
    listed = listed || app.as_object().at("id") == boost::json::value(id);
  }
  CHECK(listed);

  const auto patched = admin_patch(stack, "/api/applications/" + id, {{"deploy_command", "make deploy"}});
  CHECK(string_field(patched, "deploy_command") == "make deploy");
  CHECK(string_field(patched, "deploy_branch") == "main");

  const auto deleted = admin_json(stack, "DELETE", "/api/applications/" + id, nullptr, 200);
  CHECK(deleted.at("deleted") == boost::json::value(true));
  check_error(stack.admin("GET", "/api/applications/" + id), 404);
}
