#include "controller/services/webhook_service.hpp"

#include "common/crypto.hpp"
#include "common/json_fields.hpp"
#include "controller/events/event_fields.hpp"
#include "controller/events/trigger_firing.hpp"
#include "controller/events/webhook_signature.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/run_store.hpp"
#include "controller/store/trigger_store.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace tether::services {
namespace {

std::optional<std::string> header(const std::map<std::string, std::string>& headers, const std::string& name) {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

// What a delivery shows in the audit log: never the body or a signature.
struct AuditNote {
  std::string endpoint;
  std::optional<std::string> delivery_id;
  std::string reason;
  int matched = 0;
  std::vector<std::string> triggers;
  std::vector<std::string> runs;
};

void audit(pqxx::transaction_base& txn, const Delivery& delivery, const AuditNote& note, bool accepted,
           const std::optional<std::string>& target) {
  boost::json::array triggers(note.triggers.begin(), note.triggers.end());
  boost::json::array runs(note.runs.begin(), note.runs.end());
  store::audit::record(
      txn, {"webhook", "webhooks.deliver", target, delivery.client_ip, accepted ? "allowed" : "denied",
            json::serialize(boost::json::object{
                {"endpoint", note.endpoint},
                {"delivery_id", note.delivery_id ? boost::json::value(*note.delivery_id) : boost::json::value(nullptr)},
                {"reason", note.reason},
                {"matched", note.matched},
                {"triggers", std::move(triggers)},
                {"runs", std::move(runs)}})});
}

// The payload as an object: a signed or GitHub delivery's body must be one.
std::optional<boost::json::object> payload_of(const std::string& body) {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// What identifies a delivery for replay detection: its signature and, when it has one, its id.
// Either seen before makes it a replay: the id is not signed, so a captured delivery resent under
// a new id is still caught by its signature. A signature's hex matches in either case, so its key
// is the lower-case form: the same signature re-cased is the same delivery.
std::vector<std::string> delivery_keys(const std::optional<std::string>& id, const std::string& signature) {
  std::string lowered = signature;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::vector<std::string> keys{"sig:" + lowered};
  if (id) keys.push_back("id:" + *id);
  return keys;
}

// The delivery's own check for one trigger; the reason when it fails.
struct Check {
  bool verified = false;
  std::string reason;
  std::vector<std::string> delivery_keys;  // empty when refused
};

Check check_signed(const std::string& secret, const Delivery& delivery, Clock::time_point now) {
  const auto timestamp = webhook_header(delivery.headers, "timestamp");
  const auto signature = webhook_header(delivery.headers, "signature");
  if (!timestamp || !signature) return {false, "the timestamp or signature header is missing", {}};
  if (!events::signature_matches(events::signed_signature(secret, *timestamp, delivery.body), *signature)) {
    return {false, "the signature does not match", {}};
  }
  const auto at = events::parse_webhook_timestamp(*timestamp);
  if (!at) return {true, "timestamp: must be Unix seconds or an RFC 3339 date-time", {}};
  if (*at < now - events::max_skew || *at > now + events::max_skew) {
    return {true, fmt::format("the timestamp is more than {} s away from the controller's clock", events::max_skew.count()),
            {}};
  }
  return {true, "", delivery_keys(webhook_header(delivery.headers, "delivery-id"), *signature)};
}

Check check_github(const std::string& secret, const Delivery& delivery) {
  const auto signature = header(delivery.headers, "x-hub-signature-256");
  if (!signature) return {false, "the X-Hub-Signature-256 header is missing", {}};
  if (!events::signature_matches(events::github_signature(secret, delivery.body), *signature)) {
    return {false, "the signature does not match", {}};
  }
  return {true, "", delivery_keys(header(delivery.headers, "x-github-delivery"), *signature)};
}

}  // namespace

std::optional<std::string> webhook_header(const std::map<std::string, std::string>& headers, const std::string& name) {
  if (auto value = header(headers, "x-tether-webhook-" + name)) return value;
  return header(headers, "x-agh-webhook-" + name);
}

DeliveryResult Webhooks::refuse(pqxx::connection& connection, const Delivery& delivery, Refusal refusal,
                                const std::string& reason, const std::optional<std::string>& trigger_id) const {
  pqxx::work txn(connection);
  AuditNote note{delivery.endpoint, std::nullopt, reason};
  if (trigger_id) note.triggers.push_back(*trigger_id);
  note.delivery_id = webhook_header(delivery.headers, "delivery-id");
  if (!note.delivery_id) note.delivery_id = header(delivery.headers, "x-github-delivery");
  audit(txn, delivery, note, false, trigger_id);
  txn.commit();
  spdlog::info("event=webhook_refused endpoint=\"{}\" reason=\"{}\"", delivery.endpoint, reason);
  DeliveryResult result;
  result.refusal = refusal;
  result.reason = reason;
  return result;
}

DeliveryResult Webhooks::deliver(pqxx::connection& connection, const Delivery& delivery) const {
  const auto now = fanout_.clock().now();
  pqxx::work txn(connection);
  const auto triggers = store::triggers::at_endpoint(txn, delivery.endpoint);

  // Which triggers this delivery was signed for; the first reason a signed one is refused.
  std::vector<std::pair<const store::TriggerRecord*, std::vector<std::string>>> verified;  // trigger, its keys
  std::optional<std::pair<std::string, std::string>> refused;                 // trigger id, reason
  for (const auto& trigger : triggers) {
    const auto secret = triggers_.secret_of(trigger);
    const auto check = *trigger.provider == "github" ? check_github(secret, delivery)
                                                     : check_signed(secret, delivery, now);
    if (!check.verified) continue;
    if (check.delivery_keys.empty()) {
      if (!refused) refused.emplace(trigger.id, check.reason);
      continue;
    }
    verified.emplace_back(&trigger, check.delivery_keys);
  }
  if (verified.empty()) {
    txn.abort();
    if (refused) return refuse(connection, delivery, Refusal::unauthenticated, refused->second, refused->first);
    DeliveryResult result;
    result.refusal = Refusal::unauthenticated;
    result.anonymous = true;
    result.reason = "webhook: no enabled trigger answers at this endpoint with a matching signature";
    return result;
  }
  auto payload = payload_of(delivery.body);
  if (!payload) {
    txn.abort();
    return refuse(connection, delivery, Refusal::invalid,
                  "body: must be a JSON object (for GitHub, set the content type to application/json)",
                  verified.front().first->id);
  }

  AuditNote note{delivery.endpoint};
  note.delivery_id = webhook_header(delivery.headers, "delivery-id");
  if (!note.delivery_id) note.delivery_id = header(delivery.headers, "x-github-delivery");
  DeliveryResult result;
  int replays = 0;
  for (const auto& [trigger, keys] : verified) {
    note.triggers.push_back(trigger->id);
    bool replay = false;
    for (const auto& key : keys) replay = !store::triggers::record_delivery(txn, trigger->id, key, now) || replay;
    if (replay) {
      ++replays;
      continue;
    }
    boost::json::value fields = *payload;
    std::map<std::string, std::string> env;
    if (*trigger->provider == "github") {
      const auto github_event = header(delivery.headers, "x-github-event").value_or("");
      auto extra = events::github_fields(github_event, *payload);
      env = events::env_of_fields(extra);
      for (auto& [name, value] : extra) {
        if (!fields.as_object().contains(name)) fields.as_object()[name] = value;
      }
      // A GitHub trigger fires on pushes unless its filter names the events; a branch deletion
      // is a push with nothing to deploy.
      if (!trigger->filter.count("github_event") && github_event != "push") continue;
      if (github_event == "push" && extra.contains("deleted") && extra.at("deleted").as_bool()) continue;
      env["TETHER_EVENT_TYPE"] = "github." + github_event;
    } else {
      env = events::env_of_fields(*payload);
      env["TETHER_EVENT_TYPE"] = "webhook";
    }
    if (note.delivery_id) env["TETHER_EVENT_DELIVERY_ID"] = *note.delivery_id;
    if (!events::filter_matches(trigger->filter, fields)) continue;
    events::Firing firing{fields, std::move(env), std::nullopt, 1, std::nullopt};
    auto created = events::fire_trigger(txn, fanout_, *trigger, firing, runs::FanOut::now);
    if (!created) continue;
    ++result.matched;
    note.runs.push_back(created->run.id);
    result.runs.push_back(created->run);
    result.counts.push_back(store::runs::latest_counts(txn, created->run.id));
    result.after.merge(std::move(created->after));
  }
  if (replays == static_cast<int>(verified.size())) {
    txn.abort();
    return refuse(connection, delivery, Refusal::conflict,
                  "replay: this delivery" + (note.delivery_id ? " (" + *note.delivery_id + ")" : std::string()) +
                      " was already accepted",
                  verified.front().first->id);
  }
  note.matched = result.matched;
  note.reason = result.matched ? "accepted" : "accepted: no trigger's filter matched";
  audit(txn, delivery, note, true, verified.size() == 1 ? std::optional(verified.front().first->id) : std::nullopt);
  txn.commit();
  return result;
}

DeliveryResult Webhooks::deliver_token(pqxx::connection& connection, const Delivery& delivery) const {
  pqxx::work txn(connection);
  const auto trigger = store::triggers::by_token_hash(txn, crypto::sha256_hex(delivery.endpoint));
  if (!trigger || !trigger->enabled) {
    DeliveryResult result;
    result.refusal = Refusal::not_found;
    result.anonymous = true;
    result.reason = trigger ? "webhook: the token's trigger is disabled" : "webhook: unknown token";
    return result;
  }
  // The body is optional; a JSON object's fields reach the run as environment values.
  boost::json::value fields = payload_of(delivery.body).value_or(boost::json::object{});
  auto env = events::env_of_fields(fields.as_object());
  env["TETHER_EVENT_TYPE"] = "webhook";
  AuditNote note{"token:" + trigger->secret_fingerprint.value_or("")};
  note.triggers.push_back(trigger->id);
  DeliveryResult result;
  if (events::filter_matches(trigger->filter, fields)) {
    events::Firing firing{fields, std::move(env), std::nullopt, 1, std::nullopt};
    if (auto created = events::fire_trigger(txn, fanout_, *trigger, firing, runs::FanOut::now)) {
      ++result.matched;
      note.runs.push_back(created->run.id);
      result.runs.push_back(created->run);
      result.counts.push_back(store::runs::latest_counts(txn, created->run.id));
      result.after.merge(std::move(created->after));
    }
  }
  note.matched = result.matched;
  note.reason = result.matched ? "accepted" : "accepted: the trigger's filter did not match";
  audit(txn, delivery, note, true, trigger->id);
  txn.commit();
  return result;
}

}  // namespace tether::services
