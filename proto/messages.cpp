#include "proto/messages.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"

#include <fmt/format.h>

#include <limits>

namespace tether::proto {
namespace bj = boost::json;
using json::FieldError;

namespace {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

std::string required_operation_id(const bj::object& obj) {
  auto id = ids::parse_uuid(json::required_string(obj, "operation_id"));
  if (!id) throw FieldError("operation_id: must be a UUID");
  return *id;
}

// An integer field that must fit an int (and a range): a wider value is refused, never narrowed.
int int_in_range(std::int64_t value, std::string_view key, std::int64_t min, std::int64_t max) {
  if (value < min || value > max) throw FieldError(fmt::format("{}: must be from {} to {}", key, min, max));
  return static_cast<int>(value);
}

constexpr std::int64_t int_min = std::numeric_limits<int>::min();
constexpr std::int64_t int_max = std::numeric_limits<int>::max();

std::uint64_t required_seq(const bj::object& obj, std::string_view key) {
  auto value = json::required_int(obj, key);
  if (value < 0) throw FieldError(fmt::format("{}: must not be negative", key));
  return static_cast<std::uint64_t>(value);
}

bj::value optional_to_json(const std::optional<std::string>& value) {
  return value ? bj::value(*value) : bj::value(nullptr);
}

bj::array string_array(const std::vector<std::string>& values) {
  bj::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

bj::object encode_object(const Hello& m) {
  bj::array operations;
  for (const auto& op : m.operations) {
    operations.push_back(bj::object{{"operation_id", op.operation_id},
                                    {"state", op.finished ? "finished" : "running"},
                                    {"last_seq", op.last_seq}});
  }
  return {{"type", "hello"},          {"protocol_version", m.protocol_version},
          {"agent_version", m.agent_version}, {"hostname", m.hostname},
          {"os", m.os},                {"kernel", m.kernel},
          {"arch", m.arch},            {"boot_id", m.boot_id},
          {"capabilities", string_array(m.capabilities)}, {"operations", std::move(operations)}};
}

bj::object encode_object(const Heartbeat&) { return {{"type", "heartbeat"}}; }
bj::object encode_object(const Accepted& m) { return {{"type", "accepted"}, {"operation_id", m.operation_id}}; }
bj::object encode_object(const Rejected& m) {
  return {{"type", "rejected"}, {"operation_id", m.operation_id}, {"error", m.error}};
}
bj::object encode_object(const Started& m) { return {{"type", "started"}, {"operation_id", m.operation_id}}; }
bj::object encode_object(const Finished& m) {
  return {{"type", "finished"},
          {"operation_id", m.operation_id},
          {"status", m.status},
          {"exit_code", m.exit_code ? bj::value(*m.exit_code) : bj::value(nullptr)},
          {"duration_ms", m.duration_ms},
          {"error", optional_to_json(m.error)},
          {"last_seq", m.last_seq},
          {"resolved_commit", optional_to_json(m.resolved_commit)}};
}

bj::object encode_object(const Welcome& m) {
  bj::array operations;
  for (const auto& op : m.operations) {
    operations.push_back(bj::object{{"operation_id", op.operation_id},
                                    {"stored_seq", op.stored_seq},
                                    {"finished_stored", op.finished_stored}});
  }
  return {{"type", "welcome"},
          {"server_id", m.server_id},
          {"heartbeat_interval_seconds", m.heartbeat_interval_seconds},
          {"operations", std::move(operations)}};
}

bj::object encode_object(const Dispatch& m) {
  bj::object env;
  for (const auto& [key, value] : m.env) env[key] = value;
  bj::object out{{"type", "dispatch"},
                 {"operation_id", m.operation_id},
                 {"operation_type", m.operation_type},
                 {"command", m.command},
                 {"working_directory", optional_to_json(m.working_directory)},
                 {"env", std::move(env)},
                 {"timeout_seconds", m.timeout_seconds}};
  // Type-specific fields travel only when set.
  const std::pair<const char*, const std::optional<std::string>*> extras[] = {
      {"commit_ref", &m.commit_ref},     {"container_name", &m.container_name}, {"registry_url", &m.registry_url},
      {"username", &m.username},         {"password", &m.password}};
  for (const auto& [key, value] : extras) {
    if (*value) out[key] = **value;
  }
  return out;
}

bj::object encode_object(const Ack& m) { return {{"type", "ack"}, {"operation_id", m.operation_id}, {"seq", m.seq}}; }
bj::object encode_object(const FinishedAck& m) {
  return {{"type", "finished_ack"}, {"operation_id", m.operation_id}};
}
bj::object encode_object(const Cancel& m) { return {{"type", "cancel"}, {"operation_id", m.operation_id}}; }

std::vector<std::string> string_list(const bj::object& obj, std::string_view key) {
  std::vector<std::string> out;
  if (auto array = json::optional_array(obj, key)) {
    for (const auto& item : *array) {
      if (!item.is_string()) throw FieldError(fmt::format("{}: must contain only strings", key));
      out.emplace_back(item.as_string());
    }
  }
  return out;
}

std::vector<bj::object> object_list(const bj::object& obj, std::string_view key) {
  std::vector<bj::object> out;
  if (auto array = json::optional_array(obj, key)) {
    for (const auto& item : *array) {
      if (!item.is_object()) throw FieldError(fmt::format("{}: must contain only objects", key));
      out.push_back(item.as_object());
    }
  }
  return out;
}

// A hello's text is stored on the server's row and shown to operators: each field is bounded and
// free of control characters, so no agent can bloat the row or forge lines in a log or terminal.
std::string hello_text(const bj::object& obj, std::string_view key, std::size_t max_bytes) {
  auto value = json::optional_string(obj, key).value_or("");
  if (value.size() > max_bytes) throw FieldError(fmt::format("{}: at most {} bytes", key, max_bytes));
  for (const unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) throw FieldError(fmt::format("{}: must not contain control characters", key));
  }
  return value;
}

Hello decode_hello(const bj::object& obj) {
  Hello m;
  m.protocol_version = int_in_range(json::required_int(obj, "protocol_version"), "protocol_version", 0, int_max);
  m.agent_version = hello_text(obj, "agent_version", hello_limits::short_text_bytes);
  m.hostname = hello_text(obj, "hostname", hello_limits::hostname_bytes);
  m.os = hello_text(obj, "os", hello_limits::long_text_bytes);
  m.kernel = hello_text(obj, "kernel", hello_limits::long_text_bytes);
  m.arch = hello_text(obj, "arch", hello_limits::short_text_bytes);
  m.boot_id = hello_text(obj, "boot_id", hello_limits::short_text_bytes);
  m.capabilities = string_list(obj, "capabilities");
  if (m.capabilities.size() > hello_limits::max_capabilities) {
    throw FieldError(fmt::format("capabilities: at most {} entries", hello_limits::max_capabilities));
  }
  for (const auto& capability : m.capabilities) {
    if (capability.size() > hello_limits::short_text_bytes) {
      throw FieldError(fmt::format("capabilities: each at most {} bytes", hello_limits::short_text_bytes));
    }
  }
  const auto entries = object_list(obj, "operations");
  if (entries.size() > hello_limits::max_operations) {
    throw FieldError(fmt::format("operations: at most {} entries", hello_limits::max_operations));
  }
  for (const auto& entry : entries) {
    JournalEntrySummary summary;
    summary.operation_id = required_operation_id(entry);
    const auto state = json::required_string(entry, "state");
    if (state != "running" && state != "finished") throw FieldError("operations.state: must be running or finished");
    summary.finished = state == "finished";
    summary.last_seq = required_seq(entry, "last_seq");
    m.operations.push_back(std::move(summary));
  }
  return m;
}

Finished decode_finished(const bj::object& obj) {
  Finished m;
  m.operation_id = required_operation_id(obj);
  m.status = json::required_string(obj, "status");
  if (!is_finished_status(m.status)) throw FieldError("status: must be completed, timeout, failed or canceled");
  if (auto code = json::optional_int(obj, "exit_code")) m.exit_code = int_in_range(*code, "exit_code", int_min, int_max);
  m.duration_ms = json::optional_int(obj, "duration_ms").value_or(0);
  m.error = json::optional_string(obj, "error");
  m.last_seq = required_seq(obj, "last_seq");
  m.resolved_commit = json::optional_string(obj, "resolved_commit");
  return m;
}

Welcome decode_welcome(const bj::object& obj) {
  Welcome m;
  m.server_id = json::required_string(obj, "server_id");
  m.heartbeat_interval_seconds =
      int_in_range(json::required_int(obj, "heartbeat_interval_seconds"), "heartbeat_interval_seconds", 1, 86400);
  for (const auto& entry : object_list(obj, "operations")) {
    StoredOperationState state;
    state.operation_id = required_operation_id(entry);
    state.stored_seq = required_seq(entry, "stored_seq");
    state.finished_stored = json::optional_bool(entry, "finished_stored").value_or(false);
    m.operations.push_back(std::move(state));
  }
  return m;
}

Dispatch decode_dispatch(const bj::object& obj) {
  Dispatch m;
  m.operation_id = required_operation_id(obj);
  m.operation_type = json::required_string(obj, "operation_type");
  const auto& type = m.operation_type;
  // Each type's own fields are required for it; an unknown type is the agent's to reject.
  m.command = (type == "exec" || type == "deploy") ? json::required_string(obj, "command")
                                                   : json::optional_string(obj, "command").value_or("");
  m.working_directory = json::optional_string(obj, "working_directory");
  if (auto env = json::optional_object(obj, "env")) {
    for (const auto& item : *env) {
      if (!item.value().is_string()) throw FieldError(fmt::format("env.{}: must be a string", std::string(item.key())));
      m.env.emplace(std::string(item.key()), std::string(item.value().as_string()));
    }
  }
  m.timeout_seconds = int_in_range(json::required_int(obj, "timeout_seconds"), "timeout_seconds", 1, int_max);
  m.commit_ref = json::optional_string(obj, "commit_ref");
  m.container_name = json::optional_string(obj, "container_name");
  m.registry_url = json::optional_string(obj, "registry_url");
  m.username = json::optional_string(obj, "username");
  m.password = json::optional_string(obj, "password");
  const auto require = [&](const std::optional<std::string>& value, std::string_view field) {
    if (!value) throw FieldError(fmt::format("{}: field required for {}", field, type));
  };
  if (type == "deploy") require(m.commit_ref, "commit_ref");
  if (type == "deploy") require(m.working_directory, "working_directory");
  if (type == "restart") require(m.container_name, "container_name");
  if (type == "registry_login" || type == "registry_logout") require(m.registry_url, "registry_url");
  if (type == "registry_login") require(m.username, "username");
  if (type == "registry_login") require(m.password, "password");
  return m;
}

}  // namespace

bool is_finished_status(std::string_view status) {
  return status == "completed" || status == "timeout" || status == "failed" || status == "canceled";
}

void fit_to_limits(Hello& hello) {
  const auto fit = [](std::string& text, std::size_t max_bytes) {
    for (auto& c : text) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    if (text.size() <= max_bytes) return;
    std::size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // not inside a character
    text.resize(end);
  };
  fit(hello.agent_version, hello_limits::short_text_bytes);
  fit(hello.hostname, hello_limits::hostname_bytes);
  fit(hello.os, hello_limits::long_text_bytes);
  fit(hello.kernel, hello_limits::long_text_bytes);
  fit(hello.arch, hello_limits::short_text_bytes);
  fit(hello.boot_id, hello_limits::short_text_bytes);
}

std::string encode(const AgentMessage& message) {
  return json::serialize(std::visit([](const auto& m) { return encode_object(m); }, message));
}

std::string encode(const ControllerMessage& message) {
  return json::serialize(std::visit([](const auto& m) { return encode_object(m); }, message));
}

std::optional<AgentMessage> decode_agent_message(std::string_view text) {
  const auto obj = json::parse_object(text, "agent message");
  const auto type = json::required_string(obj, "type");
  if (type == "hello") return decode_hello(obj);
  if (type == "heartbeat") return Heartbeat{};
  if (type == "accepted") return Accepted{required_operation_id(obj)};
  if (type == "rejected") return Rejected{required_operation_id(obj), json::required_string(obj, "error")};
  if (type == "started") return Started{required_operation_id(obj)};
  if (type == "finished") return decode_finished(obj);
  return std::nullopt;
}

std::optional<ControllerMessage> decode_controller_message(std::string_view text) {
  const auto obj = json::parse_object(text, "controller message");
  const auto type = json::required_string(obj, "type");
  if (type == "welcome") return decode_welcome(obj);
  if (type == "dispatch") return decode_dispatch(obj);
  if (type == "ack") return Ack{required_operation_id(obj), required_seq(obj, "seq")};
  if (type == "finished_ack") return FinishedAck{required_operation_id(obj)};
  if (type == "cancel") return Cancel{required_operation_id(obj)};
  return std::nullopt;
}

}  // namespace tether::proto
