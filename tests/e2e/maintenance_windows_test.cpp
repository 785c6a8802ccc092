// Issue 11 §4: maintenance windows on a real controller and agent, through both seeds' routes
// (seed 000's /api/maintenance, seed 004's /api/maintenance-windows) over the same windows: a
// scheduled job in a `disabled` window is skipped, naming the window, while an operator's own run
// goes ahead and says so (in the jobs API's and seed 000's run views); in an `approval` window it
// waits for approval; activate, deactivate, replace, delete; 404 and 422 answers; who may call
// what; the audit entries of each change.
#include "tests/e2e/jobs_checks.hpp"

#include <fmt/format.h>

#include <thread>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;

namespace {

// One controller, agent and database for every case (each makes its own jobs and windows, scoped
// to its own job or removed before it ends, so that none holds another's runs).
struct Maintenance {
  testing::TestDatabase database;
  testing::TetherStack stack{database, [] {
                               testing::StackOptions options;
                               options.master_key = true;
                               return options;
                             }()};
  AutomationApi api{stack};
  std::string viewer = testing::create_operator_key(database, "maintenance-viewer", "viewer");
  std::string operator_key = testing::create_operator_key(database, "maintenance-operator", "operator");

  http::Response call(const std::string& method, const std::string& target, const boost::json::object& body = {}) {
    return api.call(method, target, body);
  }
  // With another key ("" for none).
  http::Response call_as(const std::string& key, const std::string& method, const std::string& target,
                         const std::string& body = "{}") {
    http::Client client(stack.client_options());
    http::Headers headers;
    if (!key.empty()) headers.push_back(http::bearer(key));
    return client.request(method, target, method == "GET" || method == "DELETE" ? "" : body, headers);
  }
  boost::json::object expect_object(const http::Response& response, unsigned status) {
    INFO(describe(response));
    REQUIRE(response.status == status);
    return json_object(response);
  }
  boost::json::array expect_array(const http::Response& response) {
    INFO(describe(response));
    REQUIRE(response.status == 200);
    const auto body = boost::json::parse(response.body);
    REQUIRE(body.is_array());
    return body.as_array();
  }
  // The windows a list route answers, by id.
  std::map<std::string, boost::json::object> listed(const std::string& path) {
    std::map<std::string, boost::json::object> out;
    for (const auto& window : objects(expect_array(call("GET", path)))) out[string_field(window, "id")] = window;
    return out;
  }
  // A job with no schedule, on the stack's server.
  std::string manual_job(const std::string& name) {
    return string_field(api.create_job({{"name", name},
                                        {"operation", testing::exec_operation("echo maintained", 30)},
                                        {"targets", testing::server_targets({stack.server_id()})}}),
                        "id");
  }
};

Maintenance& shared() {
  static const std::unique_ptr<Maintenance> fixture = std::make_unique<Maintenance>();
  return *fixture;
}

std::string utc_in(std::chrono::seconds from_now) { return testing::rfc3339(std::chrono::system_clock::now() + from_now); }

}  // namespace

TEST_CASE("a scheduled run in a disabled window is skipped naming the window; an operator's run goes and says so",
          "[e2e][maintenance]") {
  auto& m = shared();
  const auto& server_id = m.stack.server_id();
  // A job due every second, and a one-time window over it now (seed 004's route, Tether's scope).
  const auto job = m.api.create_job({{"name", "every-second"},
                                     {"schedule", {{"mode", "interval"}, {"interval", "1s"}}},
                                     {"overlap_policy", "allow"},
                                     {"operation", testing::exec_operation("echo maintained", 30)},
                                     {"targets", testing::server_targets({server_id})}});
  const auto job_id = string_field(job, "id");
  const auto window = m.expect_object(m.call("POST", "/api/maintenance-windows",
                                             {{"name", "Freeze"},
                                              {"start", utc_in(-60s)},
                                              {"end", utc_in(3600s)},
                                              {"scope", {{"job_ids", {job_id}}}},
                                              {"autonomy_override", "disabled"}}),
                                      201);
  const auto window_id = string_field(window, "id");
  INFO(boost::json::serialize(window));
  CHECK(window.at("active") == true);
  CHECK(window.at("scope").as_array() == boost::json::array{boost::json::value(job_id)});
  CHECK(object_at(window, "scope_ids").at("job_ids").as_array() == boost::json::array{boost::json::value(job_id)});
  CHECK(window.at("duration_seconds") == 3660);
  CHECK(string_field(window, "created_by").rfind("api_key:", 0) == 0);
  CHECK(is_rfc3339_utc(window.at("active_until")));
  const boost::json::object named{{"id", window_id}, {"name", "Freeze"}};

  const auto runs = m.api.wait_for_job_runs(
      job_id, [](const boost::json::array& r) { return !r.empty(); }, 10s, "a firing");
  const auto skipped = runs.at(0).as_object();
  INFO(boost::json::serialize(skipped));
  CHECK(string_field(skipped, "status") == "canceled");
  CHECK(optional_string(skipped, "error") ==
        "skipped: maintenance window 'Freeze' (" + window_id + ") holds automation still");
  CHECK(object_at(skipped, "maintenance_window") == named);

  // An operator's run goes, and says so: the jobs API's trigger, seed 000's run and its view.
  const auto manual = m.api.trigger_job(job_id);
  CHECK(object_at(manual, "maintenance_window") == named);
  CHECK(string_field(m.api.wait_for_run_end(string_field(manual, "id"), 20s), "status") == "completed");
  const auto seed_run = m.expect_object(m.call("POST", "/api/automations/" + job_id + "/run"), 200);
  CHECK(object_at(seed_run, "maintenance_window") == named);
  const auto seed_view = m.expect_object(m.call("GET", "/api/automations/runs/" + string_field(seed_run, "run_id")), 200);
  CHECK(object_at(seed_view, "maintenance_window") == named);

  // Every firing of the scheduler so far was held.
  for (const auto& run : objects(m.api.job_runs(job_id))) {
    if (string_field(run, "created_by") != "job:" + job_id) continue;
    INFO(boost::json::serialize(run));
    CHECK(string_field(run, "status") == "canceled");
  }

  // Deactivated (seed 000's route), the window holds nothing: the schedule runs again.
  const auto off = m.expect_object(m.call("POST", "/api/maintenance/" + window_id + "/deactivate"), 200);
  CHECK(off.at("active") == false);
  check_jobs_error(m.call("POST", "/api/maintenance/" + window_id + "/deactivate"), 409);
  m.api.wait_for_job_runs(
      job_id,
      [&](const boost::json::array& r) {
        for (const auto& run : objects(r)) {
          if (string_field(run, "created_by") == "job:" + job_id && string_field(run, "status") == "completed" &&
              run.at("maintenance_window").is_null()) {
            return true;
          }
        }
        return false;
      },
      10s, "a scheduled run that went");
  m.api.patch_job(job_id, {{"enabled", false}});
  CHECK(m.expect_object(m.call("DELETE", "/api/maintenance-windows/" + window_id), 200) ==
        boost::json::object{{"status", "ok"}});
}

TEST_CASE("a scheduled run in an approval window waits for approval, naming the window", "[e2e][maintenance]") {
  auto& m = shared();
  const auto job = m.api.create_job({{"name", "every-second-approved"},
                                     {"schedule", {{"mode", "interval"}, {"interval", "1s"}}},
                                     {"overlap_policy", "allow"},
                                     {"operation", testing::exec_operation("echo approved", 30)},
                                     {"targets", testing::server_targets({m.stack.server_id()})}});
  const auto job_id = string_field(job, "id");
  const auto window_id = string_field(m.expect_object(m.call("POST", "/api/maintenance-windows",
                                                             {{"name", "Ask"},
                                                              {"start", utc_in(-60s)},
                                                              {"end", utc_in(3600s)},
                                                              {"scope", {job_id}},
                                                              {"autonomy_override", "approval"}}),
                                                      201),
                                      "id");
  const auto runs = m.api.wait_for_job_runs(
      job_id, [](const boost::json::array& r) { return !r.empty(); }, 10s, "a firing");
  m.api.patch_job(job_id, {{"enabled", false}});
  const auto held = runs.at(runs.size() - 1).as_object();  // the first firing
  INFO(boost::json::serialize(held));
  CHECK(string_field(held, "status") == "pending_approval");
  CHECK(object_at(held, "maintenance_window") == boost::json::object{{"id", window_id}, {"name", "Ask"}});
  const auto approval_id = optional_string(held, "approval_id");
  REQUIRE(approval_id);
  const auto approval = m.expect_object(m.call("GET", "/api/approvals/" + *approval_id), 200);
  CHECK(string_field(approval, "reason") == "maintenance window 'Ask' requires approval");
  CHECK(string_field(approval, "status") == "pending");
  m.expect_object(m.call("DELETE", "/api/maintenance/" + window_id), 200);
}

TEST_CASE("seed 000's maintenance routes: the seed's body, activate, deactivate, delete; 404 and 422",
          "[e2e][maintenance]") {
  auto& m = shared();
  const auto& server_id = m.stack.server_id();
  const auto server_name = string_field(m.stack.get_server(server_id), "name");
  const auto weekly = m.expect_object(m.call("POST", "/api/maintenance",
                                             {{"name", "Weekly reboot"},
                                              {"start", "2026-03-22T03:00:00"},
                                              {"end", "2026-03-22T04:00:00"},
                                              {"recurring", "0 3 * * 0"},
                                              {"scope", {server_name, "tag:prod"}},
                                              {"autonomy_override", "disabled"}}),
                                      201);
  INFO(boost::json::serialize(weekly));
  const auto id = string_field(weekly, "id");
  CHECK(string_field(weekly, "start") == "2026-03-22T03:00:00.000000Z");
  CHECK(weekly.at("duration_seconds") == 3600);
  CHECK(weekly.at("timezone") == "UTC");
  CHECK(weekly.at("scope").as_array() == boost::json::array{boost::json::value(server_id), "tag:prod"});
  CHECK(is_rfc3339_utc(weekly.at("next_start")));
  CHECK(m.listed("/api/maintenance").contains(id));
  CHECK(m.listed("/api/maintenance-windows").contains(id));  // the same windows

  const auto on = m.expect_object(m.call("POST", "/api/maintenance/" + id + "/activate"), 200);
  CHECK(on.at("active") == true);
  CHECK(on.at("activated") == true);
  CHECK(m.listed("/api/maintenance-windows/active").contains(id));
  const auto off = m.expect_object(m.call("POST", "/api/maintenance/" + id + "/deactivate"), 200);
  CHECK(off.at("active") == false);
  CHECK_FALSE(m.listed("/api/maintenance-windows/active").contains(id));

  check_names_field(m.call("POST", "/api/maintenance",
                           {{"name", "x"}, {"start", "2026-03-22T03:00:00"}, {"end", "2026-03-22T04:00:00"},
                            {"scope", {"tag:prod", "monitor_abc"}}}),
                    "scope[1]");
  check_names_field(m.call("POST", "/api/maintenance", {{"name", "x"}, {"recurring", "0 3 * * 9"}, {"duration", "1h"}}),
                    "recurring");
  check_names_field(m.call("POST", "/api/maintenance", {{"name", "x"}, {"start", "soon"}, {"end", "later"}}), "start");
  check_names_field(m.call("POST", "/api/maintenance",
                           {{"name", "x"}, {"start", "2026-03-22T03:00:00"}, {"end", "2026-03-22T04:00:00"},
                            {"autonomy_override", "maybe"}}),
                    "autonomy_override");
  check_names_field(m.call("POST", "/api/maintenance", {{"start", "2026-03-22T03:00:00"}}), "name");

  CHECK(m.expect_object(m.call("DELETE", "/api/maintenance/" + id), 200) == boost::json::object{{"status", "deleted"}});
  check_jobs_error(m.call("DELETE", "/api/maintenance/" + id), 404);
  check_jobs_error(m.call("POST", "/api/maintenance/" + ids::new_uuid() + "/activate"), 404);
  check_jobs_error(m.call("POST", "/api/maintenance/not-a-uuid/deactivate"), 404);
}

TEST_CASE("seed 004's maintenance-windows routes: active, replace, delete; 404 and 422", "[e2e][maintenance]") {
  auto& m = shared();
  const auto job_id = m.manual_job("seed004-scope");
  const auto id = string_field(m.expect_object(m.call("POST", "/api/maintenance-windows",
                                                      {{"name", "Now"},
                                                       {"start", utc_in(-10s)},
                                                       {"end", utc_in(600s)},
                                                       {"scope", {{"job_ids", {job_id}}}}}),
                                               201),
                               "id");
  CHECK(m.listed("/api/maintenance-windows/active").contains(id));
  const auto replaced = m.expect_object(m.call("PUT", "/api/maintenance-windows/" + id,
                                               {{"name", "Nightly approval"},
                                                {"recurring", "0 2 * * *"},
                                                {"duration", 7200},
                                                {"timezone", "Europe/Berlin"},
                                                {"scope", {job_id}},
                                                {"autonomy_override", "approval"}}),
                                        200);
  INFO(boost::json::serialize(replaced));
  CHECK(string_field(replaced, "name") == "Nightly approval");
  CHECK(replaced.at("start").is_null());
  CHECK(replaced.at("duration_seconds") == 7200);
  CHECK(string_field(replaced, "timezone") == "Europe/Berlin");
  CHECK(object_at(replaced, "scope_ids").at("job_ids").as_array() == boost::json::array{boost::json::value(job_id)});
  CHECK(string_field(replaced, "autonomy_override") == "approval");
  const boost::json::object daily{{"name", "x"}, {"recurring", "@daily"}, {"duration", "1h"}};
  check_jobs_error(m.call("PUT", "/api/maintenance-windows/" + ids::new_uuid(), daily), 404);
  auto unknown_server = daily;
  unknown_server["scope"] = {{"server_ids", {ids::new_uuid()}}};
  check_names_field(m.call("PUT", "/api/maintenance-windows/" + id, unknown_server), "scope.server_ids[0]");
  auto bad_zone = daily;
  bad_zone["timezone"] = "Mars/Base";
  check_names_field(m.call("PUT", "/api/maintenance-windows/" + id, bad_zone), "timezone");
  check_names_field(m.call("POST", "/api/maintenance-windows", {{"name", "x"}, {"recurring", "@daily"}}), "duration");
  CHECK(m.expect_object(m.call("DELETE", "/api/maintenance-windows/" + id), 200) ==
        boost::json::object{{"status", "ok"}});
  check_jobs_error(m.call("DELETE", "/api/maintenance-windows/" + id), 404);
  CHECK_FALSE(m.listed("/api/maintenance").contains(id));
}

TEST_CASE("viewers read maintenance windows, only admins change them, and every change is audited",
          "[e2e][maintenance]") {
  auto& m = shared();
  const auto job_id = m.manual_job("audited-scope");
  const std::string name = "Audited " + ids::new_uuid().substr(0, 8);
  const auto id = string_field(m.expect_object(m.call("POST", "/api/maintenance",
                                                      {{"name", name},
                                                       {"start", utc_in(-10s)},
                                                       {"end", utc_in(600s)},
                                                       {"scope", {"job:" + job_id}}}),
                                               201),
                               "id");
  const std::string body = R"({"name":"by someone","start":"2030-01-01T00:00:00Z","end":"2030-01-01T01:00:00Z"})";
  CHECK(m.call_as(m.viewer, "GET", "/api/maintenance").status == 200);
  CHECK(m.call_as(m.viewer, "GET", "/api/maintenance-windows/active").status == 200);
  for (const auto& key : {m.viewer, m.operator_key}) {
    check_jobs_error(m.call_as(key, "POST", "/api/maintenance", body), 403);
    check_jobs_error(m.call_as(key, "POST", "/api/maintenance-windows", body), 403);
    check_jobs_error(m.call_as(key, "PUT", "/api/maintenance-windows/" + id, body), 403);
    check_jobs_error(m.call_as(key, "POST", "/api/maintenance/" + id + "/activate"), 403);
    check_jobs_error(m.call_as(key, "POST", "/api/maintenance/" + id + "/deactivate"), 403);
    check_jobs_error(m.call_as(key, "DELETE", "/api/maintenance/" + id), 403);
    check_jobs_error(m.call_as(key, "DELETE", "/api/maintenance-windows/" + id), 403);
  }
  CHECK(m.call_as("", "GET", "/api/maintenance").status == 401);
  CHECK(m.listed("/api/maintenance").contains(id));  // nothing was changed by them

  m.expect_object(m.call("POST", "/api/maintenance/" + id + "/deactivate"), 200);
  m.expect_object(m.call("POST", "/api/maintenance/" + id + "/activate"), 200);
  m.expect_object(m.call("PUT", "/api/maintenance-windows/" + id,
                         {{"name", name}, {"start", utc_in(-10s)}, {"end", utc_in(60s)}, {"scope", {job_id}}}),
                  200);
  m.expect_object(m.call("DELETE", "/api/maintenance/" + id), 200);
  for (const auto* action : {"maintenance.create", "maintenance.deactivate", "maintenance.activate",
                             "maintenance.update", "maintenance.delete"}) {
    INFO(action);
    const auto answer =
        m.expect_object(m.stack.admin("GET", std::string("/api/audit?limit=1000&action=") + action), 200);
    int found = 0;
    for (const auto& entry : objects(array_at(answer, "entries"))) {
      const auto& detail = entry.at("detail");
      if (!detail.is_object() || !detail.as_object().contains("name") || detail.at("name") != name.c_str()) continue;
      ++found;
      INFO(boost::json::serialize(entry));
      CHECK(string_field(entry, "actor").rfind("api_key:", 0) == 0);
      CHECK(string_field(entry, "outcome") == "allowed");
    }
    CHECK(found == 1);
  }
}
