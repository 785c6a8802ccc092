#pragma once
// Inbound webhooks for the end-to-end tests: webhook triggers made through the triggers API, and
// deliveries signed the way their senders sign them — seed 002's signed webhooks (HMAC-SHA256 of
// timestamp + "." + raw body) and GitHub's (HMAC-SHA256 of the raw body) — computed here from the
// secret the controller returned, never by asking the controller.
#include "tests/e2e/jobs_checks.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tether::e2e {

struct WebhookTrigger {
  boost::json::object trigger;  // as the 201 answer shows it
  std::string id;
  std::string secret;  // webhook_secret, or webhook_token for a token trigger
};

// POST /api/automation/triggers → 201 {"trigger", "webhook_secret" | "webhook_token"}.
inline WebhookTrigger create_webhook_trigger(AutomationApi& api, const boost::json::object& body) {
  const auto response = api.call("POST", "/api/automation/triggers", body);
  INFO("POST /api/automation/triggers " << boost::json::serialize(body) << " -> " << describe(response));
  REQUIRE(response.status == 201);
  const auto answer = json_object(response);
  WebhookTrigger out;
  out.trigger = object_at(answer, "trigger");
  out.id = string_field(out.trigger, "id");
  const bool token = body.contains("provider") && body.at("provider") == "token";
  out.secret = string_field(answer, token ? "webhook_token" : "webhook_secret");
  return out;
}

// POST /api/automation/triggers/{id}/rotate-secret → 200; returns the new secret.
inline std::string rotate_webhook_secret(AutomationApi& api, const std::string& trigger_id) {
  const auto response = api.call("POST", "/api/automation/triggers/" + trigger_id + "/rotate-secret");
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  CHECK(string_field(object_at(answer, "trigger"), "id") == trigger_id);
  return string_field(answer, "webhook_secret");
}

// "sha256=" + hex HMAC-SHA256(secret, message).
inline std::string hmac_signature(const std::string& secret, const std::string& message) {
  return "sha256=" + crypto::hex_encode(crypto::hmac_sha256(secret, message));
}

inline std::string unix_seconds(std::chrono::system_clock::time_point when) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
}

// The headers of a signed delivery: <family>Timestamp, <family>Signature and, when given,
// <family>Delivery-ID, family being "X-Tether-Webhook-" or "X-AGH-Webhook-".
inline http::Headers signed_headers(const std::string& secret, const std::string& timestamp, const std::string& body,
                                    const std::optional<std::string>& delivery_id = std::nullopt,
                                    const std::string& family = "X-Tether-Webhook-") {
  http::Headers headers{{family + "Timestamp", timestamp},
                        {family + "Signature", hmac_signature(secret, timestamp + "." + body)}};
  if (delivery_id) headers.emplace_back(family + "Delivery-ID", *delivery_id);
  return headers;
}

// The headers GitHub sends with a delivery of `event`.
inline http::Headers github_headers(const std::string& secret, const std::string& body, const std::string& event,
                                    const std::string& delivery_id) {
  return {{"X-GitHub-Event", event},
          {"X-GitHub-Delivery", delivery_id},
          {"X-GitHub-Hook-ID", "292430182"},
          {"User-Agent", "GitHub-Hookshot/e2e"},
          {"X-Hub-Signature-256", "sha256=" + crypto::hex_encode(crypto::hmac_sha256(secret, body))}};
}

// POST /api/webhooks/global/{endpoint}, without any key.
inline http::Response deliver(http::Client& client, const std::string& endpoint, const std::string& body,
                              http::Headers headers) {
  headers.emplace_back("Content-Type", "application/json");
  return client.post("/api/webhooks/global/" + endpoint, body, headers);
}

// An accepted delivery: 200 {"result": {"matched": N, "runs": [RUN…]}} with `matched` runs;
// returns the runs.
inline std::vector<boost::json::object> check_accepted(const http::Response& response, std::int64_t matched) {
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  CHECK(answer.size() == 1);
  const auto& result = object_at(answer, "result");
  CHECK(int_field(result, "matched") == matched);
  const auto runs = objects(array_at(result, "runs"));
  CHECK(static_cast<std::int64_t>(runs.size()) == matched);
  return runs;
}

// The one run an accepted delivery fired.
inline boost::json::object fired_run(const http::Response& response) {
  const auto runs = check_accepted(response, 1);
  REQUIRE(runs.size() == 1);
  return runs.front();
}

// The audit entries of webhook deliveries (GET /api/audit?action=webhooks.deliver, admin key),
// newest first.
inline std::vector<boost::json::object> delivery_audit(testing::TetherStack& stack) {
  const auto response = stack.admin("GET", "/api/audit?action=webhooks.deliver&limit=1000");
  INFO(describe(response));
  REQUIRE(response.status == 200);
  return objects(array_at(json_object(response), "entries"));
}

// The one audit entry of the delivery with this id.
inline boost::json::object delivery_audit_entry(testing::TetherStack& stack, const std::string& delivery_id,
                                                const std::string& outcome) {
  std::vector<boost::json::object> found;
  for (const auto& entry : delivery_audit(stack)) {
    const auto& detail = object_at(entry, "detail");
    if (detail.contains("delivery_id") && detail.at("delivery_id") == boost::json::value(delivery_id) &&
        entry.at("outcome") == boost::json::value(outcome)) {
      found.push_back(entry);
    }
  }
  INFO("audit entries of delivery " << delivery_id << " with outcome " << outcome);
  REQUIRE(found.size() == 1);
  return found.front();
}

}  // namespace tether::e2e
