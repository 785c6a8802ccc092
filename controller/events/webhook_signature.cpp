#include "controller/events/webhook_signature.hpp"

#include "common/crypto.hpp"
#include "common/time.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tether::events {

std::optional<Clock::time_point> parse_webhook_timestamp(std::string_view text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    std::int64_t seconds = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (error != std::errc() || end != text.data() + text.size() || seconds > 253402300799) return std::nullopt;
    return Clock::time_point(std::chrono::seconds(seconds));
  }
  return timeutil::parse_rfc3339(text);
}

std::string signed_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  return "sha256=" + crypto::hex_encode(crypto::hmac_sha256(secret, message));
}

std::string github_signature(std::string_view secret, std::string_view body) {
  return "sha256=" + crypto::hex_encode(crypto::hmac_sha256(secret, body));
}

bool signature_matches(std::string_view expected, std::string_view given) {
  std::string lowered(given);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return crypto::constant_time_equals(expected, lowered);
}

}  // namespace tether::events
