#pragma once
// Bearer secrets (tak_ operator keys, rca_ automation keys, tat_ agent tokens, tss_ login sessions): 256 random bits,
// hex encoded after a kind prefix. A secret is found by its first 8 hex digits (shown in listings,
// not enough to use it) and verified by comparing SHA-256 digests in constant time.
#include "controller/http/types.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tether::auth {

inline constexpr std::string_view operator_key_kind = "tak_";
inline constexpr std::string_view automation_key_kind = "rca_";
inline constexpr std::string_view agent_token_kind = "tat_";
inline constexpr std::string_view session_token_kind = "tss_";

struct IssuedSecret {
  std::string secret;  // shown once, never stored
  std::string lookup_prefix;
  std::string hash;
};

IssuedSecret issue_secret(std::string_view kind);

struct PresentedSecret {
  std::string lookup_prefix;
  std::string hash;
};

// nullopt when `token` is not of the given kind and shape.
std::optional<PresentedSecret> parse_secret(std::string_view token, std::string_view kind);
bool matches(const PresentedSecret& presented, const std::string& stored_hash);

// The token of an `Authorization: Bearer <token>` header; nullopt when absent or another scheme.
std::optional<std::string> bearer_token(const http::Request& request);

}  // namespace tether::auth
