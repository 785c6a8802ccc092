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

bool Dispatcher::send(const std::string& server_id, const proto::Dispatch& dispatch) {
  std::shared_ptr<agents::AgentLink> link;
  {
    std::lock_guard lock(mutex_);
    auto it = links_.find(server_id);
    if (it == links_.end()) return false;
    link = it->second;
  }
  link->send(dispatch);
  return true;
}

void Dispatcher::remember_env(const std::string& operation_id, EnvMap env) {
  if (env.empty()) return;
  std::lock_guard lock(mutex_);
  pending_env_[operation_id] = std::move(env);
}

std::optional<EnvMap> Dispatcher::env_for(const store::OperationRecord& operation) const {
  if (operation.env_keys.empty()) return EnvMap{};
  std::lock_guard lock(mutex_);
  auto it = pending_env_.find(operation.id);
  if (it == pending_env_.end()) return std::nullopt;
  return it->second;
}

void Dispatcher::forget_env(const std::string& operation_id) {
  std::lock_guard lock(mutex_);
  pending_env_.erase(operation_id);
}

proto::Dispatch dispatch_message(const store::OperationRecord& operation, EnvMap env) {
  const auto params = json::parse_object(operation.params_json, "operation params");
  proto::Dispatch dispatch;
  dispatch.operation_id = operation.id;
  dispatch.operation_type = operation.type;
  dispatch.command = json::optional_string(params, "command").value_or("");
  dispatch.working_directory = json::optional_string(params, "working_directory");
  dispatch.env = std::move(env);
  dispatch.timeout_seconds = operation.timeout_seconds;
  return dispatch;
}

}  // namespace tether::dispatch
