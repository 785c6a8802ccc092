#pragma once
// The signature rules of inbound webhooks, as pure functions (tested without a server).
//
// Signed (seed 002, and Tether's own header names): X-AGH-Webhook-Timestamp /
// X-Tether-Webhook-Timestamp in Unix seconds or RFC 3339; X-AGH-Webhook-Signature /
// X-Tether-Webhook-Signature = "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + raw body),
// the timestamp exactly as sent; accepted within max_skew of the controller's clock.
// GitHub: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(secret, raw body).
// Comparisons are constant-time.
#include "common/clock.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tether::events {

inline constexpr std::chrono::seconds max_skew{300};

// Unix seconds ("1733000000") or an RFC 3339 date-time; nullopt when neither.
std::optional<Clock::time_point> parse_webhook_timestamp(std::string_view text);

// "sha256=<hex>" over timestamp + "." + body.
std::string signed_signature(std::string_view secret, std::string_view timestamp, std::string_view body);
// "sha256=<hex>" over the body (GitHub).
std::string github_signature(std::string_view secret, std::string_view body);

// Whether `given` equals `expected` ("sha256=<hex>", the hex in either case), in constant time.
bool signature_matches(std::string_view expected, std::string_view given);

}  // namespace tether::events
