#include "controller/auth/authenticator.hpp"

#include "controller/auth/networks.hpp"
#include "controller/auth/rate_limiter.hpp"
#include "controller/auth/secrets.hpp"
#include "controller/http/responses.hpp"
#include "controller/store/key_store.hpp"
#include "controller/store/sql_text.hpp"
#include "controller/store/user_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace tether::auth {
namespace {

using http::ApiError;
using http::bhttp::status;

std::string require_bearer(const http::Request& request, std::string_view kind_label) {
  auto token = bearer_token(request);
  if (!token) {
    throw AuthenticationFailed(
                   fmt::format("missing API key: send Authorization: Bearer <{}...>", kind_label));
  }
  return *token;
}

}  // namespace

std::optional<Role> parse_role(std::string_view text) {
  if (text == "viewer") return Role::viewer;
  if (text == "operator") return Role::operator_;
  if (text == "admin") return Role::admin;
  return std::nullopt;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::viewer: return "viewer";
    case Role::operator_: return "operator";
    case Role::admin: return "admin";
  }
  return "viewer";
}

Role needed_role(const http::Access access) {
  switch (access) {
    case http::Access::viewer: return Role::viewer;
    case http::Access::operator_: return Role::operator_;
    case http::Access::admin: return Role::admin;
    case http::Access::session: return Role::viewer;
    case http::Access::public_:
    case http::Access::automation_key: break;
  }
  throw std::logic_error(fmt::format("a route declared {} asks for an operator key", http::access_name(access)));
}

void require_role(const Operator& caller, Role needed) {
  if (static_cast<int>(caller.role) < static_cast<int>(needed)) {
    throw RoleRefused(caller.actor(), fmt::format("this action needs the {} role; the {} has {}", role_name(needed),
                                                  caller.is_session() ? "user" : "key", role_name(caller.role)));
  }
}

Operator authenticate_session(pqxx::transaction_base& txn, std::string_view token,
                              std::chrono::system_clock::time_point now) {
  const auto presented = parse_secret(token, session_token_kind);
  if (!presented) throw AuthenticationFailed("invalid session token");
  for (const auto& session : store::users::find_sessions(txn, presented->lookup_prefix)) {
    if (!matches(*presented, session.token_hash)) continue;
    const auto now_us = store::epoch_micros(now);
    if (session.expires_us <= now_us) throw AuthenticationFailed("session expired; log in again");
    if (dynamic_cast<pqxx::work*>(&txn) != nullptr) store::users::touch_session(txn, session.id, now_us);
    return Operator{session.id, session.username, parse_role(session.role).value_or(Role::viewer), session.username};
  }
  throw AuthenticationFailed("invalid session token");
}

Operator authenticate_operator(pqxx::transaction_base& txn, const http::Request& request, const http::Access access) {
  const auto needed = needed_role(access);
  const auto token = require_bearer(request, operator_key_kind);
  if (token.starts_with(session_token_kind)) {
    auto caller = authenticate_session(txn, token, std::chrono::system_clock::now());
    require_role(caller, needed);
    return caller;
  }
  if (access == http::Access::session) {
    // Authenticated first, so that a bad key is still a 401.
    const auto presented = parse_secret(token, operator_key_kind);
    const auto key = presented ? store::keys::find_api_key(txn, presented->lookup_prefix) : std::nullopt;
    if (!key || !matches(*presented, key->key_hash) || key->revoked || key->expired) {
      throw AuthenticationFailed("invalid API key");
    }
    throw ApiError(status::forbidden, "this route needs a user's session (log in with POST /api/login), not an API key");
  }
  const auto presented = parse_secret(token, operator_key_kind);
  if (!presented) throw AuthenticationFailed("invalid API key");
  const auto key = store::keys::find_api_key(txn, presented->lookup_prefix);
  if (!key || !matches(*presented, key->key_hash)) throw AuthenticationFailed("invalid API key");
  if (key->revoked) throw AuthenticationFailed("API key has been revoked");
  if (key->expired) throw AuthenticationFailed("API key expired at " + key->expires_at.value_or("?"));
  Operator caller{key->id, key->name, parse_role(key->role).value_or(Role::viewer)};
  require_role(caller, needed);
  if (dynamic_cast<pqxx::work*>(&txn) != nullptr) store::keys::touch_api_key(txn, key->id);
  return caller;
}

store::AutomationKeyRecord authenticate_automation(pqxx::transaction_base& txn, const http::Request& request,
                                                   const http::Access access) {
  if (access != http::Access::automation_key) {
    throw std::logic_error(fmt::format("a route declared {} asks for an automation key", http::access_name(access)));
  }
  const auto token = require_bearer(request, automation_key_kind);
  const auto presented = parse_secret(token, automation_key_kind);
  if (!presented) throw AuthenticationFailed("invalid automation key");
  auto key = store::keys::find_automation_key(txn, presented->lookup_prefix);
  if (!key || !matches(*presented, key->key_hash)) throw AuthenticationFailed("invalid automation key");
  if (key->revoked_at) throw AuthenticationFailed("automation key has been revoked");
  if (key->expired) throw AuthenticationFailed("automation key expired at " + key->expires_at.value_or("?"));
  return std::move(*key);
}

void admit_automation_call(const store::AutomationKeyRecord& key, const std::string& client_ip,
                           RateLimiter& limiter) {
  if (!key.ip_allowlist.empty()) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(client_ip, ec);
    if (ec || !NetworkList::parse(key.ip_allowlist).contains(address)) {
      throw ApiError(status::forbidden, fmt::format("client address {} is not in this key's IP allowlist", client_ip));
    }
  }
  if (auto retry_after = limiter.admit(key.id, key.rate_limit_per_minute)) {
    throw ApiError(status::too_many_requests,
                   fmt::format("rate limit of {} requests per minute exceeded for this key; retry in {} s",
                               key.rate_limit_per_minute, *retry_after),
                   {{"Retry-After", std::to_string(*retry_after)}});
  }
}

void require_credential_scope(const store::AutomationKeyRecord& key, const std::string& credential_id) {
  const auto& allowed = key.allowed_credential_ids;
  if (allowed.empty() || std::find(allowed.begin(), allowed.end(), credential_id) != allowed.end()) return;
  throw ApiError(status::forbidden, fmt::format("registry credential {} is not in this key's scope", credential_id));
}

void require_operation_scope(const store::AutomationKeyRecord& key, std::string_view operation) {
  const auto& allowed = key.allowed_operations;
  if (allowed.empty() || std::find(allowed.begin(), allowed.end(), operation) != allowed.end()) return;
  throw ApiError(status::forbidden, fmt::format("operation '{}' is not in this key's scope", operation));
}

void require_server_scope(const store::AutomationKeyRecord& key, const std::string& server_id) {
  const auto& allowed = key.allowed_server_ids;
  if (allowed.empty() || std::find(allowed.begin(), allowed.end(), server_id) != allowed.end()) return;
  throw ApiError(status::forbidden, fmt::format("server {} is not in this key's scope", server_id));
}

}  // namespace tether::auth
