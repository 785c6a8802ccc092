#pragma once
// Cleanup that survives the test process: when a test is killed (kill -9, a ctest timeout, a
// crash), its destructors never run, yet nothing it started may be left behind. The first use
// starts a guardian: a detached shell (its own session, outside the test's process tree, so a
// killer of that tree misses it) that reads a pipe from the test process. When that pipe closes,
// which the kernel does however the test process ends, the guardian runs the cleanup commands
// registered below, then SIGKILLs every process that carries this test process's marker in its
// environment: the controllers and agents it started, and the commands those agents run in
// process groups of their own, which inherit the agents' environment.
#include <filesystem>
#include <string>

namespace tether::testing {

// The environment variable (set in this process, inherited by everything it starts) that marks
// the processes a guardian ends. Its value is unique to the test process.
// Not TETHER_*: processes under test drop inherited TETHER_* variables.
inline constexpr const char* guard_marker_variable = "TEST_GUARD_MARKER";

// Starts the guardian once per process (later calls do nothing). Called by ChildProcess before it
// starts anything; call it earlier in a test that changes how orphans are re-parented.
void start_process_guard();

// A /bin/sh command the guardian runs when the test process has ended, before it kills the
// marked processes; it must do no harm when the thing it cleans up is already gone (a test that
// ended normally has cleaned up itself). E.g. stopping a PostgreSQL server the test started.
void on_test_process_death(const std::string& shell_command);

// A directory (or file) the guardian removes after it killed the marked processes, e.g. a
// TempDir; nothing happens when it is already gone.
void remove_on_test_process_death(const std::filesystem::path& path);

}  // namespace tether::testing
