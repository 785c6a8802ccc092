// Issue 10: seed 000's Automations API (/api/automations) driven the way its clients drive it:
// through the real `curl` binary against a real controller and agents. Create, list, run, poll a
// run until it is done with its output, follow its SSE stream, templates, export, import, the
// token webhook (no key), update and delete; and what invalid declarations get.
#include "tests/e2e/jobs_checks.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <thread>

using namespace tether;
using namespace tether::e2e;

namespace {

using namespace std::chrono_literals;

// A `systemctl` first in the PATH the agents inherit: it records its arguments, one per line, so
// that a service_control automation runs without touching this machine's services.
struct StandIns {
  testing::TempDir dir{"tether-seed000-bin"};
  std::filesystem::path argv_file = dir / "systemctl.argv";
  StandIns() {
    testing::write_executable(dir / "systemctl", fmt::format(R"(#!/bin/sh
for argument in "$@"; do printf '%s\n' "$argument" >> {argv}; done
echo "systemctl stand-in: $1 $2"
)",
                                                            fmt::arg("argv", testing::shell_quote(argv_file.string()))));
    const char* path = std::getenv("PATH");
    setenv("PATH", (dir.path().string() + ":" + (path ? path : "/usr/bin:/bin")).c_str(), 1);
  }
  std::vector<std::string> arguments() const {
    std::vector<std::string> out;
    std::istringstream lines(testing::read_file(argv_file));
    for (std::string line; std::getline(lines, line);) out.push_back(line);
    return out;
  }
};

StandIns& stand_ins() {
  static StandIns shared;
  return shared;
}

// Two agents (two servers), so that a run over both shows each server's lines; the stand-ins are
// in PATH before they start.
testing::TetherStack& seed_stack() {
  stand_ins();
  testing::StackOptions options;
  options.master_key = true;  // webhook secrets and env values are sealed with it
  options.agents = 2;
  return shared_stack(options);
}

struct CurlAnswer {
  unsigned status = 0;
  std::string body;
  std::string describe() const { return fmt::format("HTTP {} {}", status, body); }
  boost::json::value json() const {
    boost::system::error_code ec;
    auto value = boost::json::parse(body, ec);
    if (ec) throw std::runtime_error("not JSON: " + describe());
    return value;
  }
  boost::json::object object() const {
    auto value = json();
    if (!value.is_object()) throw std::runtime_error("not a JSON object: " + describe());
    return value.as_object();
  }
};

// The real curl, as a seed 000 client (a shell script, a dashboard's backend) calls the API.
class Curl {
 public:
  Curl(std::string base_url, std::optional<std::string> key) : base_url_(std::move(base_url)), key_(std::move(key)) {}

  CurlAnswer call(const std::string& method, const std::string& path, const std::optional<std::string>& body = {}) const {
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "30", "-X", method, "-w", "\n%{http_code}"};
    if (key_) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + *key_});
    if (body) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", *body});
    argv.push_back(base_url_ + path);
    const auto result = testing::run_command(argv, 40s);
    INFO("curl " << method << " " << path << ": " << result.status.describe() << " " << result.err);
    REQUIRE(result.succeeded());
    const auto cut = result.out.rfind('\n');
    REQUIRE(cut != std::string::npos);
    return CurlAnswer{static_cast<unsigned>(std::stoul(result.out.substr(cut + 1))), result.out.substr(0, cut)};
  }
  CurlAnswer call(const std::string& method, const std::string& path, const boost::json::value& body) const {
    return call(method, path, std::optional<std::string>(boost::json::serialize(body)));
  }

  // `curl -N` on an SSE route until the server ends the stream (or 30 s pass).
  std::string stream(const std::string& path_and_query) const {
    const auto result =
        testing::run_command({"curl", "-sS", "-N", "--max-time", "30", base_url_ + path_and_query}, 40s);
    INFO("curl -N " << path_and_query << ": " << result.status.describe() << " " << result.err);
    CHECK(result.succeeded());
    return result.out;
  }

 private:
  std::string base_url_;
  std::optional<std::string> key_;
};

Curl operator_curl() { return Curl(seed_stack().base_url(), seed_stack().admin_key()); }

// The answer's status is `status`; returns its JSON object.
boost::json::object expect(const CurlAnswer& answer, unsigned status) {
  INFO(answer.describe());
  REQUIRE(answer.status == status);
  return answer.object();
}

// {"error","detail"} with `status`; the detail names `field` when given.
void expect_error(const CurlAnswer& answer, unsigned status, const std::string& field = {}) {
  INFO(answer.describe());
  CHECK(answer.status == status);
  const auto body = answer.object();
  REQUIRE(body.contains("error"));
  REQUIRE(body.contains("detail"));
  CHECK(body.at("error") == body.at("detail"));
  if (!field.empty()) CHECK(std::string(body.at("detail").as_string()).find(field) != std::string::npos);
}

boost::json::object targets_of(const std::vector<std::string>& server_ids) {
  boost::json::array ids;
  for (const auto& id : server_ids) ids.emplace_back(id);
  return {{"server_ids", std::move(ids)}};
}

boost::json::object targets_here() { return targets_of({seed_stack().server_id()}); }

boost::json::array list_automations(const Curl& curl) {
  const auto answer = curl.call("GET", "/api/automations");
  INFO(answer.describe());
  REQUIRE(answer.status == 200);
  const auto value = answer.json();
  REQUIRE(value.is_array());
  return value.as_array();
}

std::optional<boost::json::object> find_automation(const boost::json::array& list, const std::string& id) {
  for (const auto& item : list) {
    if (item.is_object() && item.as_object().contains("id") && item.as_object().at("id") == id.c_str()) {
      return item.as_object();
    }
  }
  return std::nullopt;
}

// Polls GET /api/automations/runs/{id} until the run is over (done, failed or canceled).
boost::json::object wait_for_run(const Curl& curl, const std::string& run_id) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  boost::json::object run;
  while (std::chrono::steady_clock::now() < deadline) {
    run = expect(curl.call("GET", "/api/automations/runs/" + run_id), 200);
    const auto status = string_field(run, "status");
    if (status == "done" || status == "failed" || status == "canceled") return run;
    std::this_thread::sleep_for(200ms);
  }
  FAIL("run " << run_id << " did not end: " << boost::json::serialize(run));
  return run;
}

std::string unique_name(const std::string& base) {
  static int count = 0;
  return fmt::format("{}-{}", base, ++count);
}

// Deletes every automation (the import case starts from nothing).
void delete_all(const Curl& curl) {
  for (const auto& item : list_automations(curl)) {
    const auto id = string_field(item.as_object(), "id");
    expect(curl.call("DELETE", "/api/automations/" + id), 200);
  }
  REQUIRE(list_automations(curl).empty());
}

}  // namespace

TEST_CASE("a seed 000 client creates, lists, runs, polls and streams an automation with curl", "[e2e][seed000]") {
  auto& stack = seed_stack();
  const auto curl = operator_curl();
  const auto name = unique_name("NAS Backup");

  const auto created = expect(curl.call("POST", "/api/automations",
                                        boost::json::object{{"name", name},
                                                            {"type", "script"},
                                                            {"icon", "fa-database"},
                                                            {"schedule", "0 3 * * *"},
                                                            {"params", {{"script", "echo 'Backup completed successfully.'; echo 'one warning' >&2"}}},
                                                            {"targets", targets_here()}}),
                              201);
  const auto id = string_field(created, "id");
  CHECK(ids::is_uuid(id));
  CHECK(string_field(created, "status") == "created");
  const auto token = string_field(created, "webhook_token");
  CHECK_FALSE(token.empty());
  CHECK(string_field(created, "webhook_url") == "/api/automations/webhook/" + token);

  // Listed as the seed shows it, never run yet.
  auto listed = find_automation(list_automations(curl), id);
  REQUIRE(listed);
  INFO(boost::json::serialize(*listed));
  CHECK(string_field(*listed, "name") == name);
  CHECK(string_field(*listed, "type") == "script");
  CHECK(string_field(*listed, "icon") == "fa-database");
  CHECK(string_field(*listed, "schedule") == "0 3 * * *");
  CHECK(listed->at("last_run").is_null());
  CHECK(listed->at("last_status").is_null());
  // The token is shown once: never in the list.
  CHECK(boost::json::serialize(list_automations(curl)).find(token) == std::string::npos);

  // The job behind it: an exec of the script, on a cron schedule.
  AutomationApi api(stack);
  const auto job = api.get_job(id);
  CHECK(string_field(object_at(job, "operation"), "type") == "exec");
  CHECK(string_field(object_at(object_at(job, "operation"), "params"), "command") ==
        "echo 'Backup completed successfully.'; echo 'one warning' >&2");
  CHECK(string_field(object_at(job, "schedule"), "expr") == "0 3 * * *");

  // Run now, then poll until done: the output holds stdout and stderr.
  const auto before = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const auto started = expect(curl.call("POST", "/api/automations/" + id + "/run"), 200);
  const auto run_id = string_field(started, "run_id");
  CHECK(string_field(started, "status") == "running");
  const auto run = wait_for_run(curl, run_id);
  INFO(boost::json::serialize(run));
  CHECK(string_field(run, "run_id") == run_id);
  CHECK(string_field(run, "automation_id") == id);
  CHECK(string_field(run, "status") == "done");
  CHECK(int_field(run, "started") >= before - 1);
  CHECK(int_field(run, "finished") >= int_field(run, "started"));
  const auto output = string_field(run, "output");
  CHECK(output.find("Backup completed successfully.\n") != std::string::npos);
  CHECK(output.find("one warning\n") != std::string::npos);
  CHECK(output.find("[") == std::string::npos);  // one server: no prefixes

  listed = find_automation(list_automations(curl), id);
  REQUIRE(listed);
  CHECK(string_field(*listed, "last_status") == "done");
  CHECK(int_field(*listed, "last_run") >= before - 1);

  // The stream of a run that is still going, with the key as ?token= (EventSource's way).
  const auto slow = expect(curl.call("POST", "/api/automations",
                                     boost::json::object{{"name", unique_name("slow")},
                                                         {"type", "script"},
                                                         {"params", {{"command", "echo first; sleep 1; echo second"}}},
                                                         {"targets", targets_here()}}),
                           201);
  const auto slow_run = string_field(expect(curl.call("POST", "/api/automations/" + string_field(slow, "id") + "/run"), 200),
                                     "run_id");
  const auto events = curl.stream("/api/automations/runs/" + slow_run + "/stream?token=" + stack.admin_key());
  INFO(events);
  CHECK(events.find("event: output") != std::string::npos);
  CHECK(events.find("first\\n") != std::string::npos);
  CHECK(events.find("second\\n") != std::string::npos);
  const auto end = events.find("event: end");
  REQUIRE(end != std::string::npos);
  CHECK(events.find("\"status\":\"done\"", end) != std::string::npos);
  CHECK(events.find("\"run_id\":\"" + slow_run + "\"", end) != std::string::npos);
  // Without a key, or with a bad one, no stream.
  CHECK(Curl(stack.base_url(), std::nullopt).call("GET", "/api/automations/runs/" + slow_run + "/stream").status == 401);
  CHECK(Curl(stack.base_url(), std::nullopt)
            .call("GET", "/api/automations/runs/" + slow_run + "/stream?token=tak_" + std::string(64, '0'))
            .status == 401);
  // A finished run polled again keeps its output.
  CHECK(string_field(wait_for_run(curl, slow_run), "output") == "first\nsecond\n");
}

TEST_CASE("service_control runs systemctl with the action and the unit name as two arguments", "[e2e][seed000]") {
  auto& stack = seed_stack();
  const auto curl = operator_curl();
  std::filesystem::remove(stand_ins().argv_file);
  const auto created = expect(curl.call("POST", "/api/automations",
                                        boost::json::object{{"name", "Restart nginx"},
                                                            {"type", "service_control"},
                                                            {"params", {{"service", "nginx"}, {"action", "restart"},
                                                                        {"targets", targets_here()}}}}),
                              201);
  const auto id = string_field(created, "id");
  const auto listed = find_automation(list_automations(curl), id);
  REQUIRE(listed);
  CHECK(string_field(*listed, "type") == "service_control");
  CHECK(string_field(*listed, "icon") == "fa-cogs");
  CHECK(listed->at("schedule").is_null());

  const auto run_id = string_field(expect(curl.call("POST", "/api/automations/" + id + "/run"), 200), "run_id");
  const auto run = wait_for_run(curl, run_id);
  INFO(boost::json::serialize(run));
  CHECK(string_field(run, "status") == "done");
  CHECK(string_field(run, "output") == "systemctl stand-in: restart nginx\n");
  CHECK(stand_ins().arguments() == std::vector<std::string>{"restart", "nginx"});

  // PUT replaces the declaration: another action and unit.
  expect(curl.call("PUT", "/api/automations/" + id,
                   boost::json::object{{"name", "Reload getty"},
                                       {"type", "service_control"},
                                       {"params", {{"service", "getty@tty1.service"}, {"action", "reload"}}},
                                       {"targets", targets_here()}}),
         200);
  std::filesystem::remove(stand_ins().argv_file);
  const auto again = wait_for_run(
      curl, string_field(expect(curl.call("POST", "/api/automations/" + id + "/run"), 200), "run_id"));
  CHECK(string_field(again, "status") == "done");
  CHECK(stand_ins().arguments() == std::vector<std::string>{"reload", "getty@tty1.service"});
  const auto renamed = find_automation(list_automations(curl), id);
  REQUIRE(renamed);
  CHECK(string_field(*renamed, "name") == "Reload getty");
  (void)stack;
}

TEST_CASE("a run over two servers shows each server's lines prefixed with its name, and output is bounded",
          "[e2e][seed000]") {
  auto& stack = seed_stack();
  const auto curl = operator_curl();
  const std::vector<std::string> both{stack.agent(0).server_id, stack.agent(1).server_id};
  const auto created = expect(curl.call("POST", "/api/automations",
                                        boost::json::object{{"name", unique_name("fleet")},
                                                            {"type", "exec"},
                                                            {"params", {{"command", "echo alpha; echo beta >&2"}}},
                                                            {"targets", targets_of(both)}}),
                              201);
  const auto run_id = string_field(
      expect(curl.call("POST", "/api/automations/" + string_field(created, "id") + "/run"), 200), "run_id");
  const auto run = wait_for_run(curl, run_id);
  INFO(boost::json::serialize(run));
  CHECK(string_field(run, "status") == "done");
  const auto output = string_field(run, "output");
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& server = stack.agent(i).server_name;
    CHECK(output.find("[" + server + "] alpha\n") != std::string::npos);
    CHECK(output.find("[" + server + "] beta\n") != std::string::npos);
  }

  // 1.5 MB of output: the status shows the first MiB and says it was cut.
  const auto big = expect(curl.call("POST", "/api/automations",
                                    boost::json::object{{"name", unique_name("big")},
                                                        {"type", "script"},
                                                        {"params", {{"script", "head -c 1500000 /dev/zero | tr '\\000' a"}}},
                                                        {"targets", targets_here()}}),
                          201);
  const auto big_run = wait_for_run(
      curl, string_field(expect(curl.call("POST", "/api/automations/" + string_field(big, "id") + "/run"), 200), "run_id"));
  CHECK(string_field(big_run, "status") == "done");
  const auto text = string_field(big_run, "output");
  CHECK(big_run.at("output_truncated") == true);
  CHECK(text.size() < 1024 * 1024 + 200);
  CHECK(text.rfind(std::string(1024 * 1024, 'a'), 0) == 0);
  CHECK(text.find("[output truncated") != std::string::npos);
}

TEST_CASE("invalid automations get 422 naming the field; viewers read but do not write; no key gets 401",
          "[e2e][seed000][422]") {
  auto& stack = seed_stack();
  const auto curl = operator_curl();
  const auto here = targets_here();
  const auto post = [&](const boost::json::object& body) { return curl.call("POST", "/api/automations", body); };

  expect_error(post({{"name", "x"}, {"type", "script"}, {"params", {{"script", "true"}}}}), 422, "targets");
  expect_error(post({{"name", "x"}, {"type", "script"}, {"params", boost::json::object{}}, {"targets", here}}), 422,
               "params.script");
  expect_error(post({{"name", "x"}, {"type", "script"}, {"params", {{"script", ""}}}, {"targets", here}}), 422,
               "params.script");
  expect_error(post({{"name", "x"}, {"type", "teleport"}, {"params", boost::json::object{}}, {"targets", here}}), 422,
               "type");
  expect_error(post({{"type", "script"}, {"params", {{"script", "true"}}}, {"targets", here}}), 422, "name");
  expect_error(post({{"name", "x"}, {"type", "script"}, {"schedule", "61 * * * *"}, {"params", {{"script", "true"}}},
                     {"targets", here}}),
               422, "schedule");
  for (const std::string service : {"nginx; reboot", "-nginx", "$(id)", "a b", "", "ngin'x"}) {
    INFO("service " << service);
    expect_error(post({{"name", "x"},
                       {"type", "service_control"},
                       {"params", {{"service", service}, {"action", "restart"}}},
                       {"targets", here}}),
                 422, "params.service");
  }
  expect_error(post({{"name", "x"},
                     {"type", "service_control"},
                     {"params", {{"service", "nginx"}, {"action", "mask"}}},
                     {"targets", here}}),
               422, "params.action");
  expect_error(post({{"name", "x"}, {"type", "restart"}, {"params", {{"container_name", "a;b"}}}, {"targets", here}}),
               422, "params.container_name");
  expect_error(curl.call("POST", "/api/automations", std::optional<std::string>("[1,2]")), 422);

  // Unknown ids: 404.
  const auto unknown = ids::new_uuid();
  expect_error(curl.call("DELETE", "/api/automations/" + unknown), 404);
  expect_error(curl.call("POST", "/api/automations/" + unknown + "/run"), 404);
  expect_error(curl.call("PUT", "/api/automations/" + unknown,
                         boost::json::object{{"name", "x"}, {"type", "script"}, {"params", {{"script", "true"}}},
                                             {"targets", here}}),
               404);
  expect_error(curl.call("GET", "/api/automations/runs/" + unknown), 404);
  expect_error(curl.call("GET", "/api/automations/runs/not-a-run"), 404);

  // A viewer lists and reads runs; writes and the export are refused.
  const Curl viewer(stack.base_url(), testing::create_operator_key(stack.database(), "seed-viewer", "viewer"));
  CHECK(viewer.call("GET", "/api/automations").status == 200);
  const boost::json::object body{{"name", "x"}, {"type", "script"}, {"params", {{"script", "true"}}}, {"targets", here}};
  expect_error(viewer.call("POST", "/api/automations", body), 403);
  expect_error(viewer.call("GET", "/api/automations/export"), 403);
  expect_error(viewer.call("POST", "/api/automations/import", std::optional<std::string>("[]")), 403);
  // No key: 401, whatever the body.
  const Curl anonymous(stack.base_url(), std::nullopt);
  expect_error(anonymous.call("GET", "/api/automations"), 401);
  expect_error(anonymous.call("POST", "/api/automations", std::optional<std::string>("not json")), 401);
  expect_error(anonymous.call("GET", "/api/automations/export"), 401);
  // The key as ?token= is taken on the run stream only.
  expect_error(anonymous.call("GET", "/api/automations?token=" + stack.admin_key()), 401);
}

TEST_CASE("PUT keeps an automation's env values unless params.env is given, and never shows them", "[e2e][seed000]") {
  const auto curl = operator_curl();
  const auto body = [](const std::optional<std::string>& value) {
    boost::json::object params{{"command", "echo \"value=$GREETING\""}};
    if (value) params["env"] = boost::json::object{{"GREETING", *value}};
    return boost::json::object{{"name", "greeter"}, {"type", "exec"}, {"params", params}, {"targets", targets_here()}};
  };
  const auto run_output = [&](const std::string& id) {
    const auto run_id = string_field(expect(curl.call("POST", "/api/automations/" + id + "/run"), 200), "run_id");
    return string_field(wait_for_run(curl, run_id), "output");
  };
  const auto id = string_field(expect(curl.call("POST", "/api/automations", body("first-secret")), 201), "id");
  CHECK(run_output(id) == "value=first-secret\n");
  expect(curl.call("PUT", "/api/automations/" + id, body(std::nullopt)), 200);
  CHECK(run_output(id) == "value=first-secret\n");
  expect(curl.call("PUT", "/api/automations/" + id, body("second-secret")), 200);
  CHECK(run_output(id) == "value=second-secret\n");
  const auto listed = curl.call("GET", "/api/automations");
  const auto exported = curl.call("GET", "/api/automations/export");
  for (const auto* answer : {&listed, &exported}) {
    INFO(answer->describe());
    CHECK(answer->body.find("second-secret") == std::string::npos);
  }
  CHECK(exported.body.find("GREETING") != std::string::npos);  // the key's name is shown
}

TEST_CASE("the token webhook fires its automation without a key; an unknown token gets 404", "[e2e][seed000]") {
  const auto curl = operator_curl();
  const auto created = expect(curl.call("POST", "/api/automations",
                                        boost::json::object{{"name", unique_name("hooked")},
                                                            {"type", "script"},
                                                            {"params", {{"script", "echo fired by webhook"}}},
                                                            {"targets", targets_here()}}),
                              201);
  const auto id = string_field(created, "id");
  const auto token = string_field(created, "webhook_token");
  const Curl anonymous(seed_stack().base_url(), std::nullopt);
  const auto fired = expect(anonymous.call("POST", "/api/automations/webhook/" + token), 200);
  CHECK(string_field(fired, "status") == "running");
  const auto run = wait_for_run(curl, string_field(fired, "run_id"));
  CHECK(string_field(run, "automation_id") == id);
  CHECK(string_field(run, "status") == "done");
  CHECK(string_field(run, "output") == "fired by webhook\n");

  expect_error(anonymous.call("POST", "/api/automations/webhook/" + std::string(64, 'f')), 404);
  expect_error(anonymous.call("POST", "/api/automations/webhook/" + id), 404);
  // Deleting the automation ends its token.
  expect(curl.call("DELETE", "/api/automations/" + id), 200);
  expect_error(anonymous.call("POST", "/api/automations/webhook/" + token), 404);
}

TEST_CASE("templates are listed and applied; export, delete and import give back the same automations with new "
          "ids and tokens",
          "[e2e][seed000]") {
  const auto curl = operator_curl();
  delete_all(curl);

  // The built-in library.
  const auto templates_answer = curl.call("GET", "/api/automations/templates");
  INFO(templates_answer.describe());
  REQUIRE(templates_answer.status == 200);
  const auto templates = templates_answer.json();
  REQUIRE(templates.is_array());
  CHECK(templates.as_array().size() >= 11);
  std::map<std::string, boost::json::object> by_id;
  for (const auto& item : templates.as_array()) {
    REQUIRE(item.is_object());
    by_id[string_field(item.as_object(), "id")] = item.as_object();
    CHECK_FALSE(string_field(item.as_object(), "icon").empty());
  }
  REQUIRE(by_id.count("disk-usage-report"));
  const auto applied = expect(curl.call("POST", "/api/automations/templates/disk-usage-report/apply",
                                        boost::json::object{{"targets", targets_here()}, {"name", "Disk report"}}),
                              201);
  CHECK(string_field(applied, "status") == "created");
  const auto applied_id = string_field(applied, "id");
  expect_error(curl.call("POST", "/api/automations/templates/no-such-template/apply",
                         boost::json::object{{"targets", targets_here()}}),
               404);

  // Two more: a script on a schedule, a service_control by hand.
  const auto script = expect(curl.call("POST", "/api/automations",
                                       boost::json::object{{"name", "Nightly backup"},
                                                           {"type", "script"},
                                                           {"icon", "fa-database"},
                                                           {"schedule", "@every 6h"},
                                                           {"params", {{"script", "echo backed up"}}},
                                                           {"targets", targets_here()}}),
                             201);
  const auto service = expect(curl.call("POST", "/api/automations",
                                        boost::json::object{{"name", "Restart cron"},
                                                            {"type", "service_control"},
                                                            {"enabled", false},
                                                            {"params", {{"service", "cron"}, {"action", "restart"}}},
                                                            {"targets", targets_here()}}),
                              201);
  const auto before = list_automations(curl);
  REQUIRE(before.size() == 3);
  const auto applied_listed = find_automation(before, applied_id);
  REQUIRE(applied_listed);
  CHECK(string_field(*applied_listed, "icon") == string_field(by_id["disk-usage-report"], "icon"));

  // Export: every automation with its job and triggers, and no token.
  const auto exported_answer = curl.call("GET", "/api/automations/export");
  INFO(exported_answer.describe());
  REQUIRE(exported_answer.status == 200);
  for (const auto& created : {applied, script, service}) {
    if (created.contains("webhook_token")) {
      CHECK(exported_answer.body.find(string_field(created, "webhook_token")) == std::string::npos);
    }
  }
  const auto exported = exported_answer.json();
  REQUIRE(exported.is_array());
  REQUIRE(exported.as_array().size() == 3);
  for (const auto& item : exported.as_array()) {
    const auto& automation = item.as_object();
    INFO(boost::json::serialize(automation));
    CHECK(object_at(automation, "job").at("id") == automation.at("id"));
    const auto& triggers = array_at(automation, "triggers");
    REQUIRE(triggers.size() == 1);
    CHECK(string_field(triggers[0].as_object(), "provider") == "token");
  }

  // Delete everything, import the export: the same automations under new ids and new tokens.
  delete_all(curl);
  const auto old_token = string_field(script, "webhook_token");
  const auto imported = expect(curl.call("POST", "/api/automations/import", exported), 200);
  INFO(boost::json::serialize(imported));
  CHECK(int_field(imported, "imported") == 3);
  const auto after = list_automations(curl);
  REQUIRE(after.size() == 3);
  const auto strip = [](boost::json::array list) {
    std::vector<std::string> out;
    for (auto& item : list) {
      auto& automation = item.as_object();
      automation.erase("id");
      out.push_back(boost::json::serialize(automation));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(strip(before) == strip(after));
  for (const auto& item : after) {
    CHECK(find_automation(before, string_field(item.as_object(), "id")) == std::nullopt);
  }
  const Curl anonymous(seed_stack().base_url(), std::nullopt);
  expect_error(anonymous.call("POST", "/api/automations/webhook/" + old_token), 404);
  const auto& automations = array_at(imported, "automations");
  REQUIRE(automations.size() == 3);
  for (const auto& item : automations) {
    const auto new_token = string_field(item.as_object(), "webhook_token");
    CHECK(new_token != old_token);
    CHECK(string_field(item.as_object(), "webhook_url") == "/api/automations/webhook/" + new_token);
  }
  // The imported script's new token fires it.
  std::string script_token;
  for (const auto& item : automations) {
    const auto new_id = string_field(item.as_object(), "id");
    const auto listed = find_automation(after, new_id);
    REQUIRE(listed);
    if (string_field(*listed, "name") == "Nightly backup") script_token = string_field(item.as_object(), "webhook_token");
  }
  REQUIRE_FALSE(script_token.empty());
  const auto fired = expect(anonymous.call("POST", "/api/automations/webhook/" + script_token), 200);
  CHECK(string_field(wait_for_run(curl, string_field(fired, "run_id")), "output") == "backed up\n");

  // An invalid item: nothing is imported, and the detail names the item and the field.
  auto broken = exported.as_array();
  broken[1].as_object()["job"].as_object()["schedule"] = boost::json::object{{"mode", "cron"}, {"expr", "99 * * * *"}};
  expect_error(curl.call("POST", "/api/automations/import", boost::json::value(broken)), 422, "[1].job.schedule.expr");
  expect_error(curl.call("POST", "/api/automations/import",
                         boost::json::value(boost::json::array{
                             boost::json::object{{"name", "ok"}, {"type", "script"}, {"params", {{"script", "true"}}},
                                                 {"targets", targets_here()}},
                             boost::json::object{{"name", "bad"}, {"type", "script"}, {"params", {{"script", "true"}}}}})),
               422, "[1].targets");
  CHECK(list_automations(curl).size() == 3);
}
