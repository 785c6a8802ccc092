// Runs held for approval on an injected clock against a real PostgreSQL: the hold (nothing starts),
// approve (the run fans out), reject and expiry (the run ends canceled saying why), a cancel of the
// held run, and who may not decide: the one who asked for the run, and anyone outside the
// request's approvers who is not an admin, refused by the service and by the store's UPDATE alike.
#include "../automation_fixture.hpp"

#include "controller/services/service_error.hpp"
#include "controller/store/approval_store.hpp"
#include "controller/store/audit_store.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;

namespace {

using testing::t0;
using testing::us;

const runs::ApprovalDecider alice{"user:alice", std::string("alice"), false, "127.0.0.1"};
const runs::ApprovalDecider bob{"user:bob", std::string("bob"), false, "127.0.0.1"};
const runs::ApprovalDecider carol{"user:carol", std::string("carol"), false, "127.0.0.1"};
const runs::ApprovalDecider operator_key{"api_key:11111111-1111-1111-1111-111111111111", std::nullopt, false,
                                         "127.0.0.1"};
const runs::ApprovalDecider admin_key{"api_key:22222222-2222-2222-2222-222222222222", std::nullopt, true, "127.0.0.1"};

struct ApprovalFixture : testing::AutomationFixture {
  ApprovalFixture() {
    pqxx::work txn(fx.connection);
    for (const auto* name : {"alice", "bob", "carol"}) {
      txn.exec_params("INSERT INTO users (id, username, role, password_hash) VALUES ($1, $2, 'operator', 'x')",
                      ids::new_uuid(), std::string(name));
    }
    txn.commit();
  }

  store::JobRecord approval_job(std::vector<std::string> approvers, const std::string& overlap = "skip") {
    auto spec = interval_job("1h");
    spec.schedule.reset();
    spec.requires_approval = true;
    spec.approvers = std::move(approvers);
    spec.overlap_policy = overlap;
    return create(spec);
  }

  // A manual trigger by `who`, as POST /jobs/{id}/trigger makes it.
  runs::Created trigger(const store::JobRecord& job, const std::string& who = "user:carol") {
    pqxx::work txn(fx.connection);
    auto created = fanout.fire_job(txn, job, clock.now(), std::nullopt, who);
    txn.commit();
    return created;
  }

  store::ApprovalRecord approval(const std::string& id) {
    pqxx::read_transaction txn(fx.connection);
    return *store::approvals::find(txn, id);
  }

  runs::Decided decide(const std::string& id, const runs::ApprovalDecider& who, runs::Decision decision,
                       std::optional<std::string> comment = std::nullopt) {
    pqxx::work txn(fx.connection);
    auto decided = fanout.decide(txn, id, who, decision, comment);
    txn.commit();
    for (const auto& run_id : decided.after.runs_to_advance) advance(run_id);
    return decided;
  }

  // The refusal of a decision, or nullopt when it went through.
  std::optional<services::Refusal> refusal_of(const std::string& id, const runs::ApprovalDecider& who,
                                              runs::Decision decision = runs::Decision::approve) {
    try {
      decide(id, who, decision);
      return std::nullopt;
    } catch (const services::ServiceError& e) {
      INFO(e.what());
      return e.refusal();
    }
  }

  // The store's own guard, called directly (as a service that forgot a check would).
  bool store_decide(const std::string& id, const runs::ApprovalDecider& who) {
    pqxx::work txn(fx.connection);
    const bool changed = store::approvals::decide(txn, id, "approved", {who.actor, who.username, who.admin}, std::nullopt,
                                                  clock.now());
    txn.commit();
    return changed;
  }

  std::vector<std::string> audit_actions(const std::string& run_id) {
    pqxx::read_transaction txn(fx.connection);
    store::audit::Filter filter;
    filter.run_id = run_id;
    std::vector<std::string> out;
    for (const auto& row : store::audit::query(txn, filter, 0)) out.push_back(row.action);
    return out;
  }

  bool anything_started(const std::string& run_id) {
    for (const auto& op : operations_of(run_id)) {
      if (op.operation_id) return true;
    }
    return false;
  }
};

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

TEST_CASE("a run of a job that requires approval waits as pending_approval and nothing starts", "[approvals]") {
  ApprovalFixture a;
  const auto job = a.approval_job({"alice", "bob"});
  const auto created = a.trigger(job);
  CHECK(created.run.status == "pending_approval");
  CHECK(created.run.waiting_for == std::optional<std::string>("approval"));
  CHECK(created.after.launches.empty());
  CHECK(created.after.runs_to_advance.empty());
  REQUIRE(created.run.approval_id);

  const auto request = a.approval(*created.run.approval_id);
  CHECK(request.status == "pending");
  CHECK(request.run_id == created.run.id);
  CHECK(request.job_id == std::optional<std::string>(job.id));
  CHECK(request.job_name == std::optional<std::string>("job"));
  CHECK(request.reason == "the job requires approval");
  CHECK(request.approvers == std::vector<std::string>{"alice", "bob"});
  CHECK(request.requested_by == "user:carol");
  CHECK(request.requested_us == us(t0));
  CHECK(request.expires_us == us(t0 + 1h));
  CHECK(request.run_status == "pending_approval");

  // Its target is recorded and pending; advancing it (the driver's sweep, a stray notice) starts nothing.
  const auto ops = a.operations_of(created.run.id);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].server_id == a.fx.server_id);
  CHECK(ops[0].status == "pending");
  a.advance(created.run.id);
  CHECK_FALSE(a.anything_started(created.run.id));
  CHECK(a.run(created.run.id).status == "pending_approval");
  {
    pqxx::read_transaction txn(a.fx.connection);
    CHECK(store::approvals::count_pending(txn) == 1);
    CHECK(store::approvals::list(txn, std::string("pending"), {10, std::nullopt}).rows.size() == 1);
    CHECK(store::approvals::list(txn, std::string("approved"), {10, std::nullopt}).rows.empty());
  }
  CHECK(contains(a.audit_actions(created.run.id), "approvals.request"));
  {
    // A manual trigger is audited as one, held or not.
    pqxx::read_transaction txn(a.fx.connection);
    store::audit::Filter filter;
    filter.action = "jobs.trigger";
    const auto rows = store::audit::query(txn, filter, 0);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].actor == "user:carol");
  }

  // While it waits, it is the job's run under way: overlap policy skip records a later firing as skipped.
  const auto second = a.trigger(job);
  CHECK(second.run.status == "canceled");
  CHECK(second.run.skipped);
  CHECK(second.run.error.value_or("").find("is awaiting approval") != std::string::npos);
}

TEST_CASE("approving by a listed approver starts the run on its recorded targets; it completes", "[approvals]") {
  ApprovalFixture a;
  const auto job = a.approval_job({"alice"});
  const auto created = a.trigger(job);
  a.clock.set(t0 + 10min);
  const auto decided = a.decide(*created.run.approval_id, alice, runs::Decision::approve, "ship it");
  CHECK(decided.approval.status == "approved");
  CHECK(decided.approval.decided_by == std::optional<std::string>("user:alice"));
  CHECK(decided.approval.decided_us == us(t0 + 10min));
  CHECK(decided.approval.comment == std::optional<std::string>("ship it"));
  CHECK(decided.after.runs_to_advance == std::vector<std::string>{created.run.id});

  const auto ops = a.operations_of(created.run.id);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].operation_id.has_value());  // the run driver fanned it out
  CHECK(a.run(created.run.id).status == "running");
  CHECK(a.run(created.run.id).started_us == us(t0 + 10min));
  a.end_operations(created.run.id, 0);
  CHECK(a.run(created.run.id).status == "completed");
  CHECK(contains(a.audit_actions(created.run.id), "approvals.approve"));

  // Deciding twice is a conflict.
  CHECK(a.refusal_of(*created.run.approval_id, alice, runs::Decision::reject) == services::Refusal::conflict);
}

TEST_CASE("rejecting cancels the run with who rejected it and why; nothing ever starts", "[approvals]") {
  ApprovalFixture a;
  const auto job = a.approval_job({});
  const auto created = a.trigger(job);
  const auto decided = a.decide(*created.run.approval_id, bob, runs::Decision::reject, "not during the sale");
  CHECK(decided.approval.status == "rejected");
  CHECK(decided.run.status == "canceled");
  CHECK(decided.run.error == std::optional<std::string>("rejected by bob: not during the sale"));
  CHECK_FALSE(a.anything_started(created.run.id));
  const auto ops = a.operations_of(created.run.id);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].status == "canceled");
  CHECK(contains(a.audit_actions(created.run.id), "approvals.reject"));
  CHECK(a.refusal_of(*created.run.approval_id, bob) == services::Refusal::conflict);
}

TEST_CASE("a request expires after the approval timeout and its run is canceled saying so", "[approvals]") {
  ApprovalFixture a;
  a.fanout.set_approval_timeout(90s);
  const auto job = a.approval_job({"alice"});
  const auto created = a.trigger(job);
  const auto id = *created.run.approval_id;
  CHECK(a.approval(id).expires_us == us(t0 + 90s));

  const auto expire = [&] {
    pqxx::work txn(a.fx.connection);
    auto after = a.fanout.expire_approvals(txn, 100);
    txn.commit();
    return after;
  };
  a.clock.set(t0 + 89s);
  expire();
  CHECK(a.approval(id).status == "pending");

  a.clock.set(t0 + 90s);
  expire();
  const auto request = a.approval(id);
  CHECK(request.status == "expired");
  CHECK(request.decided_by == std::optional<std::string>("system"));
  const auto run = a.run(created.run.id);
  CHECK(run.status == "canceled");
  CHECK(run.error == std::optional<std::string>("approval expired after 90s"));
  CHECK_FALSE(a.anything_started(created.run.id));
  CHECK(contains(a.audit_actions(created.run.id), "approvals.expire"));
  CHECK(a.refusal_of(id, alice) == services::Refusal::conflict);

  // Past its time but not yet swept: a decision is refused all the same.
  const auto later = a.trigger(job);
  a.clock.set(t0 + 90s + 90s);
  CHECK(a.refusal_of(*later.run.approval_id, alice) == services::Refusal::conflict);
  CHECK_FALSE(a.store_decide(*later.run.approval_id, alice));
}

TEST_CASE("the one who asked for the run may not decide it, admin or not", "[approvals]") {
  ApprovalFixture a;
  const auto job = a.approval_job({"alice", "carol"});
  const auto by_carol = a.trigger(job, "user:carol");
  CHECK(a.refusal_of(*by_carol.run.approval_id, carol) == services::Refusal::forbidden);
  CHECK(a.refusal_of(*by_carol.run.approval_id, carol, runs::Decision::reject) == services::Refusal::forbidden);
  CHECK_FALSE(a.store_decide(*by_carol.run.approval_id, carol));
  CHECK(a.approval(*by_carol.run.approval_id).status == "pending");

  const auto open = a.approval_job({});
  const auto by_admin = a.trigger(open, admin_key.actor);
  CHECK(a.refusal_of(*by_admin.run.approval_id, admin_key) == services::Refusal::forbidden);
  CHECK_FALSE(a.store_decide(*by_admin.run.approval_id, admin_key));
  // Someone else may.
  CHECK_FALSE(a.refusal_of(*by_admin.run.approval_id, operator_key).has_value());
}

TEST_CASE("with approvers listed, only they or an admin may decide; without, any operator", "[approvals]") {
  ApprovalFixture a;
  const auto job = a.approval_job({"alice"});
  const auto first = a.trigger(job, "job:" + job.id);  // the scheduler's firing
  const auto id = *first.run.approval_id;
  CHECK(a.refusal_of(id, bob) == services::Refusal::forbidden);
  CHECK(a.refusal_of(id, operator_key) == services::Refusal::forbidden);  // a key is no listed user
  CHECK_FALSE(a.store_decide(id, bob));
  CHECK_FALSE(a.store_decide(id, operator_key));
  CHECK(a.approval(id).status == "pending");
  CHECK_FALSE(a.refusal_of(id, admin_key).has_value());
  CHECK(a.approval(id).status == "approved");
  CHECK(a.approval(id).decided_by == std::optional<std::string>(admin_key.actor));

  const auto open = a.approval_job({});
  const auto second = a.trigger(open);
  CHECK_FALSE(a.refusal_of(*second.run.approval_id, operator_key).has_value());

  CHECK(a.refusal_of(ids::new_uuid(), alice) == services::Refusal::not_found);
}

TEST_CASE("canceling a held run cancels its request; cancel_previous replaces a held run", "[approvals]") {
  ApprovalFixture a;
  const auto job = a.approval_job({"alice"}, "cancel_previous");
  const auto created = a.trigger(job);
  {
    pqxx::work txn(a.fx.connection);
    a.fanout.cancel(txn, created.run.id, "user:bob", "canceled by user:bob");
    txn.commit();
  }
  CHECK(a.run(created.run.id).status == "canceled");
  CHECK(a.approval(*created.run.approval_id).status == "canceled");
  CHECK(a.approval(*created.run.approval_id).decided_by == std::optional<std::string>("user:bob"));
  CHECK(a.refusal_of(*created.run.approval_id, alice) == services::Refusal::conflict);

  const auto first = a.trigger(job);
  const auto second = a.trigger(job);
  CHECK(a.run(first.run.id).status == "canceled");
  CHECK(a.approval(*first.run.approval_id).status == "canceled");
  CHECK(second.run.status == "pending_approval");
  CHECK(a.approval(*second.run.approval_id).status == "pending");
}

TEST_CASE("an approved run of a queue job waits behind the job's run under way", "[approvals]") {
  ApprovalFixture a;
  auto spec = a.interval_job("1h");
  spec.schedule.reset();
  spec.overlap_policy = "queue";
  auto job = a.create(spec);
  const auto running = a.trigger(job);
  REQUIRE(running.run.status == "running");
  // The job now requires approval: the next firing is held, not queued.
  {
    pqxx::work txn(a.fx.connection);
    txn.exec_params("UPDATE jobs SET requires_approval = true WHERE id = $1", job.id);
    txn.commit();
  }
  job = a.job(job.id);
  const auto held = a.trigger(job);
  REQUIRE(held.run.status == "pending_approval");
  a.decide(*held.run.approval_id, alice, runs::Decision::approve);
  CHECK(a.run(held.run.id).status == "scheduled");
  CHECK(a.run(held.run.id).waiting_for == std::optional<std::string>("previous_run"));
  CHECK_FALSE(a.anything_started(held.run.id));
  a.end_operations(running.run.id, 0);
  a.advance(held.run.id);
  CHECK(a.run(held.run.id).status == "running");
  CHECK(a.anything_started(held.run.id));
}

TEST_CASE("a job's approvers must be existing users", "[approvals]") {
  ApprovalFixture a;
  auto spec = a.interval_job("1h");
  spec.requires_approval = true;
  spec.approvers = {"alice", "nobody"};
  try {
    a.create(spec);
    FAIL("an unknown approver was accepted");
  } catch (const services::ServiceError& e) {
    CHECK(e.refusal() == services::Refusal::invalid);
    CHECK(std::string(e.what()).find("approvers[1]") != std::string::npos);
  }
}
