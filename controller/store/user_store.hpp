#pragma once
// Users and their login sessions (sql/0008_users_sessions.sql). Times from the caller's clock
// travel as epoch microseconds, so that session expiry follows an injected clock.
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::store::users {

struct UserRecord {
  std::string id;
  std::string username;
  std::string role;
  std::string password_hash;
  std::optional<std::string> totp_secret_sealed;
  bool totp_enabled = false;
  std::optional<std::int64_t> totp_last_step;
  std::string created_at, updated_at;
};

struct NewUser {
  std::string id, username, role, password_hash;
};

// false when the username is taken.
bool insert_user(pqxx::transaction_base& txn, const NewUser& user);
std::optional<UserRecord> find_user(pqxx::transaction_base& txn, const std::string& username);
// One page by username (unique, so its own index serves the order; the cursor's id is the last
// user's, for the cursor's shape only).
Page<UserRecord> list_users(pqxx::transaction_base& txn, const PageRequest& page);
// The removed user's id; nullopt when there is no such user. Its sessions go with it.
std::optional<std::string> delete_user(pqxx::transaction_base& txn, const std::string& username);
int count_admins(pqxx::transaction_base& txn);
void set_password(pqxx::transaction_base& txn, const std::string& user_id, const std::string& password_hash);
// Replaces the TOTP state (a secret set up but not yet enabled, an enabled one, or none).
void set_totp(pqxx::transaction_base& txn, const std::string& user_id, const std::optional<std::string>& sealed,
              bool enabled);
// Records `step` as the last TOTP step used; false when it (or a later one) was used already.
bool use_totp_step(pqxx::transaction_base& txn, const std::string& user_id, std::int64_t step);

struct SessionRecord {
  std::string id, token_prefix, token_hash, user_id, username, role;
  std::int64_t created_us = 0, expires_us = 0, last_seen_us = 0;
  std::string created_at, expires_at, last_seen_at;  // RFC 3339
  std::optional<std::string> client_ip, user_agent;
};

struct NewSession {
  std::string id, token_prefix, token_hash, user_id;
  std::int64_t created_us = 0, expires_us = 0;
  std::optional<std::string> client_ip, user_agent;
};

void insert_session(pqxx::transaction_base& txn, const NewSession& session);
// Sessions whose token starts with `token_prefix` ("tss_" + 8 hex digits), expired ones included.
std::vector<SessionRecord> find_sessions(pqxx::transaction_base& txn, const std::string& token_prefix);
// last_seen_at moves at most once a minute, so that reads do not each become a write.
void touch_session(pqxx::transaction_base& txn, const std::string& id, std::int64_t now_us);
bool delete_session(pqxx::transaction_base& txn, const std::string& id);
// One page of the live sessions (expires after `now_us`), newest first by (created_at, id); of
// one user when `user_id` is set (indexes sessions_by_created, sessions_user).
Page<SessionRecord> live_sessions(pqxx::transaction_base& txn, std::int64_t now_us,
                                  const std::optional<std::string>& user_id, const PageRequest& page);
// Deletes the sessions whose token prefix ("tss_" + 8 hex digits) is `prefix`; returns them.
std::vector<SessionRecord> delete_sessions_by_prefix(pqxx::transaction_base& txn, const std::string& prefix);
// Deletes a user's sessions but `keep` (the caller's own, when it changes its password); returns how many.
int delete_user_sessions(pqxx::transaction_base& txn, const std::string& user_id,
                         const std::optional<std::string>& keep);
// Deletes sessions expired at `now_us`; returns how many.
int purge_expired_sessions(pqxx::transaction_base& txn, std::int64_t now_us);

}  // namespace tether::store::users
