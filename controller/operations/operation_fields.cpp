#include "controller/operations/operation_fields.hpp"

#include "common/json_fields.hpp"

#include <boost/json.hpp>

namespace tether::operations {

bool valid_container_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

bool valid_git_ref(std::string_view ref) {
  if (ref.empty() || ref.size() > 255 || ref.front() == '-') return false;
  for (unsigned char c : ref) {
    if (c < 0x20 || c == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' ||
        c == '\\') {
      return false;
    }
  }
  return ref.find("..") == std::string_view::npos;
}

std::string params_json(const OperationFields& f) {
  boost::json::object params;
  if (f.type == "exec") {
    params["command"] = f.command;
    if (f.working_directory) params["working_directory"] = *f.working_directory;
  }
  if (f.type == "exec" || f.type == "deploy" || f.type == "restart" || f.type == "reboot") {
    params["timeout_seconds"] = f.timeout_seconds;
  }
  const std::pair<const char*, const std::optional<std::string>*> optional_fields[] = {
      {"application_id", &f.application_id}, {"commit_ref", &f.commit_ref},
      {"container_name", &f.container_name}, {"credential_id", &f.credential_id},
      {"registry_url", &f.registry_url}};
  for (const auto& [name, value] : optional_fields) {
    if (*value) params[name] = **value;
  }
  return json::serialize(params);
}

OperationFields fields_from_params(const std::string& type, const std::string& text) {
  const auto params = json::parse_object(text, "operation params");
  OperationFields f;
  f.type = type;
  f.command = json::optional_string(params, "command").value_or("");
  f.working_directory = json::optional_string(params, "working_directory");
  if (auto timeout = json::optional_int(params, "timeout_seconds")) f.timeout_seconds = static_cast<int>(*timeout);
  f.application_id = json::optional_string(params, "application_id");
  f.commit_ref = json::optional_string(params, "commit_ref");
  f.container_name = json::optional_string(params, "container_name");
  f.credential_id = json::optional_string(params, "credential_id");
  f.registry_url = json::optional_string(params, "registry_url");
  return f;
}

}  // namespace tether::operations
