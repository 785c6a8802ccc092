// Issue 10: a GitHub push webhook deploys the commit it pushed. A real git repository ("origin",
// a bare one) and an application whose directory is a checkout of it on the agent's machine; a
// deploy job for the application and a GitHub trigger {endpoint_slug "gh", filter
// repository.full_name acme/app and ref refs/heads/main}. Deliveries are shaped and signed as
// GitHub sends them: the push payload as compact JSON, X-Hub-Signature-256 = HMAC-SHA256 of the
// raw body, X-GitHub-Event and X-GitHub-Delivery. The run deploys exactly the pushed `after`
// commit (not whatever the branch points at by then), the same delivery again is a replay, and
// pushes the filter does not name, branch deletions, pings and wrong signatures deploy nothing.
#include "tests/e2e/ci_api.hpp"
#include "tests/e2e/webhook_checks.hpp"

#include "tests/support/git.hpp"

#include <pqxx/pqxx>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;
using testing::git;

namespace {

const std::string zero_sha(40, '0');

testing::TetherStack& github_stack() {
  testing::StackOptions options;
  options.master_key = true;  // the trigger's secret is sealed with it
  return shared_stack(options);
}

// "origin" (bare) and the application's checkout cloned from it at `first`; then, pushed to origin
// only, main gains `pushed` and `later` on top of it, and branch feature gains `feature`.
//   main:    first -- pushed -- later
//   feature: first -- feature
struct PushRepository : testing::AuthoredOrigin {
  std::string first, pushed, later, feature;

  explicit PushRepository(const std::filesystem::path& dir) : AuthoredOrigin(dir) {
    first = testing::commit_label(authoring, "first");
    git(authoring, {"push", "-q", "origin", "main"});
    git(dir, {"clone", "-q", "-b", "main", origin.string(), checkout.string()});
    pushed = testing::commit_label(authoring, "pushed");
    later = testing::commit_label(authoring, "later");
    git(authoring, {"checkout", "-q", "-b", "feature", first});
    feature = testing::commit_label(authoring, "feature");
    git(authoring, {"push", "-q", "origin", "main", "feature"});
  }
};

// A push payload as GitHub delivers it (its fields in GitHub's order, URLs trimmed).
boost::json::object push_payload(const PushRepository& repo, const std::string& full_name, const std::string& ref,
                                 const std::string& before, const std::string& after) {
  const bool deleted = after == zero_sha;
  const auto owner = full_name.substr(0, full_name.find('/'));
  const auto name = full_name.substr(full_name.find('/') + 1);
  boost::json::value head_commit = nullptr;
  boost::json::array commits;
  if (!deleted) {
    boost::json::object person{{"name", "Tether Tests"}, {"email", "tests@tether.invalid"}, {"username", "octocat"}};
    head_commit = boost::json::object{
        {"id", after},
        {"tree_id", git(repo.authoring, {"rev-parse", after + "^{tree}"})},
        {"distinct", true},
        {"message", git(repo.authoring, {"log", "-1", "--format=%s", after})},
        {"timestamp", git(repo.authoring, {"log", "-1", "--format=%cI", after})},
        {"url", "https://github.com/" + full_name + "/commit/" + after},
        {"author", person},
        {"committer", person},
        {"added", boost::json::array{}},
        {"removed", boost::json::array{}},
        {"modified", boost::json::array{"app.txt"}}};
    commits.push_back(head_commit);
  }
  return {{"ref", ref},
          {"before", before},
          {"after", after},
          {"repository",
           {{"id", 186853002},
            {"node_id", "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI="},
            {"name", name},
            {"full_name", full_name},
            {"private", true},
            {"owner", {{"name", owner}, {"login", owner}, {"id", 21031067}, {"type", "Organization"}}},
            {"html_url", "https://github.com/" + full_name},
            {"default_branch", "main"},
            {"master_branch", "main"}}},
          {"pusher", {{"name", "octocat"}, {"email", "octocat@github.invalid"}}},
          {"sender", {{"login", "octocat"}, {"id", 583231}, {"type", "User"}, {"site_admin", false}}},
          {"created", false},
          {"deleted", deleted},
          {"forced", false},
          {"base_ref", nullptr},
          {"compare", "https://github.com/" + full_name + "/compare/" + before.substr(0, 12) + "..." +
                          after.substr(0, 12)},
          {"commits", std::move(commits)},
          {"head_commit", std::move(head_commit)}};
}

// The repository, an application on it, its deploy job and the GitHub trigger at "gh".
struct GithubDeploy {
  testing::TetherStack& stack;
  AutomationApi api;
  PushRepository repo;
  std::string application_id, job_id;
  WebhookTrigger hook;
  http::Client client;

  GithubDeploy(testing::TetherStack& s, const std::string& label)
      : stack(s), api(s), repo(s.dir() / ("github-" + label)), client(s.client()) {
    // The deploy command shows what it deploys and the event it was told about.
    const auto application =
        admin_post(stack, "/api/applications",
                   {{"name", "gh-app-" + label},
                    {"server_id", stack.server_id()},
                    {"directory", repo.checkout.string()},
                    {"deploy_branch", "main"},
                    {"deploy_command", "echo \"HEAD=$(git rev-parse HEAD)\"; env | grep TETHER_EVENT_ | sort"}});
    application_id = string_field(application, "id");
    const auto job = api.create_job({{"name", "deploy-on-push-" + label},
                                     {"operation", {{"type", "deploy"}, {"params", {{"application_id", application_id}}}}}});
    job_id = string_field(job, "id");
    hook = create_webhook_trigger(api, {{"name", "github-push-" + label},
                                        {"job_id", job_id},
                                        {"event", "webhook"},
                                        {"provider", "github"},
                                        {"endpoint_slug", "gh"},
                                        {"filter", {{"repository.full_name", "acme/app"}, {"ref", "refs/heads/main"}}}});
  }

  http::Response send(const std::string& event, const std::string& body, const std::string& delivery_id,
                      const std::optional<std::string>& secret = std::nullopt) {
    return deliver(client, "gh", body, github_headers(secret.value_or(hook.secret), body, event, delivery_id));
  }

  std::size_t runs() { return api.job_runs(job_id).size(); }
  std::string checkout_head() { return git(repo.checkout, {"rev-parse", "HEAD"}); }
};

// operations.type and operations.params->>'commit_ref' as stored for the agent.
std::pair<std::string, std::string> stored_operation(testing::TetherStack& stack, const std::string& operation_id) {
  pqxx::connection connection(stack.database().url());
  pqxx::read_transaction txn(connection);
  const auto row =
      txn.exec_params1("SELECT type, coalesce(params->>'commit_ref', '') FROM operations WHERE id = $1", operation_id);
  return {row[0].as<std::string>(), row[1].as<std::string>()};
}

std::set<std::string> lines_of(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

}  // namespace

TEST_CASE("a GitHub push to main of acme/app deploys exactly the pushed commit, and the same delivery again is 409",
          "[e2e][webhooks][github][deploy]") {
  auto& stack = github_stack();
  GithubDeploy setup(stack, "push");
  const auto& repo = setup.repo;
  REQUIRE(setup.checkout_head() == repo.first);
  CHECK(string_field(setup.hook.trigger, "provider") == "github");

  const auto body = boost::json::serialize(push_payload(repo, "acme/app", "refs/heads/main", repo.first, repo.pushed));
  const auto delivery_id = ids::new_uuid();
  const auto run = fired_run(setup.send("push", body, delivery_id));
  CHECK(string_field(run, "trigger_id") == setup.hook.id);
  CHECK(string_field(run, "job_id") == setup.job_id);
  CHECK(string_field(run, "operation_type") == "deploy");

  const auto ended = setup.api.wait_for_run_end(string_field(run, "id"), 45s);
  INFO("run " << boost::json::serialize(ended));
  REQUIRE(string_field(ended, "status") == "completed");
  const auto operations = run_operations(ended);
  REQUIRE(operations.size() == 1);
  const auto operation_id = string_field(operations.front(), "id");
  CHECK(string_field(operations.front(), "server_id") == stack.server_id());

  INFO("the pushed commit, not main's head (" << repo.later << "), is checked out");
  CHECK(setup.checkout_head() == repo.pushed);
  const auto [type, commit_ref] = stored_operation(stack, operation_id);
  CHECK(type == "deploy");
  CHECK(commit_ref == repo.pushed);
  const auto view = operation_view(setup.api, operation_id);
  CHECK(string_field(view, "operation_type") == "deploy");
  INFO("the deploy is a deployment of the application, as one through the v1 API is");
  const auto deployments = json_object(setup.api.call("GET", "/api/deployments"));
  int listed = 0;
  for (const auto& deployment : objects(array_at(deployments, "deployments"))) {
    if (string_field(deployment, "operation_id") != operation_id) continue;
    ++listed;
    CHECK(string_field(deployment, "commit_ref") == repo.pushed);
    CHECK(string_field(deployment, "status") == "completed");
  }
  CHECK(listed == 1);

  const auto output = operation_stdout(setup.api, operation_id);
  INFO("stdout:\n" << output);
  const auto lines = lines_of(output);
  for (const auto& expected : std::vector<std::string>{"HEAD=" + repo.pushed, "TETHER_EVENT_TYPE=github.push",
                               "TETHER_EVENT_GITHUB_EVENT=push", "TETHER_EVENT_DELIVERY_ID=" + delivery_id,
                               "TETHER_EVENT_REF=refs/heads/main", "TETHER_EVENT_BRANCH=main",
                               "TETHER_EVENT_SHA=" + repo.pushed, "TETHER_EVENT_BEFORE=" + repo.first,
                               "TETHER_EVENT_REPOSITORY=acme/app", "TETHER_EVENT_PUSHER=octocat",
                               "TETHER_EVENT_SENDER=octocat"}) {
    INFO("line " << expected);
    CHECK(lines.count(expected) == 1);
  }

  INFO("GitHub redelivers with the same X-GitHub-Delivery: a replay");
  const auto detail = check_jobs_error(setup.send("push", body, delivery_id), 409);
  CHECK(detail.find(delivery_id) != std::string::npos);
  CHECK(setup.runs() == 1);
  CHECK(setup.checkout_head() == repo.pushed);
}

TEST_CASE("a push to another branch or from another repository, a branch deletion and a ping are accepted with "
          "matched 0 and deploy nothing",
          "[e2e][webhooks][github][deploy]") {
  auto& stack = github_stack();
  GithubDeploy setup(stack, "ignored");
  const auto& repo = setup.repo;

  struct Case {
    std::string what, event, body;
  };
  const std::vector<Case> cases{
      {"a push to feature", "push",
       boost::json::serialize(push_payload(repo, "acme/app", "refs/heads/feature", repo.first, repo.feature))},
      {"a push to main of acme/other", "push",
       boost::json::serialize(push_payload(repo, "acme/other", "refs/heads/main", repo.first, repo.pushed))},
      {"a tag push", "push",
       boost::json::serialize(push_payload(repo, "acme/app", "refs/tags/v1.0", zero_sha, repo.pushed))},
      {"the deletion of main", "push",
       boost::json::serialize(push_payload(repo, "acme/app", "refs/heads/main", repo.later, zero_sha))},
      {"a ping", "ping",
       boost::json::serialize(boost::json::object{
           {"zen", "Design for failure."},
           {"hook_id", 292430182},
           {"hook", {{"type", "Repository"}, {"id", 292430182}, {"active", true}, {"events", boost::json::array{"push"}}}},
           {"repository", {{"full_name", "acme/app"}}},
           {"sender", {{"login", "octocat"}}}})},
      {"a ping shaped like a push to main", "ping",
       boost::json::serialize(push_payload(repo, "acme/app", "refs/heads/main", repo.first, repo.pushed))}};
  for (const auto& c : cases) {
    INFO(c.what);
    check_accepted(setup.send(c.event, c.body, ids::new_uuid()), 0);
  }
  CHECK(setup.runs() == 0);
  CHECK(setup.checkout_head() == repo.first);
}

TEST_CASE("a GitHub delivery with a wrong signature, or signed over other bytes than the body sent, is 401 and "
          "deploys nothing",
          "[e2e][webhooks][github][deploy]") {
  auto& stack = github_stack();
  GithubDeploy setup(stack, "unsigned");
  const auto& repo = setup.repo;
  const auto payload = push_payload(repo, "acme/app", "refs/heads/main", repo.first, repo.pushed);
  const auto body = boost::json::serialize(payload);

  INFO("another secret");
  check_jobs_error(setup.send("push", body, ids::new_uuid(), setup.hook.secret + "0"), 401);
  INFO("the same JSON with other whitespace than the signed bytes");
  auto headers = github_headers(setup.hook.secret, body, "push", ids::new_uuid());
  headers.emplace_back("Content-Type", "application/json");
  check_jobs_error(setup.client.post("/api/webhooks/global/gh", body + "\n", headers), 401);
  INFO("GitHub's legacy SHA-1 header alone");
  const http::Headers sha1_only{{"X-GitHub-Event", "push"},
                                {"X-GitHub-Delivery", ids::new_uuid()},
                                {"X-Hub-Signature", "sha1=" + std::string(40, 'a')},
                                {"Content-Type", "application/json"}};
  check_jobs_error(setup.client.post("/api/webhooks/global/gh", body, sha1_only), 401);
  CHECK(setup.runs() == 0);
  CHECK(setup.checkout_head() == repo.first);

  INFO("signed correctly, the same delivery deploys");
  const auto run = fired_run(setup.send("push", body, ids::new_uuid()));
  CHECK(string_field(setup.api.wait_for_run_end(string_field(run, "id"), 45s), "status") == "completed");
  CHECK(setup.checkout_head() == repo.pushed);
}
