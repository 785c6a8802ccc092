#pragma once
#include "controller/store/page.hpp"
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::store::servers {

struct AgentFacts {
  std::string hostname, os, kernel, arch, agent_version, boot_id;
};

ServerRecord insert(pqxx::transaction_base& txn, const std::string& id, const std::string& name,
                    const std::vector<std::string>& tags, const std::string& token_prefix,
                    const std::string& token_hash);
// GET /api/servers: each filter that is set narrows the list (all of them together).
struct ListFilter {
  std::optional<std::string> status;
  std::optional<std::string> tag;          // servers carrying this tag
  std::optional<std::string> name_prefix;  // names starting with these bytes
};
// A page of servers by name (compared byte by byte), then id: decommissioned servers may share a
// name with a live one. Served by servers_by_name (or servers_by_status_name); a prefix is a range.
Page<ServerRecord> list(pqxx::transaction_base& txn, const ListFilter& filter, const PageRequest& page);
// Of these servers, those that exist and are not decommissioned.
std::vector<std::string> live_among(pqxx::transaction_base& txn, const std::vector<std::string>& ids);
// A run's targets: the listed servers plus every server carrying one of `tags`, decommissioned
// ones left out, each once, listed ones first in their order, then the tagged ones by name.
std::vector<std::string> resolve_targets(pqxx::transaction_base& txn, const std::vector<std::string>& server_ids,
                                         const std::vector<std::string>& tags);
std::optional<ServerRecord> find(pqxx::transaction_base& txn, const std::string& id);
// Decommissioned servers keep their row (operations refer to it) but lose their token.
bool decommission(pqxx::transaction_base& txn, const std::string& id);
std::optional<AgentCredential> find_credential(pqxx::transaction_base& txn, const std::string& token_prefix);
void record_hello(pqxx::transaction_base& txn, const std::string& id, const AgentFacts& facts);
void record_heartbeat(pqxx::transaction_base& txn, const std::string& id);
// Marks active servers silent for longer than `seconds` unreachable; returns their ids.
std::vector<std::string> mark_silent_unreachable(pqxx::transaction_base& txn, int seconds);
bool name_in_use(pqxx::transaction_base& txn, const std::string& name);
// Renames and/or retags a server that is not decommissioned (nullopt: unchanged); nullopt when
// there is no such server.
std::optional<ServerRecord> update(pqxx::transaction_base& txn, const std::string& id,
                                   const std::optional<std::string>& name,
                                   const std::optional<std::vector<std::string>>& tags);

}  // namespace tether::store::servers

namespace tether::store::servers {
// agent_sessions: which controller instance holds a server's socket.
void claim_session(pqxx::transaction_base& txn, const std::string& server_id, const std::string& instance);
void release_session(pqxx::transaction_base& txn, const std::string& server_id, const std::string& instance);
// At start-up an instance forgets the sockets it held before it restarted.
void release_all_sessions(pqxx::transaction_base& txn, const std::string& instance);
}  // namespace tether::store::servers
