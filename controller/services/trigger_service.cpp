#include "controller/services/trigger_service.hpp"

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/sql_text.hpp"

#include <boost/json.hpp>

namespace tether::services {
namespace {

std::string audit_detail(const store::TriggerRecord& trigger) {
  boost::json::object filter;
  for (const auto& [key, value] : trigger.filter) filter[key] = value;
  return json::serialize(boost::json::object{
      {"name", trigger.name},
      {"job_id", trigger.job_id},
      {"event", trigger.event},
      {"provider", trigger.provider ? boost::json::value(*trigger.provider) : boost::json::value(nullptr)},
      {"filter", std::move(filter)}});
}

bool is_webhook(const store::TriggerRecord& trigger) { return trigger.event == "webhook"; }

}  // namespace

const std::vector<std::string>& controller_event_types() {
  static const std::vector<std::string> types{
      "operation.completed", "operation.failed",   "operation.timeout",  "operation.canceled",
      "run.completed",       "run.failed",         "server.registered",  "server.active",
      "server.unreachable",  "server.decommissioned", "deployment.completed", "deployment.failed"};
  return types;
}

std::string Triggers::give_secret(store::TriggerRecord& trigger) const {
  trigger.secret_sealed.reset();
  trigger.token_hash.reset();
  if (trigger.provider == std::optional<std::string>("token")) {
    // The token is the whole credential of seed 000's unauthenticated route: 256 random bits,
    // kept only as its hash.
    auto token = crypto::hex_encode(crypto::random_bytes(32));
    trigger.token_hash = crypto::sha256_hex(token);
    trigger.secret_fingerprint = "sha256:" + trigger.token_hash->substr(0, 16);
    return token;
  }
  auto secret = crypto::new_secret("whsec_");
  trigger.secret_sealed = secrets_.seal(secret);  // unavailable without a master key
  trigger.secret_fingerprint = "sha256:" + crypto::sha256_hex(secret).substr(0, 16);
  return secret;
}

void Triggers::fill(pqxx::transaction_base& txn, store::TriggerRecord& trigger, const TriggerSpec& spec) const {
  const auto job = store::jobs::find(txn, spec.job_id);
  if (!job) throw ServiceError(Refusal::invalid, "job_id: no job has the id " + spec.job_id);
  if (spec.commit_ref_from && job->operation_type != "deploy") {
    throw ServiceError(Refusal::invalid, "commit_ref_from: only a deploy job takes its commit_ref from an event");
  }
  trigger.name = spec.name;
  trigger.enabled = spec.enabled;
  trigger.source = spec.source;
  trigger.job_id = spec.job_id;
  trigger.event = spec.event;
  trigger.filter = spec.filter;
  trigger.fire_limit_max = spec.fire_limit_max;
  trigger.fire_limit_window = spec.fire_limit_window;
  trigger.retry_strategy.reset();
  trigger.max_retries.reset();
  trigger.retry_base_delay.reset();
  if (spec.retry) {
    trigger.retry_strategy = spec.retry->strategy;
    trigger.max_retries = spec.retry->max_retries;
    trigger.retry_base_delay = spec.retry->base_delay;
  }
  trigger.provider = spec.event == "webhook" ? std::optional<std::string>(spec.provider.value_or("signed")) : std::nullopt;
  trigger.endpoint_slug = trigger.provider && *trigger.provider != "token" ? spec.endpoint_slug : std::nullopt;
  trigger.commit_ref_from = spec.commit_ref_from;
}

TriggerWithSecret Triggers::create(pqxx::transaction_base& txn, const auth::Operator& actor, const TriggerSpec& spec,
                                   const std::string& client_ip) const {
  store::TriggerRecord trigger;
  trigger.id = ids::new_uuid();
  trigger.created_by = actor.actor();
  trigger.created_us = trigger.updated_us = store::epoch_micros(clock_.now());
  fill(txn, trigger, spec);
  TriggerWithSecret out;
  if (is_webhook(trigger)) {
    trigger.webhook_id = "wh_" + crypto::hex_encode(crypto::random_bytes(12));
    out.secret = give_secret(trigger);
  }
  store::triggers::insert(txn, trigger);
  store::audit::record(txn, {actor.actor(), "triggers.create", trigger.id, client_ip, "allowed", audit_detail(trigger)});
  out.trigger = *store::triggers::find(txn, trigger.id);
  return out;
}

TriggerWithSecret Triggers::update(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                   const TriggerSpec& spec, const std::string& client_ip) const {
  auto trigger = store::triggers::find(txn, id, true);
  if (!trigger) throw ServiceError(Refusal::not_found, "trigger not found");
  const auto before = *trigger;
  fill(txn, *trigger, spec);
  trigger->updated_us = store::epoch_micros(clock_.now());
  TriggerWithSecret out;
  if (!is_webhook(*trigger)) {
    trigger->webhook_id.reset();
    trigger->secret_sealed.reset();
    trigger->secret_fingerprint.reset();
    trigger->token_hash.reset();
  } else if (before.provider != trigger->provider) {
    // Another provider checks deliveries another way: it gets a secret of its own.
    if (!trigger->webhook_id) trigger->webhook_id = "wh_" + crypto::hex_encode(crypto::random_bytes(12));
    out.secret = give_secret(*trigger);
  }
  store::triggers::update(txn, *trigger);
  store::audit::record(txn, {actor.actor(), "triggers.update", id, client_ip, "allowed", audit_detail(*trigger)});
  out.trigger = *store::triggers::find(txn, id);
  return out;
}

void Triggers::remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                      const std::string& client_ip) const {
  if (!store::triggers::remove(txn, id)) throw ServiceError(Refusal::not_found, "trigger not found");
  store::audit::record(txn, {actor.actor(), "triggers.delete", id, client_ip, "allowed", "{}"});
}

TriggerWithSecret Triggers::rotate_secret(pqxx::transaction_base& txn, const auth::Operator& actor,
                                          const std::string& id, const std::string& client_ip) const {
  auto trigger = store::triggers::find(txn, id, true);
  if (!trigger) throw ServiceError(Refusal::not_found, "trigger not found");
  if (!is_webhook(*trigger)) throw ServiceError(Refusal::conflict, "only a webhook trigger has a secret to rotate");
  TriggerWithSecret out;
  out.secret = give_secret(*trigger);
  trigger->updated_us = store::epoch_micros(clock_.now());
  store::triggers::update(txn, *trigger);
  store::audit::record(txn, {actor.actor(), "triggers.rotate_secret", id, client_ip, "allowed",
                             json::serialize(boost::json::object{{"fingerprint", *trigger->secret_fingerprint}})});
  out.trigger = *store::triggers::find(txn, id);
  return out;
}

store::TriggerRecord Triggers::get(pqxx::transaction_base& txn, const std::string& id) const {
  auto trigger = store::triggers::find(txn, id);
  if (!trigger) throw ServiceError(Refusal::not_found, "trigger not found");
  return *trigger;
}

store::Page<store::TriggerRecord> Triggers::list(pqxx::transaction_base& txn, const std::optional<std::string>& source,
                                                 const std::optional<std::string>& event,
                                                 const store::PageRequest& page) const {
  return store::triggers::list(txn, source, event, page);
}

std::string Triggers::secret_of(const store::TriggerRecord& trigger) const {
  if (!trigger.secret_sealed) throw ServiceError(Refusal::failed, "the trigger has no webhook secret");
  return secrets_.open(*trigger.secret_sealed);
}

}  // namespace tether::services
