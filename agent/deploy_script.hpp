#pragma once
// The deploy operation as one shell script: fetch, resolve the ref, check it out, then the deploy
// command. As one process it is one process group under one deadline, so a timeout or cancel
// stops whichever step is running, and git's own output is the operation's output. The ref and
// the deploy command reach the script as positional parameters, never as shell text. The script
// tells the agent on fd 3 (ProcessSpec::report_pipe) which commit it resolved, or which step
// failed, and closes fd 3 before the deploy command runs.
#include "agent/process_runner.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent {

// Why `commit_ref` cannot be handed to git, or nullopt: empty, starting with '-' (git would read
// an option), or containing control characters.
std::optional<std::string> commit_ref_problem(std::string_view commit_ref);

// argv of the script, for ProcessSpec::argv (with report_pipe set and the checkout as the
// working directory).
std::vector<std::string> deploy_argv(const std::string& commit_ref, const std::string& deploy_command);

struct DeployResult {
  ProcessOutcome outcome;
  std::optional<std::string> resolved_commit;  // the full SHA, whenever the ref resolved
};

// The operation's result from the script's outcome and report. A step before the deploy command
// that fails (git missing, not a checkout, fetch, an unknown ref, checkout) makes the operation
// `failed` with an error naming the step, because the deploy command never ran; once it ran, the
// outcome is the deploy command's (`completed` with its exit code, or timeout/canceled).
DeployResult deploy_result(ProcessOutcome outcome, const std::string& commit_ref, const std::string& directory);

}  // namespace tether::agent
