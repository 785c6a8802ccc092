#pragma once
// Starting long commands and following them to their end, for the tests that kill things while
// a command runs.
#include "tests/e2e/e2e_checks.hpp"
#include "tests/support/sse_client.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace tether::reliability {

// POST /api/automation/v1/exec of a command that outlasts the stack's sync wait (the stacks here
// use --sync-wait-cap-seconds 1); REQUIREs the answer 200 "running" and returns its operation id.
std::string start_running_command(testing::TetherStack& stack, const std::string& automation_key,
                                  const std::string& command, int timeout_seconds = 120);

// GET /api/operations/{id} (operator view, with the admin key, which no rate limit slows) until
// its status is no longer "running"; returns that view. Transport errors and 503 answers count as
// "not yet" (the controller or its database may be coming back). FAILs with both logs when the
// operation is still running after `timeout`.
boost::json::object wait_until_ended(testing::TetherStack& stack, const std::string& operation_id,
                                     std::chrono::milliseconds timeout);

// Waits until the controller that runs now has the agent's socket ("connected": true in
// GET /api/servers/{id}); the stored status alone may still say "active" from before a crash.
void wait_until_connected(testing::TetherStack& stack, std::size_t agent_index, std::chrono::milliseconds timeout);

// The server's status as GET /api/servers lists it (FAILs when it is not listed).
std::string listed_status(testing::TetherStack& stack, const std::string& server_id);

// The stack's controller and agent logs, for failure messages.
std::string stack_logs(const testing::TetherStack& stack);

// The live output routes of an operation: v1 (rca_ keys) and operators.
std::string v1_target(const std::string& operation_id);
std::string operator_target(const std::string& operation_id);
// A request for one of them on the stack's port, with a bearer key and Last-Event-ID when given.
testing::SseRequest stream_request(const testing::TetherStack& stack, std::string target,
                                   std::optional<std::string> bearer = std::nullopt,
                                   std::optional<std::string> last_event_id = std::nullopt);

// "1\n2\n...\nlast\n".
std::string numbered_lines(int last);

}  // namespace tether::reliability
