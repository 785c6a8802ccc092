#include "controller/store/server_store.hpp"

#include "controller/store/sql_text.hpp"

namespace tether::store::servers {
namespace {

const char* const server_columns =
    "id::text, name, array_to_json(tags)::text, status, hostname, os, kernel, arch, agent_version, boot_id, "
    TETHER_SQL_TS("last_seen_at") ", " TETHER_SQL_TS("created_at");

ServerRecord server_record(const pqxx::row& row) {
  ServerRecord r;
  r.id = row[0].as<std::string>();
  r.name = row[1].as<std::string>();
  r.tags = from_json_array(row[2]);
  r.status = row[3].as<std::string>();
  r.hostname = optional_text(row[4]);
  r.os = optional_text(row[5]);
  r.kernel = optional_text(row[6]);
  r.arch = optional_text(row[7]);
  r.agent_version = optional_text(row[8]);
  r.boot_id = optional_text(row[9]);
  r.last_seen_at = optional_text(row[10]);
  r.created_at = row[11].as<std::string>();
  return r;
}

}  // namespace

ServerRecord insert(pqxx::transaction_base& txn, const std::string& id, const std::string& name,
                    const std::vector<std::string>& tags, const std::string& token_prefix,
                    const std::string& token_hash) {
  auto row = txn.exec_params1(
      std::string("INSERT INTO servers (id, name, tags, agent_token_prefix, agent_token_hash) "
                  "VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4, $5) RETURNING ") +
          server_columns,
      id, name, to_json_array(tags), token_prefix, token_hash);
  return server_record(row);
}

Page<ServerRecord> list(pqxx::transaction_base& txn, const ListFilter& filter, const PageRequest& page) {
  // A statement planned with its parameters (not a cached generic plan): a filter that is not
  // set folds away, and a name prefix becomes a range of the index (starts_with on a "C" key).
  std::optional<std::string> after_name, after_id;
  if (page.after) {
    after_name = page.after->sort;
    after_id = page.after->id;
  }
  std::vector<ServerRecord> rows;
  for (const auto& row : txn.exec_params(
           std::string("SELECT ") + server_columns +
               " FROM servers WHERE ($1::text IS NULL OR status = $1) "
               "AND ($2::text IS NULL OR tags @> ARRAY[$2::text]) "
               "AND ($3::text IS NULL OR starts_with(name COLLATE \"C\", $3)) "
               "AND ($4::text IS NULL OR (name COLLATE \"C\", id) > ($4 COLLATE \"C\", $5::uuid)) "
               // Qualified: a bare `id` would be the text column of the select list.
               "ORDER BY servers.name COLLATE \"C\", servers.id LIMIT $6",
           filter.status, filter.tag, filter.name_prefix, after_name, after_id, page.limit + 1)) {
    rows.push_back(server_record(row));
  }
  return page_of(std::move(rows), page.limit,
                 [](const ServerRecord& server) { return PageAfter{server.name, server.id}; });
}

std::optional<ServerRecord> find(pqxx::transaction_base& txn, const std::string& id) {
  auto result =
      exec_cached(txn, "server_by_id", std::string("SELECT ") + server_columns + " FROM servers WHERE id = $1", id);
  if (result.empty()) return std::nullopt;
  return server_record(result[0]);
}

bool decommission(pqxx::transaction_base& txn, const std::string& id) {
  auto result = txn.exec_params(
      "UPDATE servers SET status = 'decommissioned', decommissioned_at = now(), "
      "agent_token_prefix = NULL, agent_token_hash = NULL WHERE id = $1",
      id);
  txn.exec_params("DELETE FROM agent_sessions WHERE server_id = $1", id);
  return result.affected_rows() == 1;
}

std::optional<AgentCredential> find_credential(pqxx::transaction_base& txn, const std::string& token_prefix) {
  auto result = txn.exec_params(
      "SELECT id::text, agent_token_hash, status FROM servers WHERE agent_token_prefix = $1", token_prefix);
  if (result.empty()) return std::nullopt;
  return AgentCredential{result[0][0].as<std::string>(), result[0][1].as<std::string>(),
                         result[0][2].as<std::string>()};
}

void record_hello(pqxx::transaction_base& txn, const std::string& id, const AgentFacts& facts) {
  txn.exec_params(
      "UPDATE servers SET status = 'active', last_seen_at = now(), hostname = $2, os = $3, kernel = $4, "
      "arch = $5, agent_version = $6, boot_id = $7 WHERE id = $1 AND status <> 'decommissioned'",
      id, facts.hostname, facts.os, facts.kernel, facts.arch, facts.agent_version, facts.boot_id);
}

void record_heartbeat(pqxx::transaction_base& txn, const std::string& id) {
  txn.exec_params(
      "UPDATE servers SET last_seen_at = now(), "
      "status = CASE WHEN status = 'unreachable' THEN 'active' ELSE status END "
      "WHERE id = $1 AND status <> 'decommissioned'",
      id);
}

std::vector<std::string> mark_silent_unreachable(pqxx::transaction_base& txn, int seconds) {
  std::vector<std::string> ids;
  for (const auto& row : txn.exec_params(
           "UPDATE servers SET status = 'unreachable' WHERE status = 'active' "
           "AND last_seen_at < now() - make_interval(secs => $1) RETURNING id::text",
           seconds)) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

bool name_in_use(pqxx::transaction_base& txn, const std::string& name) {
  return !txn.exec_params("SELECT 1 FROM servers WHERE name = $1 AND status <> 'decommissioned'", name).empty();
}

std::optional<ServerRecord> update(pqxx::transaction_base& txn, const std::string& id,
                                   const std::optional<std::string>& name,
                                   const std::optional<std::vector<std::string>>& tags) {
  std::optional<std::string> tags_json;
  if (tags) tags_json = to_json_array(*tags);
  auto result = txn.exec_params(
      std::string("UPDATE servers SET name = COALESCE($2, name), "
                  "tags = CASE WHEN $3::jsonb IS NULL THEN tags "
                  "ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END "
                  "WHERE id = $1 AND status <> 'decommissioned' RETURNING ") +
          server_columns,
      id, name, tags_json);
  if (result.empty()) return std::nullopt;
  return server_record(result[0]);
}

}  // namespace tether::store::servers

namespace tether::store::servers {

void claim_session(pqxx::transaction_base& txn, const std::string& server_id, const std::string& instance) {
  txn.exec_params(
      "INSERT INTO agent_sessions (server_id, controller_instance) VALUES ($1, $2) "
      "ON CONFLICT (server_id) DO UPDATE SET controller_instance = EXCLUDED.controller_instance, connected_at = now()",
      server_id, instance);
}

void release_session(pqxx::transaction_base& txn, const std::string& server_id, const std::string& instance) {
  txn.exec_params("DELETE FROM agent_sessions WHERE server_id = $1 AND controller_instance = $2", server_id,
                  instance);
}

void release_all_sessions(pqxx::transaction_base& txn, const std::string& instance) {
  txn.exec_params("DELETE FROM agent_sessions WHERE controller_instance = $1", instance);
}

std::vector<std::string> live_among(pqxx::transaction_base& txn, const std::vector<std::string>& ids) {
  std::vector<std::string> live;
  for (const auto& row : exec_cached(txn, "live_servers_among",
           "SELECT id::text FROM servers WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::uuid)) "
           "AND status <> 'decommissioned'",
           to_json_array(ids))) {
    live.push_back(row[0].as<std::string>());
  }
  return live;
}

std::vector<std::string> resolve_targets(pqxx::transaction_base& txn, const std::vector<std::string>& server_ids,
                                         const std::vector<std::string>& tags) {
  std::vector<std::string> ids;
  for (const auto& row : exec_cached(txn, "resolve_run_targets",
           "SELECT s.id::text FROM servers s "
           "LEFT JOIN jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS l(id, ordinal) ON l.id::uuid = s.id "
           "WHERE s.status <> 'decommissioned' AND (l.id IS NOT NULL "
           "OR s.tags && ARRAY(SELECT jsonb_array_elements_text($2::jsonb))) "
           "ORDER BY l.ordinal NULLS LAST, s.name, s.id",
           to_json_array(server_ids), to_json_array(tags))) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

}  // namespace tether::store::servers
