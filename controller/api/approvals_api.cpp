// Approvals: runs of jobs that require approval wait as pending_approval until a request is
// decided. Seed 000's /api/approvals, /approve and /reject (optional {"comment"}) and seed 004's
// /count, /{id} and /decide ({"decision", "comment"}). Reads need viewer, decisions operator; who
// of the operators may decide a request is the run fan-out's rule (runs/approvals.cpp).
#include "controller/api/automation/body_fields.hpp"
#include "controller/api/automation/views.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/store/approval_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

constexpr std::size_t max_comment_chars = 2000;
constexpr std::string_view approval_statuses[] = {"pending", "approved", "rejected", "expired", "canceled"};

boost::json::object render_approval(const store::ApprovalRecord& a) {
  return {{"id", a.id},
          {"run_id", a.run_id},
          {"job_id", nullable(a.job_id)},
          {"job_name", nullable(a.job_name)},
          {"status", a.status},
          {"reason", a.reason},
          {"approvers", string_array(a.approvers)},
          {"requested_by", a.requested_by},
          {"requested_at", automation::time_text(a.requested_us)},
          {"expires_at", automation::time_text(a.expires_us)},
          {"decided_by", nullable(a.decided_by)},
          {"decided_at", automation::nullable_time(a.decided_us)},
          {"comment", nullable(a.comment)},
          {"run_status", a.run_status}};
}

std::string approval_id_param(const std::map<std::string, std::string>& params) {
  return uuid_path_param(params, "id", "approval request");  // "approval request not found"
}

struct ApprovalListQuery {
  std::optional<std::string> status = "pending";
  store::PageRequest page;
};

ApprovalListQuery parse_approval_list_query(const http::Request& request) {
  const auto params = query_params(request);
  ApprovalListQuery query;
  if (auto it = params.find("status"); it != params.end()) {
    if (it->second == "all") {
      query.status.reset();
    } else if (std::find(std::begin(approval_statuses), std::end(approval_statuses), it->second) !=
               std::end(approval_statuses)) {
      query.status = it->second;
    } else {
      automation::invalid("status: must be one of pending, approved, rejected, expired, canceled, all");
    }
  }
  query.page = page_request(params);
  return query;
}

struct DecisionInput {
  runs::Decision decision = runs::Decision::approve;
  std::optional<std::string> comment;
};

// The body is optional on /approve and /reject ({} when empty); /decide names the decision.
DecisionInput parse_decision(const http::Request& request, std::optional<runs::Decision> fixed) {
  const auto body = request.body().empty() ? boost::json::object{} : parse_json_body(request);
  DecisionInput input;
  if (fixed) {
    input.decision = *fixed;
  } else {
    const auto decision = automation::string_field(body, "decision", "decision");
    if (decision == "approve" || decision == "approved") {
      input.decision = runs::Decision::approve;
    } else if (decision == "reject" || decision == "rejected" || decision == "deny" || decision == "denied") {
      input.decision = runs::Decision::reject;
    } else {
      automation::invalid("decision: must be one of approve, approved, deny, denied, reject, rejected");
    }
  }
  input.comment = automation::string_field(body, "comment", "comment");
  if (input.comment && input.comment->size() > max_comment_chars) {
    automation::invalid(fmt::format("comment: must be at most {} bytes", max_comment_chars));
  }
  return input;
}

void add_decision_route(http::Router& router, app::AppContext& app, const char* pattern,
                        std::optional<runs::Decision> fixed) {
  router.add(verb::post, pattern, http::Access::operator_, [&app, fixed](http::RequestContext& context) {
    auto input = Deferred<DecisionInput>::from([&] { return parse_decision(context.request, fixed); });
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params, ip = context.client_ip, input,
                    access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = approval_id_param(params);
                     const auto& in = input.get();
                     runs::ApprovalDecider decider{actor.actor(),
                                                   actor.is_session() ? std::optional(actor.username) : std::nullopt,
                                                   actor.role == auth::Role::admin, ip};
                     auto decided = app.fanout.decide(txn, id, decider, in.decision, in.comment);
                     txn.commit();
                     after_commit(app, decided.after);
                     return http::json_response(status::ok,
                                                boost::json::object{{"status", decided.approval.status},
                                                                    {"approval", render_approval(decided.approval)}});
                   });
  });
}

}  // namespace

void add_approval_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::get, "/api/approvals", http::Access::viewer, [&app](http::RequestContext& context) {
    auto query = Deferred<ApprovalListQuery>::from([&] { return parse_approval_list_query(context.request); });
    answer_from_db(app, context, [request = context.request, query, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto& q = query.get();
      const auto page = store::approvals::list(txn, q.status, q.page);
      boost::json::array out;
      for (const auto& approval : page.rows) out.push_back(render_approval(approval));
      // Seed 004 answers a bare array: the next page's cursor is in X-Next-Cursor and Link.
      auto response = http::json_response(status::ok, out);
      add_next_cursor_headers(response, request, page.next);
      return response;
    });
  });

  // Before /{id}: the router takes the first route that matches.
  router.add(verb::get, "/api/approvals/count", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      return http::json_response(status::ok, boost::json::object{{"count", store::approvals::count_pending(txn)}});
    });
  });

  router.add(verb::get, "/api/approvals/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [request = context.request, params = context.path_params, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto approval = store::approvals::find(txn, approval_id_param(params));
      if (!approval) throw http::ApiError(status::not_found, "approval request not found");
      return http::json_response(status::ok, render_approval(*approval));
    });
  });

  add_decision_route(router, app, "/api/approvals/{id}/approve", runs::Decision::approve);
  add_decision_route(router, app, "/api/approvals/{id}/reject", runs::Decision::reject);
  add_decision_route(router, app, "/api/approvals/{id}/decide", std::nullopt);
}

}  // namespace tether::api
