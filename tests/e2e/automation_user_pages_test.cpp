// Issue 12 §4 for the automation and user lists, with a real controller: every route walks to its
// end with `limit` and the cursor it answers, `next_cursor` on the object answers and
// X-Next-Cursor/Link on seed 000/004's bare arrays, each row exactly once in the list's order, the
// filters kept with the cursor, and a cursor that is not the list's refused with 422.
#include "tests/e2e/e2e_checks.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <regex>
#include <set>

using namespace tether;
using namespace tether::e2e;

namespace {

const std::string job_a = "0000000a-0000-4000-8000-000000000000";
const std::string job_b = "0000000b-0000-4000-8000-000000000000";
const std::string trigger_t = "0000000c-0000-4000-8000-000000000000";

testing::TetherStack& pages_stack() {
  testing::StackOptions options;
  options.agents = 0;
  return shared_stack(options);
}

// The rows the lists page over, written straight to the database: many share a sort key, so that
// page ends fall inside groups of equal times.
void seed(testing::TetherStack& stack) {
  static bool seeded = false;
  if (seeded) return;
  seeded = true;
  pqxx::connection connection(stack.database().url());
  pqxx::work txn(connection);
  txn.exec_params(
      "INSERT INTO jobs (id, name, operation_type, operation_params, created_by, created_at) "
      "VALUES ($1, 'job-a', 'exec', '{\"command\":\"true\"}', 'test', now()), "
      "($2, 'job-b', 'exec', '{\"command\":\"true\"}', 'test', now())",
      job_a, job_b);
  txn.exec("INSERT INTO jobs (id, name, operation_type, operation_params, created_by, created_at) "
           "SELECT gen_random_uuid(), 'job-' || i, 'exec', '{\"command\":\"true\"}', 'test', "
           "timestamptz '2026-11-01 00:00:00.25+00' + (i / 4) * interval '1 microsecond' "
           "FROM generate_series(1, 41) AS i");
  txn.exec_params(
      "INSERT INTO triggers (id, name, job_id, event, created_by, created_at, updated_at) "
      "VALUES ($1, 'trigger-t', $2, 'operation.completed', 'test', now(), now())",
      trigger_t, job_a);
  txn.exec_params(
      "INSERT INTO triggers (id, name, source, job_id, event, created_by, created_at, updated_at) "
      "SELECT gen_random_uuid(), 'trigger-' || i, CASE WHEN i % 2 = 0 THEN 'config' ELSE 'dynamic' END, $1, "
      "'operation.failed', 'test', timestamptz '2026-11-01 00:00:00+00' + (i / 3) * interval '1 microsecond', now() "
      "FROM generate_series(1, 26) AS i",
      job_b);
  // Runs: a third job_a's, every fourth failed, every fifth fired by trigger_t; each with an
  // approval request, every third pending.
  txn.exec_params(
      "INSERT INTO runs (id, job_id, trigger_id, status, scheduled_at, operation_type, operation_params, "
      "max_concurrency, created_by, created_at) "
      "SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, "
      "CASE WHEN i % 3 = 0 THEN $1::uuid ELSE $2::uuid END, CASE WHEN i % 5 = 0 THEN $3::uuid END, "
      "CASE WHEN i % 4 = 0 THEN 'failed' ELSE 'completed' END, "
      "timestamptz '2026-11-01 00:00:00.000007+00' + (i / 6) * interval '1 second', 'exec', "
      "'{\"command\":\"true\"}', 1, 'test', now() FROM generate_series(1, 90) AS i",
      job_a, job_b, trigger_t);
  txn.exec(
      "INSERT INTO approvals (id, run_id, status, reason, requested_by, requested_at, expires_at, decided_at) "
      "SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, "
      "CASE WHEN i % 3 = 0 THEN 'pending' ELSE 'approved' END, 'the job requires approval', 'job:x', "
      "timestamptz '2026-11-01 00:00:00+00' + (i / 4) * interval '1 microsecond', now() + interval '1 hour', "
      "CASE WHEN i % 3 = 0 THEN NULL ELSE now() END FROM generate_series(1, 90) AS i");
  txn.exec("INSERT INTO users (id, username, role, password_hash) "
           "SELECT gen_random_uuid(), 'user-' || lpad(i::text, 3, '0'), 'viewer', 'x' FROM generate_series(1, 33) AS i");
  txn.exec("INSERT INTO sessions (id, token_prefix, token_hash, user_id, created_at, expires_at, last_seen_at) "
           "SELECT gen_random_uuid(), 'tss_' || lpad(to_hex(i), 8, '0'), 'x', "
           "(SELECT id FROM users WHERE username = 'user-' || lpad((i % 5 + 1)::text, 3, '0')), "
           "now() - interval '1 hour' + (i / 3) * interval '1 microsecond', now() + interval '1 day', now() "
           "FROM generate_series(1, 29) AS i");
  txn.exec("INSERT INTO api_keys (id, name, role, key_prefix, key_hash, created_at) "
           "SELECT gen_random_uuid(), 'key-' || i, 'viewer', 'tak_' || lpad(to_hex(i), 8, '0'), 'x', "
           "now() - interval '1 day' + (i / 3) * interval '1 microsecond' FROM generate_series(1, 22) AS i");
  // Windows: every other one in force now.
  txn.exec("INSERT INTO maintenance_windows (id, name, starts_at, ends_at, created_by, created_at, updated_at) "
           "SELECT gen_random_uuid(), 'window-' || i, now() - interval '2 hours', "
           "CASE WHEN i % 2 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 hour' END, 'test', "
           "timestamptz '2026-11-01 00:00:00+00' + (i / 3) * interval '1 microsecond', now() "
           "FROM generate_series(1, 27) AS i");
  txn.commit();
}

// The first column of `sql`'s rows: the list's order as SQL gives it.
std::vector<std::string> expected(testing::TetherStack& stack, const std::string& sql) {
  pqxx::connection connection(stack.database().url());
  pqxx::read_transaction txn(connection);
  std::vector<std::string> out;
  for (const auto& row : txn.exec(sql)) out.push_back(row[0].as<std::string>());
  return out;
}

using Get = std::function<http::Response(const std::string& target)>;

Get admin_get(testing::TetherStack& stack) {
  return [&stack](const std::string& target) { return stack.admin("GET", target); };
}

std::string with_cursor(const std::string& target, const std::string& cursor) {
  return target + (target.find('?') == std::string::npos ? "?" : "&") + "cursor=" + cursor;
}

// Walks an object answer {"<key>": [...], "next_cursor": ...} to its end: `field` of each row.
std::vector<std::string> walk_object(const Get& get, const std::string& target, const std::string& key,
                                     const std::string& field = "id") {
  std::vector<std::string> seen;
  std::string next_target = target;
  for (int page = 0; page < 1000; ++page) {
    const auto response = get(next_target);
    INFO(next_target << ": " << describe(response));
    REQUIRE(response.status == 200);
    const auto body = json_object(response);
    for (const auto& row : body.at(key).as_array()) seen.push_back(std::string(row.as_object().at(field).as_string()));
    REQUIRE(body.contains("next_cursor"));  // null on the last page, never absent
    CHECK_FALSE(response.header("X-Next-Cursor"));
    const auto& next = body.at("next_cursor");
    if (next.is_null()) return seen;
    REQUIRE(next.is_string());
    next_target = with_cursor(target, std::string(next.as_string()));
  }
  FAIL("the walk did not end");
  return seen;
}

// Walks a bare array to its end by following its Link header; checks X-Next-Cursor says the same.
std::vector<std::string> walk_bare(const Get& get, const std::string& target, const std::string& field = "id") {
  std::vector<std::string> seen;
  std::string next_target = target;
  const std::regex link(R"(^<([^>]+)>; rel="next"$)");
  for (int page = 0; page < 1000; ++page) {
    const auto response = get(next_target);
    INFO(next_target << ": " << describe(response));
    REQUIRE(response.status == 200);
    const auto body = boost::json::parse(response.body);
    REQUIRE(body.is_array());
    for (const auto& row : body.as_array()) seen.push_back(std::string(row.as_object().at(field).as_string()));
    const auto cursor = response.header("X-Next-Cursor");
    const auto next = response.header("Link");
    REQUIRE(cursor.has_value() == next.has_value());
    if (!cursor) return seen;
    std::smatch match;
    REQUIRE(std::regex_match(*next, match, link));
    next_target = match[1];
    CHECK(next_target.find("cursor=" + *cursor) != std::string::npos);
    CHECK(next_target.rfind(target.substr(0, target.find('?')) + "?", 0) == 0);  // the same list
  }
  FAIL("the walk did not end");
  return seen;
}

bool distinct(const std::vector<std::string>& ids) { return std::set<std::string>(ids.begin(), ids.end()).size() == ids.size(); }

}  // namespace

TEST_CASE("jobs, runs and triggers walk to their end with next_cursor, filters kept", "[e2e][pages]") {
  auto& stack = pages_stack();
  seed(stack);
  const auto get = admin_get(stack);

  const auto jobs = walk_object(get, "/api/automation/jobs?limit=5", "jobs");
  CHECK(jobs.size() == 43);
  CHECK(distinct(jobs));
  CHECK(jobs == expected(stack, "SELECT id::text FROM jobs ORDER BY created_at DESC, id DESC"));

  const auto runs = walk_object(get, "/api/automation/runs?limit=7", "runs");
  CHECK(runs.size() == 90);
  CHECK(runs == expected(stack, "SELECT id::text FROM runs ORDER BY scheduled_at DESC, id DESC"));
  CHECK(walk_object(get, "/api/automation/runs?limit=4&status=failed&job_id=" + job_a, "runs") ==
        expected(stack, "SELECT id::text FROM runs WHERE status = 'failed' AND job_id = '" + job_a +
                            "' ORDER BY scheduled_at DESC, id DESC"));
  CHECK(walk_object(get, "/api/automation/jobs/" + job_b + "/runs?limit=9", "runs") ==
        expected(stack, "SELECT id::text FROM runs WHERE job_id = '" + job_b + "' ORDER BY scheduled_at DESC, id DESC"));
  CHECK(walk_object(get, "/api/automation/triggers/" + trigger_t + "/runs?limit=5", "runs") ==
        expected(stack, "SELECT id::text FROM runs WHERE trigger_id = '" + trigger_t +
                            "' ORDER BY scheduled_at DESC, id DESC"));

  const auto triggers = walk_object(get, "/api/automation/triggers?limit=4", "triggers");
  CHECK(triggers.size() == 27);
  CHECK(triggers == expected(stack, "SELECT id::text FROM triggers ORDER BY created_at DESC, id DESC"));
  CHECK(walk_object(get, "/api/automation/triggers?limit=3&source=config&event=operation.failed", "triggers") ==
        expected(stack, "SELECT id::text FROM triggers WHERE source = 'config' AND event = 'operation.failed' "
                        "ORDER BY created_at DESC, id DESC"));

  // A list's whole answer fits in one page: next_cursor is null at once.
  const auto all = json_object(stack.admin("GET", "/api/automation/triggers?limit=1000"));
  CHECK(all.at("triggers").as_array().size() == 27);
  CHECK(all.at("next_cursor").is_null());
}

TEST_CASE("seed 000 automations, approvals and maintenance windows keep their bare arrays and walk by Link",
          "[e2e][pages]") {
  auto& stack = pages_stack();
  seed(stack);
  const auto get = admin_get(stack);

  CHECK(walk_bare(get, "/api/automations?limit=6") ==
        expected(stack, "SELECT id::text FROM jobs ORDER BY created_at DESC, id DESC"));

  // Pending by default; status=all every request.
  const auto pending = walk_bare(get, "/api/approvals?limit=4");
  CHECK(pending.size() == 30);
  CHECK(pending == expected(stack, "SELECT id::text FROM approvals WHERE status = 'pending' "
                                   "ORDER BY requested_at DESC, id DESC"));
  CHECK(walk_bare(get, "/api/approvals?status=all&limit=11") ==
        expected(stack, "SELECT id::text FROM approvals ORDER BY requested_at DESC, id DESC"));

  const auto windows = expected(stack, "SELECT id::text FROM maintenance_windows ORDER BY created_at, id");
  CHECK(windows.size() == 27);
  CHECK(walk_bare(get, "/api/maintenance?limit=5") == windows);
  CHECK(walk_bare(get, "/api/maintenance-windows?limit=8") == windows);
  CHECK(walk_bare(get, "/api/maintenance-windows/active?limit=4") ==
        expected(stack, "SELECT id::text FROM maintenance_windows WHERE ends_at > now() ORDER BY created_at, id"));
}

TEST_CASE("users, sessions and operator API keys keep their bare arrays and walk by Link", "[e2e][pages]") {
  auto& stack = pages_stack();
  seed(stack);
  const auto get = admin_get(stack);

  // A user of its own, logged in three times: its profile lists its own sessions only.
  const auto added = stack.admin("POST", "/api/admin/users",
                                 R"({"action":"add","username":"pat","role":"viewer","password":"PatPass-123456"})");
  REQUIRE(added.status == 200);
  std::string token;
  for (int i = 0; i < 3; ++i) {
    const auto login = stack.client().post("/api/login", R"({"username":"pat","password":"PatPass-123456"})",
                                           {{"Content-Type", "application/json"}});
    REQUIRE(login.status == 200);
    token = string_field(json_object(login), "token");
  }
  const Get as_pat = [&stack, token](const std::string& target) {
    return stack.client().get(target, {http::bearer(token)});
  };
  const auto own = walk_bare(as_pat, "/api/profile/sessions?limit=2", "prefix");
  CHECK(own.size() == 3);
  CHECK(own == expected(stack, "SELECT s.token_prefix FROM sessions s JOIN users u ON u.id = s.user_id "
                               "WHERE u.username = 'pat' ORDER BY s.created_at DESC, s.id DESC"));

  const auto users = walk_bare(get, "/api/admin/users?limit=5", "username");
  CHECK(users.size() == 34);
  CHECK(users == expected(stack, "SELECT username FROM users ORDER BY username"));

  const auto sessions = walk_bare(get, "/api/admin/sessions?limit=6", "prefix");
  CHECK(sessions.size() == 32);
  CHECK(distinct(sessions));
  CHECK(sessions == expected(stack, "SELECT token_prefix FROM sessions WHERE expires_at > now() "
                                    "ORDER BY created_at DESC, id DESC"));

  const auto keys = walk_bare(get, "/api/admin/api-keys?limit=4");
  CHECK(keys.size() == 23);  // the stack's own admin key and 22 more
  CHECK(keys == expected(stack, "SELECT id::text FROM api_keys ORDER BY created_at, id"));
}

TEST_CASE("a cursor that is not the list's, and a limit out of range, are 422 naming the field", "[e2e][pages]") {
  auto& stack = pages_stack();
  seed(stack);

  // A users cursor carries a name; the sessions list's carries a time.
  const auto users = stack.admin("GET", "/api/admin/users?limit=1");
  REQUIRE(users.header("X-Next-Cursor"));
  const auto wrong = stack.admin("GET", "/api/admin/sessions?cursor=" + *users.header("X-Next-Cursor"));
  check_error(wrong, 422);
  CHECK(string_field(json_object(wrong), "detail").rfind("cursor", 0) == 0);

  check_error(stack.admin("GET", "/api/automation/runs?cursor=not-a-cursor"), 422);
  const auto too_many = stack.admin("GET", "/api/automation/jobs?limit=1001");
  check_error(too_many, 422);
  CHECK(string_field(json_object(too_many), "detail").rfind("limit", 0) == 0);
}
