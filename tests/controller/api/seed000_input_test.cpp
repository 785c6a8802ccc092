// Seed 000's automation declarations read into jobs, the run output text, and the import
// documents' error places (pure logic; the e2e tests drive the routes).
#include "controller/api/automation/import_input.hpp"
#include "controller/api/seed000/automation_input.hpp"
#include "controller/api/seed000/automation_views.hpp"
#include "controller/http/responses.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using api::seed000::parse_declaration;

namespace {

constexpr const char* server = "0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f";

boost::json::object declaration(const std::string& type, const std::string& params, const std::string& extra = "") {
  return boost::json::parse(R"({"name":"n","type":")" + type + R"(","params":)" + params +
                            R"(,"targets":{"server_ids":[")" + server + R"("]})" + extra + "}")
      .as_object();
}

// The 422 detail, or "" when the body is accepted.
template <class Parse>
std::string rejection(Parse&& parse) {
  try {
    parse();
    return "";
  } catch (const http::ApiError& e) {
    CHECK(e.status() == http::bhttp::status::unprocessable_entity);
    return e.what();
  }
}

std::string declaration_rejection(const boost::json::object& body) {
  return rejection([&] { parse_declaration(body); });
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("a script automation is an exec of its script (or command), labelled script", "[seed000]") {
  auto parsed = parse_declaration(declaration("script", R"({"script":"echo hi; df -h","timeout_seconds":120})",
                                              R"(,"schedule":"0 3 * * *","icon":"fa-database")"));
  CHECK(parsed.job.run.operation.type == "exec");
  CHECK(parsed.job.run.operation.command == "echo hi; df -h");
  CHECK(parsed.job.run.operation.timeout_seconds == 120);
  REQUIRE(parsed.job.schedule);
  CHECK(parsed.job.schedule->expr == "0 3 * * *");
  CHECK(parsed.label.type == "script");
  CHECK(parsed.label.icon == "fa-database");
  CHECK(boost::json::parse(parsed.label.params_json) ==
        boost::json::parse(R"({"script":"echo hi; df -h","timeout_seconds":120})"));
  CHECK_FALSE(parsed.names_env);

  parsed = parse_declaration(declaration("script", R"({"command":"true","env":{"K":"v"}})", R"(,"schedule":"@every 5m")"));
  CHECK(parsed.job.run.operation.command == "true");
  CHECK(parsed.job.run.operation.env.at("K") == "v");
  CHECK(parsed.names_env);
  CHECK(parsed.label.icon == "fa-terminal");
  CHECK(parsed.label.params_json.find("\"v\"") == std::string::npos);  // env values are not kept in the label
  REQUIRE(parsed.job.schedule);
  CHECK(parsed.job.schedule->mode == schedule::Spec::Mode::interval);
}

TEST_CASE("service_control runs systemctl with a checked unit name and action", "[seed000]") {
  const auto parsed = parse_declaration(declaration("service_control", R"({"service":"nginx","action":"restart"})"));
  CHECK(parsed.job.run.operation.type == "exec");
  CHECK(parsed.job.run.operation.command == "systemctl restart 'nginx'");
  CHECK(parsed.label.type == "service_control");
  CHECK(parsed.label.icon == "fa-cogs");
  CHECK(parse_declaration(declaration("service_control", R"({"service":"getty@tty1.service","action":"enable"})"))
            .job.run.operation.command == "systemctl enable 'getty@tty1.service'");

  for (const std::string service : {"", "-H", ".x", "a b", "nginx;reboot", "$(id)", "a'b", "a\\\\x", "caf\u00e9"}) {
    INFO("service " << service);
    const auto body = declaration("service_control", boost::json::serialize(boost::json::object{
                                                         {"service", service}, {"action", "restart"}}));
    CHECK(starts_with(declaration_rejection(body), "params.service: "));
  }
  CHECK(starts_with(declaration_rejection(declaration("service_control", R"({"service":"nginx","action":"mask"})")),
                    "params.action: "));
  CHECK(starts_with(declaration_rejection(declaration("service_control", R"({"action":"stop"})")), "params.service: "));
}

TEST_CASE("Tether's operation types take that type's fields as params; targets may come in params", "[seed000]") {
  const auto parsed = parse_declaration(boost::json::parse(
      std::string(R"({"name":"r","type":"restart","params":{"container_name":"web","targets":{"server_ids":[")") +
      server + R"("]}}})").as_object());
  CHECK(parsed.job.run.operation.type == "restart");
  CHECK(parsed.job.run.operation.container_name == "web");
  REQUIRE(parsed.job.run.targets.server_ids.size() == 1);
  CHECK(parsed.label.params_json == R"({"container_name":"web"})");
}

TEST_CASE("invalid declarations are refused naming the field as the client sent it", "[seed000]") {
  CHECK(starts_with(declaration_rejection(boost::json::parse(R"({"name":"n","type":"script","params":{"script":"x"}})")
                                              .as_object()),
                    "targets: "));
  CHECK(starts_with(declaration_rejection(declaration("script", "{}")), "params.script: "));
  CHECK(starts_with(declaration_rejection(declaration("script", R"({"script":""})")), "params.script: "));
  CHECK(starts_with(declaration_rejection(declaration("script", R"({"command":""})")), "params.command: "));
  CHECK(starts_with(declaration_rejection(declaration("script", R"({"script":"a","command":"b"})")), "params: "));
  CHECK(starts_with(declaration_rejection(declaration("exec", R"({"command":""})")), "params.command: "));
  CHECK(starts_with(declaration_rejection(declaration("teleport", "{}")), "type: "));
  CHECK(starts_with(declaration_rejection(declaration("script", "[]")), "params: "));
  CHECK(starts_with(declaration_rejection(declaration("script", R"({"script":"x"})", R"(,"schedule":"61 * * * *")")),
                    "schedule: "));
  CHECK(starts_with(declaration_rejection(declaration("script", R"({"script":"x"})", R"(,"schedule":"@every soon")")),
                    "schedule: "));
  CHECK(starts_with(declaration_rejection(declaration("script", R"({"script":"x"})", R"(,"schedule":5)")),
                    "schedule: "));
  CHECK(starts_with(declaration_rejection(declaration("script", R"({"script":"x"})", R"(,"icon":"<b>")")), "icon: "));
  auto unnamed = declaration("script", R"({"script":"x"})");
  unnamed["name"] = "";
  CHECK(starts_with(declaration_rejection(unnamed), "name: "));
}

TEST_CASE("the run output text: as produced on one server, each line prefixed by its server on several",
          "[seed000]") {
  store::RunOutput one;
  one.parts.push_back({"op1", "s1", "web-1", 1, "a\nb"});
  CHECK(api::seed000::output_text(one) == "a\nb");

  store::RunOutput two;
  two.parts.push_back({"op1", "s1", "web-1", 1, "a\nb\n"});
  two.parts.push_back({"op2", "s2", "web-2", 1, "c\n\xff"});
  two.parts.push_back({"op3", "s2", "web-2", 2, "d\n"});
  CHECK(api::seed000::output_text(two) == "[web-1] a\n[web-1] b\n[web-2] c\n[web-2] \xef\xbf\xbd\n[web-2 (attempt 2)] d\n");

  one.truncated = true;
  const auto cut = api::seed000::output_text(one);
  CHECK(starts_with(cut, "a\nb\n[output truncated"));
}

TEST_CASE("run statuses read as seed 000's", "[seed000]") {
  CHECK(api::seed000::run_status("scheduled") == "pending");
  CHECK(api::seed000::run_status("running") == "running");
  CHECK(api::seed000::run_status("completed") == "done");
  CHECK(api::seed000::run_status("failed") == "failed");
  CHECK(api::seed000::run_status("canceled") == "canceled");
}

TEST_CASE("an import refusal names the item's place and field", "[portability]") {
  const auto job = [](const std::string& id, const std::string& extra = "") {
    return std::string(R"({"id":")") + id +
           R"(","name":"j","operation":{"type":"exec","params":{"command":"true"}},"targets":{"server_ids":[")" +
           server + R"("]})" + extra + "}";
  };
  const auto plan_of = [](const std::string& text) {
    return api::automation::parse_import(boost::json::parse(text).as_object());
  };
  const std::string a = "11111111-1111-4111-8111-111111111111";
  const auto plan = plan_of(R"({"version":1,"jobs":[)" + job(a, R"(,"operation":{"type":"exec","params":{"command":"true"},"env_keys":["K"]})") +
                            R"(],"triggers":[{"id":"t","name":"t","job_id":")" + a + R"(","event":"run.failed"}]})");
  REQUIRE(plan.jobs.size() == 1);
  CHECK(plan.jobs[0].old_id == a);
  CHECK(plan.jobs[0].place == "jobs[0]");
  CHECK(plan.jobs[0].env_keys == std::vector<std::string>{"K"});
  REQUIRE(plan.triggers.size() == 1);
  CHECK(plan.triggers[0].spec.job_id == a);
  CHECK(plan.triggers[0].place == "triggers[0]");

  CHECK(starts_with(rejection([&] { plan_of(R"({"jobs":[)" + job(a) + "," + job("b", R"(,"schedule":{"mode":"cron","expr":"x"})") + "]}"); }),
                    "jobs[1].schedule.expr: "));
  CHECK(starts_with(rejection([&] { plan_of(R"({"jobs":[{"name":"j"}]})"); }), "jobs[0].id: "));
  CHECK(starts_with(rejection([&] { plan_of(R"({"jobs":[7]})"); }), "jobs[0]: "));
  CHECK(starts_with(rejection([&] { plan_of(R"({"jobs":[],"triggers":[{"id":"t","name":"t","job_id":"x","event":"run.failed"}]})"); }),
                    "triggers[0].job_id: "));
  CHECK(starts_with(rejection([&] { plan_of(R"({"version":3,"jobs":[]})"); }), "version: "));
  CHECK(starts_with(rejection([&] { plan_of(R"({})"); }), "jobs: "));
}

TEST_CASE("a seed 000 import array: exported items and declarations, each with a webhook token", "[seed000]") {
  const std::string exported_job =
      std::string(R"({"id":"11111111-1111-4111-8111-111111111111","name":"j","operation":{"type":"exec",)"
                  R"("params":{"command":"true"}},"targets":{"server_ids":[")") +
      server + R"("]}})";
  const auto plan = api::seed000::parse_import(
      R"([{"id":"11111111-1111-4111-8111-111111111111","type":"script","icon":"fa-database","job":)" + exported_job +
      R"(,"triggers":[{"id":"t1","name":"tok","job_id":"22222222-2222-4222-8222-222222222222","event":"webhook","provider":"token"}]},)" +
      R"({"name":"d","type":"service_control","params":{"service":"cron","action":"restart","targets":{"tags":["x"]}}}])");
  REQUIRE(plan.jobs.size() == 2);
  REQUIRE(plan.triggers.size() == 2);  // the first item's own token trigger; a new one for the second
  CHECK(plan.jobs[0].label->type == "script");
  CHECK(plan.jobs[0].label->icon == "fa-database");
  CHECK(plan.triggers[0].spec.job_id == plan.jobs[0].old_id);  // listed under its automation
  CHECK(plan.jobs[1].label->type == "service_control");
  CHECK(plan.triggers[1].spec.job_id == plan.jobs[1].old_id);
  CHECK(plan.triggers[1].spec.provider == std::optional<std::string>("token"));
  CHECK(plan.jobs[0].old_id != plan.jobs[1].old_id);

  CHECK(starts_with(rejection([] { api::seed000::parse_import(R"({"a":1})"); }), "request body must be a JSON array"));
  CHECK(starts_with(rejection([] { api::seed000::parse_import(R"([{"name":"d","type":"script","params":{}}])"); }),
                    "[0].params.script: "));
  CHECK(starts_with(rejection([] { api::seed000::parse_import("[{\"name\":\"a\\u0000\"}]"); }), "[0].name: "));
}
