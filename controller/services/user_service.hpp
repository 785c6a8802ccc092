#pragma once
// Users, their passwords, login sessions and TOTP second factor (seed 004). Password hashing is
// slow on purpose: every method that hashes or checks a password runs on a database worker.
// Session expiry reads the injected clock. The audit log gets every login, failed login, logout
// and user change, never a password, token or TOTP secret.
#include "common/clock.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/secret_box.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/user_store.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tether::services {

inline constexpr std::chrono::hours session_lifetime{24};

// A password that breaks seed 004's rule; the message is the seed's. Answered 400 on its routes.
class WeakPassword : public ServiceError {
 public:
  explicit WeakPassword(const std::string& message) : ServiceError(Refusal::invalid, message) {}
};

struct ClientInfo {
  std::string ip;
  std::optional<std::string> user_agent;
};

struct LoginAttempt {
  std::string username;
  std::string password;
  std::optional<std::string> totp_code;
};

struct LoginResult {
  enum class Outcome { ok, invalid, totp_required } outcome = Outcome::invalid;
  std::string token;  // ok only: shown once
  std::string username, role;
};

struct TotpSetup {
  std::string secret;  // base32, shown once
  std::string uri;     // otpauth://
};

class Users {
 public:
  Users(const Clock& clock, const SecretBox& secrets) : clock_(clock), secrets_(secrets) {}

  const Clock& clock() const { return clock_; }

  // 422 for a malformed username or role, WeakPassword, 409 "User already exists".
  store::users::UserRecord create(pqxx::transaction_base& txn, const std::string& actor, const std::string& username,
                                  const std::string& role, const std::string& password, const std::string& client_ip);
  // 404 "User not found"; 409 when it is the last admin.
  void remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& username,
              const std::string& client_ip);
  // An admin sets a user's password: WeakPassword, 404; the user's sessions end.
  void set_password(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& username,
                    const std::string& password, const std::string& client_ip);
  // A user changes its own: WeakPassword; its other sessions end. False (nothing changed, the
  // refusal audited as denied) when `current` is wrong: the caller commits that and answers 403.
  bool change_own_password(pqxx::transaction_base& txn, const auth::Operator& user, const std::string& current,
                           const std::string& password, const std::string& client_ip);
  // One page by username.
  store::Page<store::users::UserRecord> list(pqxx::transaction_base& txn, const store::PageRequest& page);

  // Checks the credentials (and TOTP code when the user has enabled it) and opens a session.
  // Commits its own transactions; audits "login" or "login_failed".
  LoginResult login(pqxx::connection& connection, const LoginAttempt& attempt, const ClientInfo& client);
  // Audits a lockout (the limiter's decision) with the claimed username and the client address.
  void record_lockout(pqxx::connection& connection, const std::string& username, const ClientInfo& client,
                      int seconds, const std::string& scope);

  // The caller of a session token, as of the clock: AuthenticationFailed when unknown or expired.
  auth::Operator authenticate(pqxx::transaction_base& txn, std::string_view token) const;
  // Ends the caller's session; 400 when the caller is not a session.
  void logout(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& client_ip);
  // One page of the live sessions of one user (or all with nullopt), newest first.
  store::Page<store::users::SessionRecord> sessions(pqxx::transaction_base& txn,
                                                    const std::optional<std::string>& username,
                                                    const store::PageRequest& page = {});
  // By token prefix ("tss_" and at least 8 hex digits; the "tss_" may be left out): 422 when
  // malformed, 404 when no session has it; returns how many ended.
  int revoke(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& prefix,
             const std::string& client_ip);
  int purge_expired(pqxx::transaction_base& txn);

  // TOTP: a new secret for the caller (409 when already enabled; 503 without a master key).
  TotpSetup totp_setup(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& client_ip);
  // 422 when no secret was set up or the code does not match it.
  void totp_enable(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& code,
                   const std::string& client_ip);
  // Admin: 404 for an unknown user.
  void totp_disable(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& username,
                    const std::string& client_ip);

 private:
  store::users::UserRecord user_or_404(pqxx::transaction_base& txn, const std::string& username);
  store::users::UserRecord session_user(pqxx::transaction_base& txn, const auth::Operator& caller);

  const Clock& clock_;
  const SecretBox& secrets_;
};

// 403 unless the caller is a login session (profile, TOTP setup).
void require_session(const auth::Operator& caller);

}  // namespace tether::services
