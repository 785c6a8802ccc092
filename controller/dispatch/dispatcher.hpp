#pragma once
// The controller's side of operation delivery: which agents are connected to this instance, the
// dispatches not yet accepted whose secrets (env values, registry passwords) are held in memory
// only and never stored, who waits for which operation, and who follows its output live.
#include "controller/dispatch/operation_waiters.hpp"
#include "controller/store/db_pool.hpp"
#include "controller/store/records.hpp"
#include "controller/streams/output_hub.hpp"
#include "proto/messages.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace tether::agents {
class AgentLink;
}

namespace tether::dispatch {

using EnvMap = std::map<std::string, std::string>;

struct DispatchSettings {
  std::string instance_id;  // this controller process, for agent_sessions
  int heartbeat_interval_seconds = 10;
  std::int64_t max_output_bytes_per_stream = 4 * 1024 * 1024;
};

class Dispatcher {
 public:
  Dispatcher(store::DbPool& db, DispatchSettings settings) : db_(db), settings_(std::move(settings)) {}

  // A link is attached once its hello is settled; an older link of the same server is closed.
  void attach(const std::shared_ptr<agents::AgentLink>& link);
  // Returns false when the server's slot holds another link (this one was replaced or never attached).
  bool detach(const std::string& server_id, const agents::AgentLink* link);
  bool connected(const std::string& server_id) const;
  void disconnect(const std::string& server_id, const std::string& reason);
  std::vector<std::string> connected_servers() const;

  // Hands the message to the server's link if it is connected here; false otherwise.
  bool send(const std::string& server_id, const proto::ControllerMessage& message);

  // Keeps a dispatch that carries secrets until the agent accepts it, for redelivery.
  void remember(const proto::Dispatch& dispatch);
  // The dispatch to (re)send for a stored operation: rebuilt from its params, with the secrets
  // this process remembers; nullopt when it had secrets that this process no longer holds.
  std::optional<proto::Dispatch> redelivery(const store::OperationRecord& operation) const;
  void forget(const std::string& operation_id);

  OperationWaiters& waiters() { return waiters_; }
  streams::OutputHub& output_hub() { return output_hub_; }
  store::DbPool& db() { return db_; }
  const DispatchSettings& settings() const { return settings_; }

 private:
  store::DbPool& db_;
  DispatchSettings settings_;
  OperationWaiters waiters_;
  streams::OutputHub output_hub_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<agents::AgentLink>> links_;
  std::unordered_map<std::string, proto::Dispatch> pending_secrets_;
};

// Whether a dispatch carries anything that must never be stored.
bool carries_secrets(const proto::Dispatch& dispatch);
// The stored, secret-free part of a dispatch (operations.params) and the way back.
std::string params_json(const proto::Dispatch& dispatch);
proto::Dispatch dispatch_from_params(const store::OperationRecord& operation);

}  // namespace tether::dispatch
