#include "agent/operation_record.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"

#include <boost/json.hpp>

#include <array>
#include <utility>

namespace tether::agent {
namespace bj = boost::json;

std::string_view to_string(OperationState state) {
  switch (state) {
    case OperationState::accepted:
      return "accepted";
    case OperationState::running:
      return "running";
    case OperationState::finished:
      return "finished";
  }
  return "unknown";
}

namespace {

OperationState parse_state(const std::string& text) {
  if (text == "accepted") return OperationState::accepted;
  if (text == "running") return OperationState::running;
  if (text == "finished") return OperationState::finished;
  throw json::FieldError("state: must be accepted, running or finished");
}

bj::value optional_string_value(const std::optional<std::string>& value) {
  return value ? bj::value(*value) : bj::value(nullptr);
}

template <class Record>
auto type_fields(Record& record) {
  return std::array{std::pair{"commit_ref", &record.commit_ref}, std::pair{"container_name", &record.container_name},
                    std::pair{"registry_url", &record.registry_url}, std::pair{"username", &record.username}};
}

}  // namespace

std::string encode_record(const OperationRecord& record) {
  bj::array env_keys;
  for (const auto& key : record.env_keys) env_keys.emplace_back(key);
  bj::object out{{"id", record.id},
                 {"type", record.type},
                 {"command", record.command},
                 {"working_directory", optional_string_value(record.working_directory)},
                 {"timeout_seconds", record.timeout_seconds},
                 {"env_keys", std::move(env_keys)},
                 {"state", to_string(record.state)},
                 {"accepted_at", record.accepted_at},
                 {"boot_id", record.boot_id}};
  // Fields of one operation type are written only for it.
  for (const auto& [key, value] : type_fields(record)) {
    if (*value) out[key] = **value;
  }
  if (record.process) {
    out["process"] = bj::object{{"pid", record.process->pid},
                                {"pgid", record.process->pgid},
                                {"start_ticks", record.process->start_ticks}};
  }
  if (record.result) {
    const auto& r = *record.result;
    out["result"] = bj::object{{"status", r.status},
                               {"exit_code", r.exit_code ? bj::value(*r.exit_code) : bj::value(nullptr)},
                               {"duration_ms", r.duration_ms},
                               {"error", optional_string_value(r.error)},
                               {"last_seq", r.last_seq}};
    if (r.resolved_commit) out["result"].as_object()["resolved_commit"] = *r.resolved_commit;
  }
  return json::serialize(out);
}

OperationRecord decode_record(std::string_view text) {
  const auto obj = json::parse_object(text, "journal record");
  OperationRecord record;
  auto id = ids::parse_uuid(json::required_string(obj, "id"));
  if (!id) throw json::FieldError("id: must be a UUID");
  record.id = *id;
  record.type = json::required_string(obj, "type");
  record.command = json::required_string(obj, "command");
  record.working_directory = json::optional_string(obj, "working_directory");
  for (const auto& [key, value] : type_fields(record)) *value = json::optional_string(obj, key);
  record.timeout_seconds = static_cast<int>(json::required_int(obj, "timeout_seconds"));
  if (auto keys = json::optional_array(obj, "env_keys")) {
    for (const auto& key : *keys) {
      if (!key.is_string()) throw json::FieldError("env_keys: must contain only strings");
      record.env_keys.emplace_back(key.as_string());
    }
  }
  record.state = parse_state(json::required_string(obj, "state"));
  record.accepted_at = json::optional_string(obj, "accepted_at").value_or("");
  record.boot_id = json::optional_string(obj, "boot_id").value_or("");
  if (auto process = json::optional_object(obj, "process")) {
    ProcessIdentity identity;
    identity.pid = static_cast<pid_t>(json::required_int(*process, "pid"));
    identity.pgid = static_cast<pid_t>(json::required_int(*process, "pgid"));
    identity.start_ticks = static_cast<std::uint64_t>(json::required_int(*process, "start_ticks"));
    record.process = identity;
  }
  if (auto result = json::optional_object(obj, "result")) {
    OperationResult r;
    r.status = json::required_string(*result, "status");
    if (auto code = json::optional_int(*result, "exit_code")) r.exit_code = static_cast<int>(*code);
    r.duration_ms = json::optional_int(*result, "duration_ms").value_or(0);
    r.error = json::optional_string(*result, "error");
    r.last_seq = static_cast<std::uint64_t>(json::optional_int(*result, "last_seq").value_or(0));
    r.resolved_commit = json::optional_string(*result, "resolved_commit");
    record.result = std::move(r);
  }
  if (record.state == OperationState::finished && !record.result) throw json::FieldError("result: required when finished");
  return record;
}

}  // namespace tether::agent
