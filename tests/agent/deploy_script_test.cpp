// Deploys through the operation table, against real git repositories: a bare "origin", an author
// clone that pushes to it, and the application's checkout, cloned before most of the pushes so
// that only a fetch can find them.
#include "agent/deploy_script.hpp"

#include "operation_table_fixture.hpp"
#include "tests/support/child_process.hpp"

#include <catch2/catch.hpp>

using namespace tether::agent;
using namespace tether::agent::testing;

namespace {

// Prints what the deploy command sees: the checked-out commit, an env override, its directory
// and a file of the checkout.
const std::string show_checkout = R"sh(printf '%s %s %s\n' "$(git rev-parse HEAD)" "$FEATURE_FLAG" "$(pwd)"; cat version.txt)sh";

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

struct Repositories {
  tether::testing::TempDir dir{"agent-deploy"};
  fs::path origin = dir / "origin.git";
  fs::path author = dir / "author";
  fs::path app = dir / "app";
  std::string a, b, c;  // commits: a = first main, b = later main, c = on branches feature and release

  Repositories() {
    git(dir.path(), {"init", "-q", "--bare", "-b", "main", origin.string()});
    git(dir.path(), {"init", "-q", "-b", "main", author.string()});
    a = commit("A");
    git(author, {"remote", "add", "origin", origin.string()});
    git(author, {"push", "-q", "origin", "main"});
    git(dir.path(), {"clone", "-q", origin.string(), app.string()});

    // Everything below reaches the app's checkout only through a fetch.
    git(author, {"tag", "v1", a});
    git(author, {"tag", "release", a});
    b = commit("B");
    git(author, {"checkout", "-q", "-b", "feature", a});
    c = commit("C");
    git(author, {"tag", "-a", "-m", "annotated", "v3", c});
    git(author, {"branch", "release", c});
    git(author, {"push", "-q", "--tags", "origin", "main", "feature", "refs/heads/release"});
  }

  std::string commit(const std::string& version) {
    std::ofstream(author / "version.txt") << version << "\n";
    git(author, {"add", "version.txt"});
    git(author, {"commit", "-q", "-m", "version " + version});
    return git(author, {"rev-parse", "HEAD"});
  }

  static std::string git(const fs::path& repo, std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", repo.string()});
    const auto result = tether::testing::run_command(args, 20s, git_identity());
    INFO(result.err);
    REQUIRE(result.succeeded());
    return trimmed(result.out);
  }

  static std::map<std::string, std::string> git_identity() {
    return {{"GIT_AUTHOR_NAME", "Tether Test"},
            {"GIT_AUTHOR_EMAIL", "test@tether.invalid"},
            {"GIT_COMMITTER_NAME", "Tether Test"},
            {"GIT_COMMITTER_EMAIL", "test@tether.invalid"},
            {"GIT_CONFIG_GLOBAL", "/dev/null"}};
  }

  std::string app_head() const { return git(app, {"rev-parse", "HEAD"}); }
  std::string app_dir() const { return fs::canonical(app).string(); }
};

proto::Dispatch deploy(const std::string& commit_ref, const fs::path& directory, std::string command = show_checkout,
                       int timeout_seconds = 30) {
  proto::Dispatch dispatch;
  dispatch.operation_id = op_id;
  dispatch.operation_type = "deploy";
  dispatch.commit_ref = commit_ref;
  dispatch.working_directory = directory.string();
  dispatch.command = std::move(command);
  dispatch.env = {{"FEATURE_FLAG", "on"}};
  dispatch.timeout_seconds = timeout_seconds;
  return dispatch;
}

// Deploys `commit_ref` and returns the finished message.
proto::Finished run_deploy(Fixture& f, const proto::Dispatch& dispatch, std::chrono::milliseconds bound = 20s) {
  f.table.on_dispatch(dispatch);
  REQUIRE(f.run_until_finished(bound));
  return *f.outbound.finished();
}

}  // namespace

TEST_CASE("deploy of a branch fetches, checks out origin's branch tip detached and runs the command there with "
          "env_overrides",
          "[agent][deploy]") {
  Repositories repos;
  Fixture f;
  const auto finished = run_deploy(f, deploy("main", repos.app));
  INFO(f.outbound.payload(proto::Stream::stderr_stream));
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 0);
  CHECK_FALSE(finished.error.has_value());
  CHECK(finished.resolved_commit == repos.b);
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == repos.b + " on " + repos.app_dir() + "\nB\n");
  // Git's own output is part of the operation's output.
  CHECK_THAT(f.outbound.payload(proto::Stream::stderr_stream), Catch::Contains("HEAD is now at " + repos.b.substr(0, 7)));
  CHECK(repos.app_head() == repos.b);
  CHECK(tether::testing::run_command({"git", "-C", repos.app.string(), "symbolic-ref", "-q", "HEAD"}, 10s).status.code ==
        1);  // detached
}

TEST_CASE("deploy of a branch that exists only on origin checks out its fetched tip", "[agent][deploy]") {
  Repositories repos;
  Fixture f;
  const auto finished = run_deploy(f, deploy("feature", repos.app));
  CHECK(finished.status == "completed");
  CHECK(finished.resolved_commit == repos.c);
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == repos.c + " on " + repos.app_dir() + "\nC\n");
}

TEST_CASE("deploy of a tag checks out the tagged commit, also through an annotated tag", "[agent][deploy]") {
  Repositories repos;
  SECTION("lightweight tag") {
    Fixture f;
    const auto finished = run_deploy(f, deploy("v1", repos.app));
    CHECK(finished.status == "completed");
    CHECK(finished.resolved_commit == repos.a);
    CHECK(f.outbound.payload(proto::Stream::stdout_stream) == repos.a + " on " + repos.app_dir() + "\nA\n");
  }
  SECTION("annotated tag: the commit, not the tag object") {
    Fixture f;
    const auto finished = run_deploy(f, deploy("v3", repos.app));
    CHECK(finished.status == "completed");
    CHECK(finished.resolved_commit == repos.c);
    CHECK(repos.app_head() == repos.c);
  }
}

TEST_CASE("deploy prefers origin's branch to a tag of the same name", "[agent][deploy]") {
  Repositories repos;
  Fixture f;
  const auto finished = run_deploy(f, deploy("release", repos.app));
  CHECK(finished.resolved_commit == repos.c);  // the tag "release" is at a
}

TEST_CASE("deploy of a full or short SHA checks out that commit and reports its full SHA", "[agent][deploy]") {
  Repositories repos;
  SECTION("full SHA") {
    Fixture f;
    const auto finished = run_deploy(f, deploy(repos.c, repos.app));
    CHECK(finished.status == "completed");
    CHECK(finished.resolved_commit == repos.c);
    CHECK(repos.app_head() == repos.c);
  }
  SECTION("short SHA") {
    Fixture f;
    const auto finished = run_deploy(f, deploy(repos.b.substr(0, 10), repos.app));
    CHECK(finished.status == "completed");
    CHECK(finished.resolved_commit == repos.b);
    CHECK(f.outbound.payload(proto::Stream::stdout_stream) == repos.b + " on " + repos.app_dir() + "\nB\n");
  }
}

TEST_CASE("deploy of a ref that names nothing fails naming the ref and never runs the deploy command",
          "[agent][deploy]") {
  Repositories repos;
  Fixture f;
  const auto before = repos.app_head();
  const auto marker = repos.dir / "deploy-ran";
  const auto finished = run_deploy(f, deploy("no-such-branch", repos.app, "touch '" + marker.string() + "'"));
  CHECK(finished.status == "failed");
  CHECK_FALSE(finished.exit_code.has_value());
  CHECK(finished.error == "commit_ref 'no-such-branch' does not name a branch, tag or commit in " + repos.app.string());
  CHECK_FALSE(finished.resolved_commit.has_value());
  CHECK_THAT(f.outbound.payload(proto::Stream::stderr_stream),
             Catch::Contains("commit_ref 'no-such-branch' does not name a branch, tag or commit"));
  CHECK_FALSE(fs::exists(marker));
  CHECK(repos.app_head() == before);
}

TEST_CASE("deploy passes the ref to git as data: shell syntax in it is never run", "[agent][deploy]") {
  Repositories repos;
  Fixture f;
  const auto marker = repos.dir / "injected";
  const std::string ref = "main$(touch " + marker.string() + ")`touch " + marker.string() + "`;touch " + marker.string();
  const auto finished = run_deploy(f, deploy(ref, repos.app));
  CHECK(finished.status == "failed");
  CHECK(finished.error == "commit_ref '" + ref + "' does not name a branch, tag or commit in " + repos.app.string());
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("deploy reports the deploy command's exit code with the resolved commit", "[agent][deploy]") {
  Repositories repos;
  Fixture f;
  const auto finished = run_deploy(f, deploy("main", repos.app, "echo deploying; exit 4"));
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 4);
  CHECK(finished.resolved_commit == repos.b);
  f.table.flush_journal();
  const auto record = decode_record(slurp(f.journal.record_path(op_id)));
  CHECK(record.commit_ref == "main");
  CHECK(record.result->resolved_commit == repos.b);
}

TEST_CASE("deploy whose command outlives the timeout is timeout and still names the commit it checked out",
          "[agent][deploy]") {
  Repositories repos;
  Fixture f;
  const auto finished = run_deploy(f, deploy("v1", repos.app, "echo started; sleep 100", 2), 15s);
  CHECK(finished.status == "timeout");
  CHECK(finished.resolved_commit == repos.a);
  CHECK_THAT(f.outbound.payload(proto::Stream::stdout_stream), Catch::Contains("started"));
}

TEST_CASE("deploy without an origin remote skips the fetch and resolves local names", "[agent][deploy]") {
  Repositories repos;
  Repositories::git(repos.app, {"remote", "remove", "origin"});
  Fixture f;
  const auto finished = run_deploy(f, deploy("main", repos.app));
  CHECK(finished.status == "completed");
  CHECK(finished.resolved_commit == repos.a);  // the local branch: nothing was fetched
}

TEST_CASE("deploy whose fetch fails is failed with git's error in the output", "[agent][deploy]") {
  Repositories repos;
  Repositories::git(repos.app, {"remote", "set-url", "origin", (repos.dir / "gone.git").string()});
  Fixture f;
  const auto marker = repos.dir / "deploy-ran";
  const auto finished = run_deploy(f, deploy("main", repos.app, "touch '" + marker.string() + "'"));
  CHECK(finished.status == "failed");
  CHECK(finished.error == "git fetch --prune --tags origin failed in " + repos.app.string() + " (exit code 128)");
  CHECK_FALSE(finished.resolved_commit.has_value());
  CHECK_THAT(f.outbound.payload(proto::Stream::stderr_stream), Catch::Contains("gone.git"));
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("deploy in a directory that is not a git checkout fails saying so", "[agent][deploy]") {
  tether::testing::TempDir plain("agent-deploy-plain");
  Fixture f;
  const auto finished = run_deploy(f, deploy("main", plain.path()));
  CHECK(finished.status == "failed");
  CHECK(finished.error == "working directory " + plain.path().string() + " is not a git checkout");
}

TEST_CASE("deploy refs that git would read as options or that hold control characters are rejected",
          "[agent][deploy]") {
  Fixture f;
  const std::vector<std::string> bad = {"", "-c", "--upload-pack=touch x", "main\nsecond", std::string("ma\x7fin")};
  for (const auto& ref : bad) {
    INFO(ref);
    REQUIRE(commit_ref_problem(ref).has_value());
  }
  auto dispatch = deploy("--output=/tmp/x", "/srv/app");
  f.table.on_dispatch(dispatch);
  const auto rejected = f.outbound.all<proto::Rejected>();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].error == "commit_ref \"--output=/tmp/x\" must not start with '-'");
  CHECK(f.table.size() == 0);
  for (const std::string ref : {"main", "v1.2.3", "release/2026-04", "0123abc", "feature-x~1"}) {
    CHECK_FALSE(commit_ref_problem(ref).has_value());
  }
}

TEST_CASE("deploy result without a resolved commit is failed; a resolved one keeps the command's outcome",
          "[agent][deploy]") {
  const std::string sha(40, 'a');
  ProcessOutcome died{"completed", 137, 5, std::nullopt, 9, ""};
  auto result = deploy_result(died, "main", "/srv/app");
  CHECK(result.outcome.status == "failed");
  CHECK(result.outcome.error == "the deploy ended before a commit was resolved (exit code 137)");

  ProcessOutcome ran{"completed", 2, 5, std::nullopt, std::nullopt, "resolved " + sha + "\n"};
  result = deploy_result(ran, "main", "/srv/app");
  CHECK(result.outcome.status == "completed");
  CHECK(result.outcome.exit_code == 2);
  CHECK(result.resolved_commit == sha);

  ProcessOutcome checkout{"completed", 1, 5, std::nullopt, std::nullopt,
                          "resolved " + sha + "\nfailed checkout 1\n"};
  result = deploy_result(checkout, "main", "/srv/app");
  CHECK(result.outcome.status == "failed");
  CHECK(result.outcome.error == "git checkout of " + sha + " failed in /srv/app (exit code 1)");
  CHECK(result.resolved_commit == sha);

  ProcessOutcome canceled{"canceled", std::nullopt, 5, std::string("operation canceled"), 15, ""};
  result = deploy_result(canceled, "main", "/srv/app");
  CHECK(result.outcome.status == "canceled");
  CHECK_FALSE(result.resolved_commit.has_value());
}
