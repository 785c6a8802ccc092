#include "controller/store/trigger_store.hpp"

#include "controller/store/page_params.hpp"
#include "controller/store/sql_text.hpp"

#include <boost/json.hpp>

namespace tether::store {
namespace {

const char* const trigger_columns =
    "id::text, name, enabled, source, job_id::text, event, filter::text, fire_limit_max, fire_limit_window, "
    "retry_strategy, max_retries, retry_base_delay, provider, endpoint_slug, webhook_id, secret_sealed, "
    "secret_fingerprint, token_hash, commit_ref_from, created_by, " TETHER_SQL_US("created_at") ", " TETHER_SQL_US(
        "updated_at");

std::map<std::string, std::string> filter_from_json(const std::string& text) {
  std::map<std::string, std::string> out;
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return out;
  for (const auto& [key, v] : value.as_object()) {
    if (v.is_string()) out.emplace(std::string(key), std::string(v.as_string()));
  }
  return out;
}

std::string filter_to_json(const std::map<std::string, std::string>& filter) {
  boost::json::object out;
  for (const auto& [key, value] : filter) out[key] = value;
  return boost::json::serialize(out);
}

TriggerRecord to_trigger(const pqxx::row& row) {
  TriggerRecord t;
  int i = 0;
  t.id = row[i++].as<std::string>();
  t.name = row[i++].as<std::string>();
  t.enabled = row[i++].as<bool>();
  t.source = row[i++].as<std::string>();
  t.job_id = row[i++].as<std::string>();
  t.event = row[i++].as<std::string>();
  t.filter = filter_from_json(row[i++].as<std::string>());
  t.fire_limit_max = optional_int(row[i++]);
  t.fire_limit_window = optional_text(row[i++]);
  t.retry_strategy = optional_text(row[i++]);
  t.max_retries = optional_int(row[i++]);
  t.retry_base_delay = optional_text(row[i++]);
  t.provider = optional_text(row[i++]);
  t.endpoint_slug = optional_text(row[i++]);
  t.webhook_id = optional_text(row[i++]);
  t.secret_sealed = optional_text(row[i++]);
  t.secret_fingerprint = optional_text(row[i++]);
  t.token_hash = optional_text(row[i++]);
  t.commit_ref_from = optional_text(row[i++]);
  t.created_by = row[i++].as<std::string>();
  t.created_us = row[i++].as<std::int64_t>();
  t.updated_us = row[i++].as<std::int64_t>();
  return t;
}

std::vector<TriggerRecord> to_triggers(const pqxx::result& result) {
  std::vector<TriggerRecord> out;
  for (const auto& row : result) out.push_back(to_trigger(row));
  return out;
}

std::string select_triggers(const std::string& where) {
  return std::string("SELECT ") + trigger_columns + " FROM triggers " + where;
}

// The parameters $2..$20 shared by insert and update, in this order.
#define TETHER_TRIGGER_FIELDS                                                                                      \
  t.name, t.enabled, t.source, t.job_id, t.event, filter_to_json(t.filter), t.fire_limit_max, t.fire_limit_window, \
      t.retry_strategy, t.max_retries, t.retry_base_delay, t.provider, t.endpoint_slug, t.webhook_id,              \
      t.secret_sealed, t.secret_fingerprint, t.token_hash, t.commit_ref_from, t.updated_us

}  // namespace

namespace triggers {

void insert(pqxx::transaction_base& txn, const TriggerRecord& t) {
  txn.exec_params(
      "INSERT INTO triggers (id, name, enabled, source, job_id, event, filter, fire_limit_max, fire_limit_window, "
      "retry_strategy, max_retries, retry_base_delay, provider, endpoint_slug, webhook_id, secret_sealed, "
      "secret_fingerprint, token_hash, commit_ref_from, updated_at, created_by, created_at) "
      "VALUES ($1, $2, $3, $4, $5::uuid, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, "
      TETHER_SQL_AT("$20") ", $21, " TETHER_SQL_AT("$22") ")",
      t.id, TETHER_TRIGGER_FIELDS, t.created_by, t.created_us);
}

bool update(pqxx::transaction_base& txn, const TriggerRecord& t) {
  return txn
             .exec_params(
                 "UPDATE triggers SET name = $2, enabled = $3, source = $4, job_id = $5::uuid, event = $6, "
                 "filter = $7::jsonb, fire_limit_max = $8, fire_limit_window = $9, retry_strategy = $10, "
                 "max_retries = $11, retry_base_delay = $12, provider = $13, endpoint_slug = $14, webhook_id = $15, "
                 "secret_sealed = $16, secret_fingerprint = $17, token_hash = $18, commit_ref_from = $19, "
                 "updated_at = " TETHER_SQL_AT("$20") " WHERE id = $1",
                 t.id, TETHER_TRIGGER_FIELDS)
             .affected_rows() > 0;
}

std::optional<TriggerRecord> find(pqxx::transaction_base& txn, const std::string& id, bool for_update) {
  auto result = txn.exec_params(select_triggers(for_update ? "WHERE id = $1 FOR UPDATE" : "WHERE id = $1"), id);
  if (result.empty()) return std::nullopt;
  return to_trigger(result[0]);
}

Page<TriggerRecord> list(pqxx::transaction_base& txn, const std::optional<std::string>& source,
                         const std::optional<std::string>& event, const PageRequest& page) {
  return page_of(to_triggers(txn.exec_params(
                     select_triggers("WHERE ($1::text IS NULL OR source = $1) AND ($2::text IS NULL OR event = $2) "
                                     "AND ($3::bigint IS NULL OR (created_at, id) < (" TETHER_SQL_AT("$3") ", $4::uuid)) "
                                     "ORDER BY triggers.created_at DESC, triggers.id DESC LIMIT $5"),
                     source, event, after_sort(page), after_id(page), read_limit(page))),
                 page.limit, [](const TriggerRecord& t) { return PageAfter{std::to_string(t.created_us), t.id}; });
}

std::vector<TriggerRecord> of_job(pqxx::transaction_base& txn, const std::string& job_id) {
  return to_triggers(txn.exec_params(select_triggers("WHERE job_id = $1 ORDER BY created_at, id"), job_id));
}

bool remove(pqxx::transaction_base& txn, const std::string& id) {
  return txn.exec_params("DELETE FROM triggers WHERE id = $1", id).affected_rows() > 0;
}

std::vector<TriggerRecord> at_endpoint(pqxx::transaction_base& txn, const std::string& endpoint) {
  return to_triggers(txn.exec_params(
      select_triggers("WHERE enabled AND event = 'webhook' AND provider IN ('signed', 'github') "
                      "AND (endpoint_slug = $1 OR webhook_id = $1) ORDER BY created_at, id"),
      endpoint));
}

std::optional<TriggerRecord> by_token_hash(pqxx::transaction_base& txn, const std::string& token_hash) {
  auto result = txn.exec_params(select_triggers("WHERE provider = 'token' AND token_hash = $1"), token_hash);
  if (result.empty()) return std::nullopt;
  return to_trigger(result[0]);
}

std::vector<TriggerRecord> listening(pqxx::transaction_base& txn, const std::vector<std::string>& event_types) {
  return to_triggers(txn.exec_params(
      select_triggers("WHERE enabled AND event IN (SELECT jsonb_array_elements_text($1::jsonb)) "
                      "ORDER BY created_at, id"),
      to_json_array(event_types)));
}

bool record_delivery(pqxx::transaction_base& txn, const std::string& trigger_id, const std::string& delivery_key,
                     Clock::time_point now) {
  return txn
             .exec_params("INSERT INTO webhook_deliveries (trigger_id, delivery_key, received_at) "
                          "VALUES ($1, $2, " TETHER_SQL_AT("$3") ") ON CONFLICT DO NOTHING",
                          trigger_id, delivery_key, epoch_micros(now))
             .affected_rows() > 0;
}

int prune_deliveries(pqxx::transaction_base& txn, Clock::time_point before, int limit) {
  return static_cast<int>(
      txn.exec_params("DELETE FROM webhook_deliveries WHERE ctid IN (SELECT ctid FROM webhook_deliveries "
                      "WHERE received_at < " TETHER_SQL_AT("$1") " LIMIT $2)",
                      epoch_micros(before), limit)
          .affected_rows());
}

}  // namespace triggers

namespace events {

std::vector<EventRecord> claim(pqxx::transaction_base& txn, int limit) {
  std::vector<EventRecord> out;
  for (const auto& row : txn.exec_params("SELECT id, type, fields::text, chain_depth, " TETHER_SQL_US("created_at")
                                         " FROM events WHERE processed_at IS NULL ORDER BY id "
                                         "LIMIT $1 FOR UPDATE SKIP LOCKED",
                                         limit)) {
    out.push_back(EventRecord{row[0].as<std::int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                              row[3].as<int>(), row[4].as<std::int64_t>()});
  }
  return out;
}

void mark_processed(pqxx::transaction_base& txn, const std::vector<std::int64_t>& ids, Clock::time_point now) {
  if (ids.empty()) return;
  boost::json::array list;
  for (auto id : ids) list.push_back(id);
  txn.exec_params("UPDATE events SET processed_at = " TETHER_SQL_AT("$2") " WHERE id IN "
                  "(SELECT (jsonb_array_elements_text($1::jsonb))::bigint)",
                  boost::json::serialize(list), epoch_micros(now));
}

int prune_processed(pqxx::transaction_base& txn, Clock::time_point before, int limit) {
  return static_cast<int>(
      txn.exec_params("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE processed_at < "
                      TETHER_SQL_AT("$1") " ORDER BY processed_at LIMIT $2)",
                      epoch_micros(before), limit)
          .affected_rows());
}

}  // namespace events
}  // namespace tether::store
