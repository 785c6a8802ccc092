#pragma once
// Inbound webhooks: a delivery to /api/webhooks/global/{endpoint} is checked against every enabled
// webhook trigger answering at that endpoint (its slug, or one trigger's webhook id), each by its
// provider's rule with its own secret; the triggers whose check and filter pass fire their jobs.
// A delivery to seed 000's /api/automations/webhook/{token} fires the token's trigger.
//
// Invariants kept here:
// - Nothing fires unless a signature made with that trigger's secret checks out (or the token
//   hashes to the stored hash), compared in constant time.
// - A delivery id (or, without one, the signature) a trigger has accepted before is a replay and
//   fires nothing; a signed delivery's timestamp must lie within the skew window.
// - Payload values reach a run only as TETHER_EVENT_* environment values.
// - Every delivery is audited with its outcome and reason. One that proves nothing (no trigger at
//   the endpoint, no matching signature, unknown token) is left to the caller's failed-
//   authentication path, which aggregates and limits such calls per client address.
#include "controller/runs/fanout.hpp"
#include "controller/services/service_error.hpp"
#include "controller/services/trigger_service.hpp"

#include <pqxx/pqxx>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::services {

struct Delivery {
  std::string endpoint;                        // or the token, for a token delivery
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string client_ip;
};

struct DeliveryResult {
  // Set when the delivery is refused. `anonymous`: it proved nothing (the caller counts it as a
  // failed authentication); otherwise it is already audited.
  std::optional<Refusal> refusal;
  bool anonymous = false;
  std::string reason;
  int matched = 0;
  std::vector<store::RunRecord> runs;
  std::vector<store::TargetCounts> counts;  // of each run, as created
  runs::AfterCommit after;  // for the fan-out once committed (deliver commits itself)
};

class Webhooks {
 public:
  Webhooks(const Triggers& triggers, runs::Fanout& fanout) : triggers_(triggers), fanout_(fanout) {}

  // Runs its own transactions on `connection`: the firing and its audit commit together; a
  // refusal's audit commits alone.
  DeliveryResult deliver(pqxx::connection& connection, const Delivery& delivery) const;
  DeliveryResult deliver_token(pqxx::connection& connection, const Delivery& delivery) const;

 private:
  DeliveryResult refuse(pqxx::connection& connection, const Delivery& delivery, Refusal refusal,
                        const std::string& reason, const std::optional<std::string>& trigger_id) const;
  const Triggers& triggers_;
  runs::Fanout& fanout_;
};

// The header, under either family's name (x-agh-webhook-<name>, x-tether-webhook-<name>).
std::optional<std::string> webhook_header(const std::map<std::string, std::string>& headers, const std::string& name);

}  // namespace tether::services
