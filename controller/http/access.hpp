#pragma once
// Who may call a route, declared once where the route is registered (Router::add) and enforced
// from that declaration: the router puts it in the RequestContext and the handler authenticates
// with it, so the declaration and the check cannot disagree.
#include <optional>
#include <string_view>

namespace tether::http {

enum class Access {
  public_,         // no credential: health, inbound webhooks (their signature or token is the credential)
  automation_key,  // an rca_ automation key: the v1 CI surface
  viewer,          // an operator key (tak_) of role viewer or above
  operator_,       // an operator key of role operator or above
  admin,           // an operator key of role admin
  session,         // a user's login session (tss_), of any role: the caller's own profile and TOTP
};

// "public", "automation_key", "viewer", "operator", "admin", "session" (as the README's route
// table writes them).
constexpr std::string_view access_name(Access access) {
  switch (access) {
    case Access::public_: return "public";
    case Access::automation_key: return "automation_key";
    case Access::viewer: return "viewer";
    case Access::operator_: return "operator";
    case Access::admin: return "admin";
    case Access::session: return "session";
  }
  return "unknown";
}

constexpr std::optional<Access> parse_access(std::string_view name) {
  for (const auto access :
       {Access::public_, Access::automation_key, Access::viewer, Access::operator_, Access::admin, Access::session}) {
    if (access_name(access) == name) return access;
  }
  return std::nullopt;
}

}  // namespace tether::http
