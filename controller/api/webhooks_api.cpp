// Inbound webhooks: seed 002's signed global endpoint and seed 000's URL-token endpoint. Neither
// takes a key: the signature, or the token, is the credential (services::Webhooks checks it). A
// delivery that proves nothing is counted as a failed authentication of its address (aggregated
// in the audit log, 429 past the threshold).
#include "controller/api/automation/views.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/metrics/metrics.hpp"
#include "controller/services/operation_service.hpp"
#include "controller/services/webhook_service.hpp"

#include <boost/algorithm/string/case_conv.hpp>

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

services::Delivery delivery_of(const http::RequestContext& context, const std::string& endpoint) {
  services::Delivery delivery;
  delivery.endpoint = endpoint;
  for (const auto& field : context.request) {
    delivery.headers[boost::algorithm::to_lower_copy(std::string(field.name_string()))] = std::string(field.value());
  }
  delivery.body = context.request.body();
  delivery.client_ip = context.client_ip;
  return delivery;
}

// The metrics' label: what became of a delivery.
std::string_view delivery_outcome(const services::DeliveryResult& result) {
  if (result.refusal) return result.anonymous ? "unauthenticated" : "refused";
  return result.runs.empty() ? "no_run" : "fired";
}

using Deliver = services::DeliveryResult (services::Webhooks::*)(pqxx::connection&, const services::Delivery&) const;

// Delivers, then answers with render(result); a refusal with its status (an anonymous one through
// the failed-authentication path, keeping its own status unless the address is over the limit).
template <class Render>
void deliver_and_answer(app::AppContext& app, http::RequestContext& context, const std::string& path_param,
                        Deliver deliver, Render render) {
  auto endpoint = context.path_params[path_param];
  answer_from_db(app, context,
                 [&app, delivery = delivery_of(context, endpoint), call = operator_call(context), deliver,
                  render](pqxx::connection& c) {
                   auto result = (app.webhooks.*deliver)(c, delivery);
                   if (app.metrics) app.metrics->webhook_delivery(delivery_outcome(result));
                   if (result.refusal) {
                     if (result.anonymous) {
                       auto refusal = refuse_unauthenticated(app, c, call, auth::AuthenticationFailed(result.reason));
                       if (refusal.status() == status::too_many_requests) throw refusal;
                     }
                     throw services::ServiceError(*result.refusal, result.reason);
                   }
                   after_commit(app, result.after);
                   return http::json_response(status::ok, render(result));
                 });
}

}  // namespace

void add_webhook_routes(http::Router& router, app::AppContext& app) {
  // Public: the endpoint's signature or the token in the path is the credential.
  // Seed 002: {"result": {"matched", "runs"}}.
  router.add(verb::post, "/api/webhooks/global/{endpoint}", http::Access::public_,
             [&app](http::RequestContext& context) {
    deliver_and_answer(app, context, "endpoint", &services::Webhooks::deliver,
                       [](const services::DeliveryResult& result) {
                         boost::json::array runs;
                         for (std::size_t i = 0; i < result.runs.size(); ++i) {
                           runs.push_back(automation::render_run(result.runs[i], result.counts[i]));
                         }
                         return boost::json::object{
                             {"result", boost::json::object{{"matched", result.matched}, {"runs", std::move(runs)}}}};
                       });
  });

  // Seed 000: {"run_id", "status": "running"}; status "skipped" when the trigger's filter did not
  // match or the firing was refused (its run then says why).
  router.add(verb::post, "/api/automations/webhook/{token}", http::Access::public_,
             [&app](http::RequestContext& context) {
    deliver_and_answer(app, context, "token", &services::Webhooks::deliver_token,
                       [](const services::DeliveryResult& result) {
                         if (result.runs.empty()) return boost::json::object{{"run_id", nullptr}, {"status", "skipped"}};
                         const auto& run = result.runs.front();
                         const bool running = run.status == "running" || run.status == "scheduled";
                         if (run.status == "pending_approval") {
                           return boost::json::object{{"run_id", run.id}, {"status", "pending_approval"},
                                                      {"approval_id", nullable(run.approval_id)}};
                         }
                         return boost::json::object{{"run_id", run.id}, {"status", running ? "running" : "skipped"}};
                       });
  });
}

}  // namespace tether::api
