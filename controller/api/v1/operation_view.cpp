#include "controller/api/v1/operation_view.hpp"

#include "common/utf8.hpp"

namespace tether::api::v1 {
namespace {

boost::json::value nullable(const std::optional<std::string>& value) {
  return value ? boost::json::value(*value) : boost::json::value(nullptr);
}

std::optional<std::string> error_of(const store::OperationRecord& operation) {
  if (operation.status == "canceled") return operation.error.value_or("the operation was canceled");
  if (operation.status == "timeout" && !operation.error) {
    return "the command did not finish within " + std::to_string(operation.timeout_seconds) + " seconds";
  }
  return operation.error;
}

void add_result_fields(boost::json::object& out, const store::OperationRecord& operation) {
  out["exit_code"] = operation.exit_code ? boost::json::value(*operation.exit_code) : boost::json::value(nullptr);
  out["stdout"] = utf8::sanitize(operation.stdout_data);
  out["stderr"] = utf8::sanitize(operation.stderr_data);
  // Past --max-output-bytes a stream keeps only its head: say so, rather than pass a cut output
  // off as the whole of it.
  out["stdout_truncated"] = operation.stdout_truncated;
  out["stderr_truncated"] = operation.stderr_truncated;
  out["duration_ms"] = operation.duration_ms ? boost::json::value(*operation.duration_ms) : boost::json::value(nullptr);
}

}  // namespace

bool is_terminal(std::string_view status) {
  return status == "completed" || status == "failed" || status == "timeout" || status == "canceled";
}

std::string_view public_status(std::string_view status) {
  if (status == "canceled") return "failed";
  if (!is_terminal(status)) return "running";
  return status;
}

boost::json::object exec_answer(const store::OperationRecord& operation) {
  boost::json::object out{{"operation_id", operation.id}, {"status", public_status(operation.status)}};
  if (!is_terminal(operation.status)) return out;
  add_result_fields(out, operation);
  if (auto error = error_of(operation)) out["error"] = *error;
  return out;
}

boost::json::object operation_view(const store::OperationRecord& operation) {
  boost::json::object out{{"operation_id", operation.id},
                          {"operation_type", operation.type},
                          {"server_id", operation.server_id},
                          {"server_name", operation.server_name},
                          {"status", public_status(operation.status)},
                          {"result", nullptr},
                          {"run_id", nullable(operation.run_id)},
                          {"created_at", operation.created_at},
                          {"started_at", nullable(operation.started_at)},
                          {"completed_at", nullable(operation.completed_at)}};
  if (is_terminal(operation.status)) {
    boost::json::object result;
    add_result_fields(result, operation);
    out["result"] = std::move(result);
    if (auto error = error_of(operation)) out["error"] = *error;
  }
  return out;
}

}  // namespace tether::api::v1
