#include "controller/services/user_service.hpp"

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/utf8.hpp"
#include "controller/auth/passwords.hpp"
#include "controller/auth/secrets.hpp"
#include "controller/auth/totp.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/sql_text.hpp"

#include <cctype>

namespace tether::services {
namespace {

namespace users = store::users;

void audit(pqxx::transaction_base& txn, const std::string& actor, const std::string& action,
           const std::optional<std::string>& target, const std::string& client_ip, const std::string& outcome,
           boost::json::object detail = {}) {
  store::audit::record(txn, {actor, action, target, client_ip, outcome, json::serialize(detail)});
}

// A claimed username as the audit log keeps it: valid UTF-8, at most 64 bytes.
std::string claimed(const std::string& username) { return utf8::sanitize(utf8::head(username, 64)); }

void check_username(const std::string& username) {
  const bool ok = !username.empty() && username.size() <= 64 && std::all_of(username.begin(), username.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '.' || c == '_' || c == '-' || c == '@';
  });
  if (!ok) {
    throw ServiceError(Refusal::invalid, "username: must be 1 to 64 letters, digits or . _ - @");
  }
}

void check_password(const std::string& password) {
  if (auto weakness = auth::password_weakness(password)) throw WeakPassword(*weakness);
}

// What an unknown username is checked against, so that it takes as long as a known one.
const std::string& decoy_hash() {
  static const std::string hash = auth::hash_password("decoy password, never a user's");
  return hash;
}

std::int64_t unix_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

void require_session(const auth::Operator& caller) {
  if (!caller.is_session()) {
    throw ServiceError(Refusal::forbidden, "this route needs a user's session (log in with POST /api/login), not an API key");
  }
}

store::users::UserRecord Users::user_or_404(pqxx::transaction_base& txn, const std::string& username) {
  auto user = users::find_user(txn, username);
  if (!user) throw ServiceError(Refusal::not_found, "User not found");
  return std::move(*user);
}

store::users::UserRecord Users::session_user(pqxx::transaction_base& txn, const auth::Operator& caller) {
  require_session(caller);
  return user_or_404(txn, caller.username);
}

store::users::UserRecord Users::create(pqxx::transaction_base& txn, const std::string& actor,
                                       const std::string& username, const std::string& role,
                                       const std::string& password, const std::string& client_ip) {
  check_username(username);
  if (!auth::parse_role(role)) throw ServiceError(Refusal::invalid, "role: must be viewer, operator or admin");
  check_password(password);
  if (users::find_user(txn, username)) throw ServiceError(Refusal::conflict, "User already exists");
  const auto id = ids::new_uuid();
  if (!users::insert_user(txn, {id, username, role, auth::hash_password(password)})) {
    throw ServiceError(Refusal::conflict, "User already exists");
  }
  audit(txn, actor, "user_add", id, client_ip, "allowed", {{"username", username}, {"role", role}});
  return *users::find_user(txn, username);
}

void Users::remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& username,
                   const std::string& client_ip) {
  const auto user = user_or_404(txn, username);
  if (user.role == "admin" && users::count_admins(txn) <= 1) {
    throw ServiceError(Refusal::conflict, "cannot remove the last admin");
  }
  users::delete_user(txn, username);
  audit(txn, actor.actor(), "user_remove", user.id, client_ip, "allowed", {{"username", username}});
}

void Users::set_password(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& username,
                         const std::string& password, const std::string& client_ip) {
  const auto user = user_or_404(txn, username);
  check_password(password);
  users::set_password(txn, user.id, auth::hash_password(password));
  const auto ended = users::delete_user_sessions(txn, user.id, std::nullopt);
  audit(txn, actor.actor(), "user_password_change", user.id, client_ip, "allowed",
        {{"username", username}, {"sessions_ended", ended}});
}

bool Users::change_own_password(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& current,
                                const std::string& password, const std::string& client_ip) {
  const auto user = session_user(txn, caller);
  if (!auth::verify_password(current, user.password_hash)) {
    audit(txn, caller.actor(), "user_password_change", user.id, client_ip, "denied",
          {{"username", user.username}, {"reason", "current password did not match"}});
    return false;
  }
  check_password(password);
  users::set_password(txn, user.id, auth::hash_password(password));
  const auto ended = users::delete_user_sessions(txn, user.id, caller.key_id);
  audit(txn, caller.actor(), "user_password_change", user.id, client_ip, "allowed",
        {{"username", user.username}, {"sessions_ended", ended}});
  return true;
}

store::Page<store::users::UserRecord> Users::list(pqxx::transaction_base& txn, const store::PageRequest& page) {
  return users::list_users(txn, page);
}

LoginResult Users::login(pqxx::connection& connection, const LoginAttempt& attempt, const ClientInfo& client) {
  std::optional<users::UserRecord> user;
  {
    pqxx::read_transaction txn(connection);
    if (!attempt.username.empty() && attempt.username.size() <= 64) user = users::find_user(txn, attempt.username);
  }
  // The hash is checked whether or not the user exists, so that timing does not tell which.
  const bool password_ok = auth::verify_password(attempt.password, user ? user->password_hash : decoy_hash()) && user;
  const auto now = clock_.now();
  std::optional<std::int64_t> totp_step;
  std::string reason = user ? "wrong password" : "unknown user";
  LoginResult result;
  if (password_ok && user->totp_enabled) {
    if (!attempt.totp_code || attempt.totp_code->empty()) {
      result.outcome = LoginResult::Outcome::totp_required;
      reason = "TOTP code missing";
    } else {
      const auto secret = secrets_.open(user->totp_secret_sealed.value_or(""));
      totp_step = auth::totp::matching_step(secret, *attempt.totp_code, unix_seconds(now));
      if (!totp_step) reason = "wrong TOTP code";
    }
  }

  pqxx::work txn(connection);
  const bool totp_ok = !user || !user->totp_enabled || (totp_step && users::use_totp_step(txn, user->id, *totp_step));
  if (totp_step && !totp_ok) reason = "TOTP code already used";
  if (!password_ok || !totp_ok || result.outcome == LoginResult::Outcome::totp_required) {
    audit(txn, "anonymous", "login_failed", user ? std::optional<std::string>(user->id) : std::nullopt, client.ip,
          "denied", {{"username", claimed(attempt.username)}, {"reason", reason}});
    txn.commit();
    return result;
  }
  const auto secret = auth::issue_secret(auth::session_token_kind);
  const auto session_id = ids::new_uuid();
  users::insert_session(txn, {session_id, secret.lookup_prefix, secret.hash, user->id, store::epoch_micros(now),
                              store::epoch_micros(now + session_lifetime), client.ip,
                              client.user_agent ? std::optional<std::string>(claimed(*client.user_agent).substr(0, 200))
                                                : std::nullopt});
  audit(txn, "user:" + user->username, "login", user->id, client.ip, "allowed",
        {{"username", user->username}, {"session", secret.lookup_prefix}, {"totp", user->totp_enabled}});
  txn.commit();
  result.outcome = LoginResult::Outcome::ok;
  result.token = secret.secret;
  result.username = user->username;
  result.role = user->role;
  return result;
}

void Users::record_lockout(pqxx::connection& connection, const std::string& username, const ClientInfo& client,
                           int seconds, const std::string& scope) {
  pqxx::work txn(connection);
  // The target is what is locked: the client address, or the username.
  audit(txn, "anonymous", "login_locked", scope == "address" ? client.ip : claimed(username), client.ip, "denied",
        {{"username", claimed(username)}, {"scope", scope}, {"seconds", seconds}});
  txn.commit();
}

auth::Operator Users::authenticate(pqxx::transaction_base& txn, std::string_view token) const {
  return auth::authenticate_session(txn, token, clock_.now());
}

void Users::logout(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& client_ip) {
  if (!caller.is_session()) throw ServiceError(Refusal::invalid, "logout ends a login session; an API key has none");
  users::delete_session(txn, caller.key_id);
  audit(txn, caller.actor(), "logout", caller.key_id, client_ip, "allowed", {{"username", caller.username}});
}

store::Page<store::users::SessionRecord> Users::sessions(pqxx::transaction_base& txn,
                                                         const std::optional<std::string>& username,
                                                         const store::PageRequest& page) {
  std::optional<std::string> user_id;
  if (username) user_id = user_or_404(txn, *username).id;
  return users::live_sessions(txn, store::epoch_micros(clock_.now()), user_id, page);
}

int Users::revoke(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& prefix,
                  const std::string& client_ip) {
  std::string full = prefix.starts_with(auth::session_token_kind) ? prefix : std::string(auth::session_token_kind) + prefix;
  const auto digits = std::string_view(full).substr(auth::session_token_kind.size());
  if (digits.size() < 8 || !std::all_of(digits.begin(), digits.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c));
      })) {
    throw ServiceError(Refusal::invalid, "prefix: must be the token's first 8 or more hex digits (after tss_)");
  }
  full.resize(auth::session_token_kind.size() + 8);
  const auto ended = users::delete_sessions_by_prefix(txn, full);
  if (ended.empty()) throw ServiceError(Refusal::not_found, "Session not found");
  for (const auto& session : ended) {
    audit(txn, actor.actor(), "session_revoke", session.id, client_ip, "allowed",
          {{"username", session.username}, {"session", session.token_prefix}});
  }
  return static_cast<int>(ended.size());
}

int Users::purge_expired(pqxx::transaction_base& txn) {
  return users::purge_expired_sessions(txn, store::epoch_micros(clock_.now()));
}

TotpSetup Users::totp_setup(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& client_ip) {
  const auto user = session_user(txn, caller);
  if (user.totp_enabled) throw ServiceError(Refusal::conflict, "two-factor authentication is already enabled");
  const auto secret = crypto::random_bytes(auth::totp::secret_bytes);
  users::set_totp(txn, user.id, secrets_.seal(secret), false);
  audit(txn, caller.actor(), "totp_setup", user.id, client_ip, "allowed", {{"username", user.username}});
  return TotpSetup{auth::totp::base32_encode(secret), auth::totp::provisioning_uri("Tether", user.username, secret)};
}

void Users::totp_enable(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& code,
                        const std::string& client_ip) {
  const auto user = session_user(txn, caller);
  if (user.totp_enabled) throw ServiceError(Refusal::conflict, "two-factor authentication is already enabled");
  if (!user.totp_secret_sealed) throw ServiceError(Refusal::invalid, "no TOTP secret: call /api/auth/totp/setup first");
  const auto secret = secrets_.open(*user.totp_secret_sealed);
  const auto step = auth::totp::matching_step(secret, code, unix_seconds(clock_.now()));
  if (!step) throw ServiceError(Refusal::invalid, "code: does not match the TOTP secret");
  users::set_totp(txn, user.id, user.totp_secret_sealed, true);
  users::use_totp_step(txn, user.id, *step);
  audit(txn, caller.actor(), "totp_enable", user.id, client_ip, "allowed", {{"username", user.username}});
}

void Users::totp_disable(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& username,
                         const std::string& client_ip) {
  const auto user = user_or_404(txn, username);
  users::set_totp(txn, user.id, std::nullopt, false);
  audit(txn, actor.actor(), "totp_disable", user.id, client_ip, "allowed", {{"username", username}});
}

}  // namespace tether::services
