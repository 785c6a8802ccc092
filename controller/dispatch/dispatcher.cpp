#include "controller/dispatch/dispatcher.hpp"

#include "common/json_fields.hpp"
#include "controller/agents/agent_link.hpp"

namespace tether::dispatch {

void Dispatcher::attach(const std::shared_ptr<agents::AgentLink>& link) {
  std::shared_ptr<agents::AgentLink> replaced;
  {
    std::lock_guard lock(mutex_);
    auto& slot = links_[link->server_id()];
    if (slot != link) replaced = std::exchange(slot, link);
  }
  if (replaced) replaced->close("replaced by a newer connection of the same agent");
}

bool Dispatcher::detach(const std::string& server_id, const agents::AgentLink* link) {
  std::lock_guard lock(mutex_);
  auto it = links_.find(server_id);
  if (it == links_.end() || it->second.get() != link) return false;
  links_.erase(it);
  return true;
}

bool Dispatcher::connected(const std::string& server_id) const {
  std::lock_guard lock(mutex_);
  return links_.count(server_id) > 0;
}

std::vector<std::string> Dispatcher::connected_servers() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, link] : links_) ids.push_back(id);
  return ids;
}

void Dispatcher::disconnect(const std::string& server_id, const std::string& reason) {
  std::shared_ptr<agents::AgentLink> link;
  {
    std::lock_guard lock(mutex_);
    auto it = links_.find(server_id);
    if (it == links_.end()) return;
    link = std::move(it->second);
    links_.erase(it);
  }
  link->close(reason);
}

bool Dispatcher::send(const std::string& server_id, const proto::ControllerMessage& message) {
  std::shared_ptr<agents::AgentLink> link;
  {
    std::lock_guard lock(mutex_);
    auto it = links_.find(server_id);
    if (it == links_.end()) return false;
    link = it->second;
  }
  link->send(message);
  return true;
}

bool carries_secrets(const proto::Dispatch& dispatch) { return !dispatch.env.empty() || dispatch.password; }

void Dispatcher::remember(const proto::Dispatch& dispatch) {
  if (!carries_secrets(dispatch)) return;
  std::lock_guard lock(mutex_);
  pending_secrets_[dispatch.operation_id] = dispatch;
}

std::optional<proto::Dispatch> Dispatcher::redelivery(const store::OperationRecord& operation) const {
  {
    std::lock_guard lock(mutex_);
    if (auto it = pending_secrets_.find(operation.id); it != pending_secrets_.end()) return it->second;
  }
  auto dispatch = dispatch_from_params(operation);
  const bool had_secrets = !operation.env_keys.empty() || operation.type == "registry_login";
  if (had_secrets) return std::nullopt;
  return dispatch;
}

void Dispatcher::forget(const std::string& operation_id) {
  std::lock_guard lock(mutex_);
  pending_secrets_.erase(operation_id);
}

std::string params_json(const proto::Dispatch& dispatch) {
  boost::json::object params{{"command", dispatch.command}};
  params["working_directory"] =
      dispatch.working_directory ? boost::json::value(*dispatch.working_directory) : boost::json::value(nullptr);
  const std::pair<const char*, const std::optional<std::string>*> extras[] = {
      {"commit_ref", &dispatch.commit_ref},
      {"container_name", &dispatch.container_name},
      {"registry_url", &dispatch.registry_url},
      {"username", &dispatch.username}};  // never the password
  for (const auto& [key, value] : extras) {
    if (*value) params[key] = **value;
  }
  return json::serialize(params);
}

proto::Dispatch dispatch_from_params(const store::OperationRecord& operation) {
  const auto params = json::parse_object(operation.params_json, "operation params");
  proto::Dispatch dispatch;
  dispatch.operation_id = operation.id;
  dispatch.operation_type = operation.type;
  dispatch.command = json::optional_string(params, "command").value_or("");
  dispatch.working_directory = json::optional_string(params, "working_directory");
  dispatch.timeout_seconds = operation.timeout_seconds;
  dispatch.commit_ref = json::optional_string(params, "commit_ref");
  dispatch.container_name = json::optional_string(params, "container_name");
  dispatch.registry_url = json::optional_string(params, "registry_url");
  dispatch.username = json::optional_string(params, "username");
  return dispatch;
}

}  // namespace tether::dispatch
