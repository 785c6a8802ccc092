#include "controller/store/user_store.hpp"

#include "controller/store/page_params.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::users {
namespace {

const char* const user_columns =
    "id::text, username, role, password_hash, totp_secret_sealed, totp_enabled, totp_last_step, " TETHER_SQL_TS(
        "created_at") ", " TETHER_SQL_TS("updated_at");

UserRecord to_user(const pqxx::row& row) {
  UserRecord r;
  r.id = row[0].as<std::string>();
  r.username = row[1].as<std::string>();
  r.role = row[2].as<std::string>();
  r.password_hash = row[3].as<std::string>();
  r.totp_secret_sealed = optional_text(row[4]);
  r.totp_enabled = row[5].as<bool>();
  r.totp_last_step = optional_int64(row[6]);
  r.created_at = row[7].as<std::string>();
  r.updated_at = row[8].as<std::string>();
  return r;
}

const char* const session_columns =
    "s.id::text, s.token_prefix, s.token_hash, s.user_id::text, u.username, u.role, " TETHER_SQL_US(
        "s.created_at") ", " TETHER_SQL_US("s.expires_at") ", " TETHER_SQL_US("s.last_seen_at") ", " TETHER_SQL_TS("s.created_at") ", " TETHER_SQL_TS("s.expires_at") ", " TETHER_SQL_TS("s.last_seen_at") ", s.client_ip, s.user_agent";

SessionRecord to_session(const pqxx::row& row) {
  SessionRecord r;
  r.id = row[0].as<std::string>();
  r.token_prefix = row[1].as<std::string>();
  r.token_hash = row[2].as<std::string>();
  r.user_id = row[3].as<std::string>();
  r.username = row[4].as<std::string>();
  r.role = row[5].as<std::string>();
  r.created_us = row[6].as<std::int64_t>();
  r.expires_us = row[7].as<std::int64_t>();
  r.last_seen_us = row[8].as<std::int64_t>();
  r.created_at = row[9].as<std::string>();
  r.expires_at = row[10].as<std::string>();
  r.last_seen_at = row[11].as<std::string>();
  r.client_ip = optional_text(row[12]);
  r.user_agent = optional_text(row[13]);
  return r;
}

std::vector<SessionRecord> sessions_of(const pqxx::result& result) {
  std::vector<SessionRecord> out;
  for (const auto& row : result) out.push_back(to_session(row));
  return out;
}

}  // namespace

bool insert_user(pqxx::transaction_base& txn, const NewUser& user) {
  return !txn
              .exec_params("INSERT INTO users (id, username, role, password_hash) VALUES ($1, $2, $3, $4) "
                           "ON CONFLICT (username) DO NOTHING RETURNING id",
                           user.id, user.username, user.role, user.password_hash)
              .empty();
}

std::optional<UserRecord> find_user(pqxx::transaction_base& txn, const std::string& username) {
  auto result = txn.exec_params(std::string("SELECT ") + user_columns + " FROM users WHERE username = $1", username);
  if (result.empty()) return std::nullopt;
  return to_user(result[0]);
}

Page<UserRecord> list_users(pqxx::transaction_base& txn, const PageRequest& page) {
  std::vector<UserRecord> out;
  for (const auto& row : txn.exec_params(std::string("SELECT ") + user_columns +
                                             " FROM users WHERE ($1::text IS NULL OR username > $1) "
                                             "ORDER BY username LIMIT $2",
                                         after_sort(page), read_limit(page))) {
    out.push_back(to_user(row));
  }
  return page_of(std::move(out), page.limit, [](const UserRecord& user) { return PageAfter{user.username, user.id}; });
}

std::optional<std::string> delete_user(pqxx::transaction_base& txn, const std::string& username) {
  auto result = txn.exec_params("DELETE FROM users WHERE username = $1 RETURNING id::text", username);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::string>();
}

int count_admins(pqxx::transaction_base& txn) {
  return txn.exec1("SELECT count(*) FROM users WHERE role = 'admin'")[0].as<int>();
}

void set_password(pqxx::transaction_base& txn, const std::string& user_id, const std::string& password_hash) {
  txn.exec_params("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", user_id, password_hash);
}

void set_totp(pqxx::transaction_base& txn, const std::string& user_id, const std::optional<std::string>& sealed,
              bool enabled) {
  txn.exec_params("UPDATE users SET totp_secret_sealed = $2, totp_enabled = $3, totp_last_step = NULL, "
                  "updated_at = now() WHERE id = $1",
                  user_id, sealed, enabled);
}

bool use_totp_step(pqxx::transaction_base& txn, const std::string& user_id, std::int64_t step) {
  return !txn
              .exec_params("UPDATE users SET totp_last_step = $2 WHERE id = $1 "
                           "AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id",
                           user_id, step)
              .empty();
}

void insert_session(pqxx::transaction_base& txn, const NewSession& s) {
  txn.exec_params("INSERT INTO sessions (id, token_prefix, token_hash, user_id, created_at, expires_at, "
                  "last_seen_at, client_ip, user_agent) VALUES ($1, $2, $3, $4, " TETHER_SQL_AT("$5") ", " TETHER_SQL_AT(
                      "$6") ", " TETHER_SQL_AT("$5") ", $7, $8)",
                  s.id, s.token_prefix, s.token_hash, s.user_id, s.created_us, s.expires_us, s.client_ip,
                  s.user_agent);
}

std::vector<SessionRecord> find_sessions(pqxx::transaction_base& txn, const std::string& token_prefix) {
  return sessions_of(exec_cached(txn, "find_sessions",
                                 std::string("SELECT ") + session_columns +
                                     " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_prefix = $1",
                                 token_prefix));
}

void touch_session(pqxx::transaction_base& txn, const std::string& id, std::int64_t now_us) {
  exec_cached(txn, "touch_session",
              "UPDATE sessions SET last_seen_at = " TETHER_SQL_AT("$2") " WHERE id = $1 AND last_seen_at < " TETHER_SQL_AT(
                  "$2") " - interval '1 minute'",
              id, now_us);
}

bool delete_session(pqxx::transaction_base& txn, const std::string& id) {
  return !txn.exec_params("DELETE FROM sessions WHERE id = $1 RETURNING id", id).empty();
}

Page<SessionRecord> live_sessions(pqxx::transaction_base& txn, std::int64_t now_us,
                                  const std::optional<std::string>& user_id, const PageRequest& page) {
  return page_of(sessions_of(txn.exec_params(
                     std::string("SELECT ") + session_columns +
                         " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.expires_at > " TETHER_SQL_AT("$1")
                         " AND ($2::uuid IS NULL OR s.user_id = $2::uuid) "
                         "AND ($3::bigint IS NULL OR (s.created_at, s.id) < (" TETHER_SQL_AT("$3") ", $4::uuid)) "
                         "ORDER BY s.created_at DESC, s.id DESC LIMIT $5",
                     now_us, user_id, after_sort(page), after_id(page), read_limit(page))),
                 page.limit, [](const SessionRecord& s) { return PageAfter{std::to_string(s.created_us), s.id}; });
}

std::vector<SessionRecord> delete_sessions_by_prefix(pqxx::transaction_base& txn, const std::string& prefix) {
  return sessions_of(txn.exec_params(
      std::string("WITH gone AS (DELETE FROM sessions WHERE token_prefix = $1 RETURNING *) SELECT ") +
          session_columns + " FROM gone s JOIN users u ON u.id = s.user_id",
      prefix));
}

int delete_user_sessions(pqxx::transaction_base& txn, const std::string& user_id,
                         const std::optional<std::string>& keep) {
  return static_cast<int>(
      txn.exec_params("DELETE FROM sessions WHERE user_id = $1 AND ($2::uuid IS NULL OR id <> $2::uuid)", user_id,
                      keep)
          .affected_rows());
}

int purge_expired_sessions(pqxx::transaction_base& txn, std::int64_t now_us) {
  return static_cast<int>(
      txn.exec_params("DELETE FROM sessions WHERE expires_at <= " TETHER_SQL_AT("$1"), now_us).affected_rows());
}

}  // namespace tether::store::users
