#pragma once
// Triggers: what fires a job besides its schedule. An event trigger fires on a controller event
// (the event router matches them); a webhook trigger on an inbound delivery, checked by its
// provider's rule: "signed" (HMAC over timestamp.body, seed 002's headers), "github"
// (X-Hub-Signature-256) or "token" (seed 000's URL token).
//
// Secrets are shown once: a webhook secret or a token is generated at creation or rotation and
// returned only then. A signed or github secret is stored sealed with the master key (checking an
// HMAC needs it); a token only as its SHA-256.
#include "common/clock.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/runs/fanout.hpp"
#include "controller/services/secret_box.hpp"
#include "controller/store/trigger_store.hpp"

#include <pqxx/pqxx>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::services {

// The controller events a trigger may listen for.
const std::vector<std::string>& controller_event_types();

// A trigger as its creator declares it (validated by the API layer's parser).
struct TriggerSpec {
  std::string name;
  bool enabled = true;
  std::string source = "dynamic";
  std::string job_id;
  std::string event;                          // a controller event type, or "webhook"
  std::map<std::string, std::string> filter;  // field path -> value
  std::optional<int> fire_limit_max;
  std::optional<std::string> fire_limit_window;
  std::optional<runs::RetryPolicy> retry;       // none: the job's
  std::optional<std::string> provider;          // webhooks: signed (default) | github | token
  std::optional<std::string> endpoint_slug;     // signed and github webhooks
  std::optional<std::string> commit_ref_from;   // a deploy job's commit_ref from this event field
};

// A trigger with the secret it was just given (a webhook secret or a token): shown this once.
struct TriggerWithSecret {
  store::TriggerRecord trigger;
  std::optional<std::string> secret;
};

class Triggers {
 public:
  Triggers(const Clock& clock, const SecretBox& secrets) : clock_(clock), secrets_(secrets) {}

  // Refuses (invalid) an unknown job, (unavailable) a signed or github webhook without a master key.
  TriggerWithSecret create(pqxx::transaction_base& txn, const auth::Operator& actor, const TriggerSpec& spec,
                           const std::string& client_ip) const;
  // Replaces the declaration; the secret stays unless the provider changes (then a new one is
  // returned).
  TriggerWithSecret update(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                           const TriggerSpec& spec, const std::string& client_ip) const;
  void remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
              const std::string& client_ip) const;
  // A new secret (or token) for a webhook trigger; the old one stops working at once.
  TriggerWithSecret rotate_secret(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                  const std::string& client_ip) const;
  store::TriggerRecord get(pqxx::transaction_base& txn, const std::string& id) const;
  // One page, newest first.
  store::Page<store::TriggerRecord> list(pqxx::transaction_base& txn, const std::optional<std::string>& source,
                                         const std::optional<std::string>& event, const store::PageRequest& page) const;

  // The webhook secret of a signed or github trigger, opened for checking a delivery.
  std::string secret_of(const store::TriggerRecord& trigger) const;

 private:
  // A fresh secret for the trigger's provider, written into it; returns the clear text.
  std::string give_secret(store::TriggerRecord& trigger) const;
  void fill(pqxx::transaction_base& txn, store::TriggerRecord& trigger, const TriggerSpec& spec) const;
  const Clock& clock_;
  const SecretBox& secrets_;
};

}  // namespace tether::services
