#include "agent/deploy_script.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace tether::agent {

namespace {

// $1 = commit_ref, $2 = deploy command. Report lines on fd 3: "resolved <sha>" or
// "failed <step> <exit code>". Git never sees fd 3 (3>&-) and never prompts for credentials.
// Resolution order (PROTOCOL.md): origin's branch, a tag, then any commit git can name (a full
// or short SHA, a local branch).
constexpr std::string_view script = R"sh(ref=$1
report() { printf '%s\n' "$*" >&3; }
run_git() { GIT_TERMINAL_PROMPT=0 git "$@" 3>&-; }
if ! command -v git >/dev/null 2>&1; then
  echo "git: not found in PATH" >&2
  report failed no-git 127
  exit 127
fi
inside=$(run_git rev-parse --is-inside-work-tree) || inside=
if [ "$inside" != true ]; then
  report failed not-a-checkout 1
  exit 1
fi
sha=
if run_git config --get remote.origin.url >/dev/null; then
  run_git fetch --prune --tags origin || { status=$?; report failed fetch "$status"; exit "$status"; }
  sha=$(run_git rev-parse --verify --quiet "refs/remotes/origin/$ref^{commit}") || sha=
fi
[ -n "$sha" ] || sha=$(run_git rev-parse --verify --quiet "refs/tags/$ref^{commit}") || sha=
[ -n "$sha" ] || sha=$(run_git rev-parse --verify --quiet "$ref^{commit}") || sha=
if [ -z "$sha" ]; then
  printf "commit_ref '%s' does not name a branch, tag or commit\n" "$ref" >&2
  report failed unresolved 1
  exit 1
fi
report resolved "$sha"
run_git checkout --force --detach "$sha" || { status=$?; report failed checkout "$status"; exit "$status"; }
exec 3>&-
exec /bin/sh -c "$2"
)sh";

bool is_full_sha(std::string_view text) {
  return (text.size() == 40 || text.size() == 64) &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

struct Report {
  std::optional<std::string> resolved_commit;
  std::optional<std::string> failed_step;
  std::optional<int> failed_exit_code;
};

Report parse_report(const std::string& text) {
  Report report;
  std::istringstream lines(text);
  std::string word;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    words >> word;
    if (word == "resolved") {
      std::string sha;
      words >> sha;
      if (is_full_sha(sha)) report.resolved_commit = sha;
    } else if (word == "failed") {
      std::string step;
      std::string code;
      words >> step >> code;
      report.failed_step = step;
      int value = 0;
      const auto [end, error] = std::from_chars(code.data(), code.data() + code.size(), value);
      if (error == std::errc{} && end == code.data() + code.size()) report.failed_exit_code = value;
    }
  }
  return report;
}

std::string exit_code_suffix(const std::optional<int>& code) {
  return code ? fmt::format(" (exit code {})", *code) : std::string();
}

}  // namespace

std::optional<std::string> commit_ref_problem(std::string_view commit_ref) {
  if (commit_ref.empty()) return std::string("commit_ref is empty");
  if (commit_ref.front() == '-') return fmt::format("commit_ref {:?} must not start with '-'", commit_ref);
  for (const unsigned char c : commit_ref) {
    if (c < 0x20 || c == 0x7f) return fmt::format("commit_ref {:?} contains control characters", commit_ref);
  }
  return std::nullopt;
}

std::vector<std::string> deploy_argv(const std::string& commit_ref, const std::string& deploy_command) {
  return {"/bin/sh", "-c", std::string(script), "tether-deploy", commit_ref, deploy_command};
}

DeployResult deploy_result(ProcessOutcome outcome, const std::string& commit_ref, const std::string& directory) {
  const auto report = parse_report(outcome.report);
  DeployResult result{std::move(outcome), report.resolved_commit};
  auto& out = result.outcome;
  if (out.status != "completed") return result;  // timeout, canceled, failed: already what happened

  const auto fail = [&](std::string error) {
    out.status = "failed";
    out.exit_code.reset();
    out.error = std::move(error);
  };
  if (report.failed_step) {
    const auto& step = *report.failed_step;
    const auto code = exit_code_suffix(report.failed_exit_code);
    if (step == "no-git") {
      fail("git is not installed on the server (not found in PATH)");
    } else if (step == "not-a-checkout") {
      fail(fmt::format("working directory {} is not a git checkout", directory));
    } else if (step == "fetch") {
      fail(fmt::format("git fetch --prune --tags origin failed in {}{}", directory, code));
    } else if (step == "unresolved") {
      fail(fmt::format("commit_ref '{}' does not name a branch, tag or commit in {}", commit_ref, directory));
    } else if (step == "checkout") {
      fail(fmt::format("git checkout of {} failed in {}{}", result.resolved_commit.value_or(commit_ref), directory, code));
    } else {
      fail(fmt::format("deploy step '{}' failed in {}{}", step, directory, code));
    }
  } else if (!result.resolved_commit) {
    // The script ended before its first report: something outside it stopped it.
    fail(fmt::format("the deploy ended before a commit was resolved{}", exit_code_suffix(out.exit_code)));
  }
  return result;
}

}  // namespace tether::agent
