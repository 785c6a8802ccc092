#pragma once
// Operation cgroups for the agent's tests, made the way the agent makes its own (detected once for
// the test process, under its own cgroup). Where this machine gives the test process none (no
// cgroup v2, no write access), tests of the cgroup mode say so with a warning and pass without
// checking anything: the process-group mode is what such a machine runs.
#include "agent/operation_cgroups.hpp"

#include <sys/types.h>

#include <memory>
#include <string>

namespace tether::agent::testing {

// Null where cgroups are unavailable (then cgroups_unavailable() says why).
std::shared_ptr<OperationCgroups> test_cgroups();
const std::string& cgroups_unavailable();

// A new operation cgroup with a random id, or null where cgroups are unavailable.
std::shared_ptr<OperationCgroup> new_operation_cgroup();

// `/bin/sh -c shell_command` born in the cgroup, as a previous agent process would have started
// an operation's command; its own process group. Returns the pid.
pid_t start_in_cgroup(const OperationCgroup& cgroup, const std::string& shell_command);

}  // namespace tether::agent::testing

// In a test of the cgroup mode: without cgroups here, warn and leave the test.
#define TETHER_REQUIRE_CGROUPS_OR_RETURN()                                                                 \
  do {                                                                                                     \
    if (!::tether::agent::testing::test_cgroups()) {                                                       \
      WARN("cgroup mode not tested here: " << ::tether::agent::testing::cgroups_unavailable());            \
      return;                                                                                              \
    }                                                                                                      \
  } while (false)
