#pragma once
// Who is calling: operator API keys (tak_) for the REST API, automation keys (rca_) for /v1.
// Runs on database workers; failures are thrown as http::ApiError with the seed's status codes.
#include "controller/http/responses.hpp"
#include "controller/http/types.hpp"
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <string>
#include <string_view>

namespace tether::auth {

enum class Role { viewer = 0, operator_ = 1, admin = 2 };

// A 401: the caller could not be identified (no key, a malformed, unknown, revoked or expired one).
// Its own type so that whoever answers it can count it against the caller's address
// (AuthFailureLimiter) instead of trusting anything the caller claimed.
class AuthenticationFailed : public http::ApiError {
 public:
  explicit AuthenticationFailed(std::string detail) : ApiError(http::bhttp::status::unauthorized, std::move(detail)) {}
};

// A 403: the caller is known but its role is below the route's. Carries the caller's actor so
// that whoever answers it can audit the refusal (access.denied) after the caller's transaction.
class RoleRefused : public http::ApiError {
 public:
  RoleRefused(std::string actor, std::string detail)
      : ApiError(http::bhttp::status::forbidden, std::move(detail)), actor_(std::move(actor)) {}
  const std::string& actor() const { return actor_; }

 private:
  std::string actor_;
};

// Who calls an operator route: an operator API key (tak_), or a user's login session (tss_),
// which acts with its user's role. For a session, key_id is the session's id (what its open
// streams are counted and ended by) and username is set.
struct Operator {
  std::string key_id;
  std::string name;
  Role role;
  std::string username = {};
  bool is_session() const { return !username.empty(); }
  std::string actor() const { return is_session() ? "user:" + username : "api_key:" + key_id; }
};

// The role an operator route's declared access needs: viewer, operator_ or admin. std::logic_error
// for public_ and automation_key, which no operator key satisfies.
Role needed_role(http::Access access);

// Operator routes authenticate with the access their route declared (context.access), never a
// role of their own: an operator key (tak_) or a user's session token (tss_). AuthenticationFailed
// (401) when it is missing, malformed, unknown, revoked or expired; 403 when its role is below
// needed_role(access). std::logic_error (a 500) when the route is not an operator route: a public
// or automation-key route must not ask for an operator key.
Operator authenticate_operator(pqxx::transaction_base& txn, const http::Request& request, http::Access access);

// A session token (tss_...) as of `now`: its user, acting with the user's role. AuthenticationFailed
// for a malformed, unknown or expired token. Refreshes the session's last_seen_at (at most once a
// minute) when `txn` may write.
Operator authenticate_session(pqxx::transaction_base& txn, std::string_view token, std::chrono::system_clock::time_point now);

// RoleRefused (403) unless `role` reaches `needed`.
void require_role(const Operator& caller, Role needed);

// For routes declared http::Access::automation_key (else std::logic_error, a 500).
// AuthenticationFailed (401) for a missing, malformed, unknown, revoked or expired automation key.
store::AutomationKeyRecord authenticate_automation(pqxx::transaction_base& txn, const http::Request& request,
                                                   http::Access access);

class RateLimiter;

// A v1 call's admission once the key is known: the client address against its IP allowlist (403),
// then its rate limit (429 with Retry-After). `client_ip` is the address after trusted-proxy resolution.
void admit_automation_call(const store::AutomationKeyRecord& key, const std::string& client_ip,
                           RateLimiter& limiter);

// 403 unless the key's scopes allow `credential_id` (empty list = all).
void require_credential_scope(const store::AutomationKeyRecord& key, const std::string& credential_id);

// 403 unless the key's scopes allow `operation` (empty list = all).
void require_operation_scope(const store::AutomationKeyRecord& key, std::string_view operation);
// 403 unless the key's scopes allow `server_id` (empty list = all).
void require_server_scope(const store::AutomationKeyRecord& key, const std::string& server_id);

std::optional<Role> parse_role(std::string_view text);
std::string_view role_name(Role role);

}  // namespace tether::auth
