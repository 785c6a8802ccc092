// A run's hold for approval, its decision and its expiry: the part of a run's life between its
// firing and its start when its job requires approval (members of Fanout, declared in fanout.hpp).
//
// Lock order, shared with a run's cancel: the run's row first, then its approval request's.
#include "controller/runs/fanout.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/schedule_spec.hpp"
#include "common/time.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/sql_text.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tether::runs {

using services::Refusal;
using services::ServiceError;

namespace {

// "user:alice" reads as "alice" in a reason; keys and the system keep their actor.
std::string who(const std::string& actor) {
  constexpr std::string_view user = "user:";
  return actor.rfind(user, 0) == 0 ? actor.substr(user.size()) : actor;
}

boost::json::value nullable_text(const std::optional<std::string>& text) {
  return text ? boost::json::value(*text) : boost::json::value(nullptr);
}

void audit(pqxx::transaction_base& txn, const std::string& actor, const std::string& action,
           const store::ApprovalRecord& approval, const std::optional<std::string>& client_ip,
           boost::json::object detail) {
  detail["run_id"] = approval.run_id;
  detail["job_id"] = nullable_text(approval.job_id);
  store::audit::Entry entry{actor, action, approval.id, client_ip, "allowed", json::serialize(detail)};
  entry.run_id = approval.run_id;
  store::audit::record(txn, entry);
}

}  // namespace

Created Fanout::hold_for_approval(pqxx::transaction_base& txn, store::RunRecord run,
                                  const std::vector<std::string>& servers, const store::JobRecord& job,
                                  const std::string& reason, const std::string& created_by,
                                  const std::string& client_ip) {
  run.status = "pending_approval";
  run.waiting_for = "approval";
  store::runs::insert(txn, run);
  store::runs::add_targets(txn, run.id, 1, servers);

  const auto now = clock().now();
  store::ApprovalRecord approval;
  approval.id = ids::new_uuid();
  approval.run_id = run.id;
  approval.job_id = job.id;
  approval.status = "pending";
  approval.reason = reason;
  approval.approvers = job.approvers;
  approval.requested_by = created_by;
  approval.requested_us = store::epoch_micros(now);
  approval.expires_us = store::epoch_micros(now + approval_timeout_);
  store::approvals::insert(txn, approval);

  // A manual trigger is audited as one, as when its run starts at once (the scheduler's and
  // triggers' firings are not), with the address it came from.
  const auto requested_from = client_ip.empty() ? std::nullopt : std::optional<std::string>(client_ip);
  if (created_by.rfind("job:", 0) != 0 && created_by.rfind("trigger:", 0) != 0) {
    boost::json::array env_keys;
    for (const auto& key : run.env_keys) env_keys.emplace_back(key);
    store::audit::record(txn, {created_by, "jobs.trigger", run.id, requested_from, "allowed",
                               json::serialize(boost::json::object{{"operation_type", run.operation_type},
                                                                   {"job_id", job.id},
                                                                   {"env_keys", std::move(env_keys)}})});
  }
  boost::json::array approvers;
  for (const auto& name : approval.approvers) approvers.emplace_back(name);
  audit(txn, created_by, "approvals.request", approval, requested_from,
        {{"reason", reason},
         {"approvers", std::move(approvers)},
         {"expires_at", timeutil::format_utc_micros(approval.expires_us)}});
  spdlog::info("event=run_held_for_approval run_id={} job_id={} approval_id={} reason=\"{}\"", run.id, job.id,
               approval.id, reason);
  return Created{*store::runs::find(txn, run.id), {}};
}

Decided Fanout::decide(pqxx::transaction_base& txn, const std::string& approval_id, const ApprovalDecider& decider,
                       Decision decision, const std::optional<std::string>& comment) {
  const auto not_found = [&] { return ServiceError(Refusal::not_found, "approval request " + approval_id + " not found"); };
  const auto seen = store::approvals::find(txn, approval_id);
  if (!seen) throw not_found();
  auto run = store::runs::lock(txn, seen->run_id);
  auto approval = store::approvals::find(txn, approval_id, true);
  if (!run || !approval) throw not_found();

  const auto now = clock().now();
  if (approval->status != "pending") {
    throw ServiceError(Refusal::conflict, fmt::format("approval request {} is already {}{}", approval_id,
                                                      approval->status,
                                                      approval->decided_by ? " by " + *approval->decided_by : ""));
  }
  if (approval->expires_us <= store::epoch_micros(now)) {
    throw ServiceError(Refusal::conflict, fmt::format("approval request {} expired at {}", approval_id,
                                                      timeutil::format_utc_micros(approval->expires_us)));
  }
  if (decider.actor == approval->requested_by) {
    throw ServiceError(Refusal::forbidden, fmt::format("{} asked for this run: someone else must approve or reject it",
                                                       decider.actor));
  }
  const auto& approvers = approval->approvers;
  const bool listed =
      decider.username && std::find(approvers.begin(), approvers.end(), *decider.username) != approvers.end();
  if (!approvers.empty() && !decider.admin && !listed) {
    throw ServiceError(Refusal::forbidden,
                       fmt::format("only this request's approvers ({}) or an admin may decide it; {} is not one of them",
                                   fmt::join(approvers, ", "), decider.actor));
  }
  const bool approve = decision == Decision::approve;
  const std::string status = approve ? "approved" : "rejected";
  const store::approvals::Decider rule{decider.actor, decider.username, decider.admin};
  if (!store::approvals::decide(txn, approval_id, status, rule, comment, now)) {
    throw ServiceError(Refusal::conflict, "approval request " + approval_id + " can no longer be decided");
  }

  Decided out;
  if (run->status == "pending_approval") {
    if (approve) {
      // Behind a run of its job still under way when the job queues its runs; else it starts.
      bool queue = false;
      if (run->job_id) {
        const auto job = store::jobs::find(txn, *run->job_id);
        if (job && job->overlap_policy == "queue") {
          for (const auto& other : store::runs::active_of_job(txn, *run->job_id)) {
            queue |= other.id != run->id && other.status != "pending_approval";
          }
        }
      }
      if (queue) {
        store::runs::queue_behind_previous(txn, run->id);
      } else {
        store::runs::mark_running(txn, run->id, now);
        out.after.runs_to_advance.push_back(run->id);
      }
    } else {
      std::string reason = "rejected by " + who(decider.actor);
      if (comment && !comment->empty()) reason += ": " + *comment;
      out.after = cancel_locked(txn, *run, decider.actor, reason);
    }
  }
  audit(txn, decider.actor, approve ? "approvals.approve" : "approvals.reject", *approval, decider.client_ip,
        {{"comment", nullable_text(comment)}});
  spdlog::info("event=approval_decided approval_id={} run_id={} status={} by={}", approval_id, run->id, status,
               decider.actor);
  out.approval = *store::approvals::find(txn, approval_id);
  out.run = *store::runs::find(txn, run->id);
  return out;
}

AfterCommit Fanout::expire_approvals(pqxx::transaction_base& txn, int limit) {
  AfterCommit after;
  const auto now = clock().now();
  for (const auto& seen : store::approvals::expired_pending(txn, now, limit)) {
    auto run = store::runs::lock(txn, seen.run_id);
    auto approval = store::approvals::find(txn, seen.id, true);
    if (!run || !approval || !store::approvals::mark_expired(txn, approval->id, now)) continue;  // decided meanwhile
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::microseconds(approval->expires_us - approval->requested_us));
    const auto reason = "approval expired after " + schedule::format_duration(waited);
    if (run->status == "pending_approval") after.merge(cancel_locked(txn, *run, "system", reason));
    audit(txn, "system", "approvals.expire", *approval, std::nullopt, {{"reason", reason}});
    spdlog::info("event=approval_expired approval_id={} run_id={}", approval->id, run->id);
  }
  return after;
}

}  // namespace tether::runs
