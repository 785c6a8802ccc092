#pragma once
// Operations as seed 003 shows them: only running|completed|failed|timeout.
#include "controller/store/records.hpp"

#include <boost/json.hpp>

#include <string_view>

namespace tether::api::v1 {

// queued/dispatched read as running; canceled reads as failed.
std::string_view public_status(std::string_view status);
bool is_terminal(std::string_view status);

// The exec answer: the full result when the operation has ended, else {operation_id, status: running}.
boost::json::object exec_answer(const store::OperationRecord& operation);
// GET /operations/{id}.
boost::json::object operation_view(const store::OperationRecord& operation);

}  // namespace tether::api::v1
