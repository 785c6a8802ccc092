#pragma once
// The triggers table (what fires a job on an event or an inbound webhook), the deliveries a
// webhook trigger has accepted (a repeat is a replay), and the event outbox. Events are written by
// PostgreSQL itself, in the transaction of the change they report (sql/0006); here they are
// claimed FOR UPDATE SKIP LOCKED and marked processed by the transaction that fires their
// triggers' runs, so that each is handled once whichever controller takes it.
#include "common/clock.hpp"
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::store {

struct TriggerRecord {
  std::string id;
  std::string name;
  bool enabled = true;
  std::string source = "dynamic";
  std::string job_id;
  std::string event;                          // a controller event type, or "webhook"
  std::map<std::string, std::string> filter;  // field path -> value
  std::optional<int> fire_limit_max;
  std::optional<std::string> fire_limit_window;
  std::optional<std::string> retry_strategy;  // none: the job's retry policy
  std::optional<int> max_retries;
  std::optional<std::string> retry_base_delay;
  std::optional<std::string> provider;  // webhooks: signed | github | token
  std::optional<std::string> endpoint_slug;
  std::optional<std::string> webhook_id;
  std::optional<std::string> secret_sealed;       // signed and github: sealed with the master key
  std::optional<std::string> secret_fingerprint;  // shown as webhook_secret_hash
  std::optional<std::string> token_hash;          // token: SHA-256 hex of the URL token
  std::optional<std::string> commit_ref_from;     // a deploy job's commit_ref from this event field
  std::string created_by;
  std::int64_t created_us = 0;
  std::int64_t updated_us = 0;
};

struct EventRecord {
  std::int64_t id = 0;
  std::string type;
  std::string fields_json;
  int chain_depth = 0;
  std::int64_t created_us = 0;
};

namespace triggers {

void insert(pqxx::transaction_base& txn, const TriggerRecord& trigger);
// Writes every field but the id, creator and creation time; false when it is gone.
bool update(pqxx::transaction_base& txn, const TriggerRecord& trigger);
std::optional<TriggerRecord> find(pqxx::transaction_base& txn, const std::string& id, bool for_update = false);
// One page, newest first: by (created_at, id) descending (index triggers_by_created).
Page<TriggerRecord> list(pqxx::transaction_base& txn, const std::optional<std::string>& source,
                         const std::optional<std::string>& event, const PageRequest& page);
// Every trigger of the job (export, the seed 000 adapter).
std::vector<TriggerRecord> of_job(pqxx::transaction_base& txn, const std::string& job_id);
bool remove(pqxx::transaction_base& txn, const std::string& id);

// Enabled webhook triggers (signed or github) answering at this endpoint: its slug or one
// trigger's webhook id.
std::vector<TriggerRecord> at_endpoint(pqxx::transaction_base& txn, const std::string& endpoint);
// The token trigger whose token hashes to `token_hash` (enabled or not).
std::optional<TriggerRecord> by_token_hash(pqxx::transaction_base& txn, const std::string& token_hash);
// Enabled event triggers listening for any of these event types.
std::vector<TriggerRecord> listening(pqxx::transaction_base& txn, const std::vector<std::string>& event_types);

// Records an accepted delivery; false when the trigger already accepted this key (a replay).
bool record_delivery(pqxx::transaction_base& txn, const std::string& trigger_id, const std::string& delivery_key,
                     Clock::time_point now);
// Forgets deliveries received before `before`, at most `limit`; returns how many.
int prune_deliveries(pqxx::transaction_base& txn, Clock::time_point before, int limit);

}  // namespace triggers

namespace events {

// Unprocessed events, oldest first, locked for this transaction; those another holds are skipped.
std::vector<EventRecord> claim(pqxx::transaction_base& txn, int limit);
void mark_processed(pqxx::transaction_base& txn, const std::vector<std::int64_t>& ids, Clock::time_point now);
// Deletes processed events older than `before`, at most `limit`; returns how many.
int prune_processed(pqxx::transaction_base& txn, Clock::time_point before, int limit);

}  // namespace events
}  // namespace tether::store
