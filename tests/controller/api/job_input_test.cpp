#include "controller/api/automation/job_input.hpp"
#include "controller/http/responses.hpp"
#include "controller/streams/run_event_stream.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using api::automation::merge_patch;
using api::automation::parse_job;
using api::automation::patch_names_env;

namespace {

constexpr const char* server = "0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f";

boost::json::object job_with(const std::string& extra) {
  auto text = std::string(R"({"name":"nightly","operation":{"type":"exec","params":{"command":"df -h"}},)"
                          R"("targets":{"server_ids":[")") +
              server + R"("]})" + extra + "}";
  return boost::json::parse(text).as_object();
}

// The 422 detail, or "" when the body is accepted.
std::string rejection(const boost::json::object& body) {
  try {
    parse_job(body);
    return "";
  } catch (const http::ApiError& e) {
    CHECK(e.status() == http::bhttp::status::unprocessable_entity);
    return e.what();
  }
}

}  // namespace

TEST_CASE("a minimal job gets the defaults", "[jobs]") {
  const auto spec = parse_job(job_with(R"(,"agent_name":"ignored","prompt":"ignored")"));
  CHECK(spec.name == "nightly");
  CHECK(spec.enabled);
  CHECK_FALSE(spec.schedule);
  CHECK(spec.timezone == "UTC");
  CHECK(spec.run.operation.type == "exec");
  CHECK(spec.run.operation.command == "df -h");
  CHECK(spec.run.targets.server_ids == std::vector<std::string>{server});
  CHECK(spec.run.rate.max_concurrency == "50");
  CHECK_FALSE(spec.run.rate.max_errors);
  CHECK(spec.run.retry.strategy == "none");
  CHECK(spec.overlap_policy == "skip");
  CHECK(spec.catch_up_policy == "skip");
  CHECK(spec.misfire_grace_seconds == 60);
}

TEST_CASE("a job's policies are read and normalized", "[jobs]") {
  const auto spec = parse_job(job_with(
      R"(,"schedule":{"mode":"cron","expr":"0 3 * * *"},"timezone":"Europe/Berlin",)"
      R"("rate":{"max_concurrency":"10%","max_errors":3},"retry":{"strategy":"exponential","max_retries":2,"base_delay":"90s"},)"
      R"("fire_limit":{"max":10,"window":"60m"},"overlap_policy":"queue","misfire_grace_seconds":0,"catch_up_policy":"run_all")"));
  REQUIRE(spec.schedule);
  CHECK(spec.schedule->expr == "0 3 * * *");
  CHECK(spec.timezone == "Europe/Berlin");
  CHECK(spec.run.rate.max_concurrency == "10%");
  CHECK(spec.run.rate.max_errors == std::optional<std::string>("3"));
  CHECK(spec.run.retry.strategy == "exponential");
  CHECK(spec.run.retry.max_retries == 2);
  CHECK(spec.fire_limit_max == std::optional<int>(10));
  CHECK(spec.fire_limit_window == std::optional<std::string>("1h"));
  CHECK(spec.overlap_policy == "queue");
  CHECK(spec.misfire_grace_seconds == 0);
  CHECK(spec.catch_up_policy == "run_all");
}

TEST_CASE("invalid job fields are refused by name", "[jobs]") {
  using Catch::StartsWith;
  CHECK_THAT(rejection(job_with(R"(,"schedule":{"mode":"cron","expr":"61 * * * *"})")), StartsWith("schedule.expr: "));
  CHECK_THAT(rejection(job_with(R"(,"schedule":{"mode":"weekly"})")), StartsWith("schedule.mode: "));
  CHECK_THAT(rejection(job_with(R"(,"timezone":"Mars/Olympus")")), StartsWith("timezone:"));
  CHECK_THAT(rejection(job_with(R"(,"rate":{"max_concurrency":0})")), StartsWith("rate.max_concurrency: "));
  CHECK_THAT(rejection(job_with(R"(,"rate":{"max_concurrency":"101%"})")), StartsWith("rate.max_concurrency: "));
  CHECK_THAT(rejection(job_with(R"(,"rate":{"max_errors":-1})")), StartsWith("rate.max_errors: "));
  CHECK_THAT(rejection(job_with(R"(,"retry":{"strategy":"sometimes"})")), StartsWith("retry.strategy: "));
  CHECK_THAT(rejection(job_with(R"(,"retry":{"max_retries":101})")), StartsWith("retry.max_retries: "));
  CHECK_THAT(rejection(job_with(R"(,"retry":{"base_delay":"soon"})")), StartsWith("retry.base_delay: "));
  CHECK_THAT(rejection(job_with(R"(,"fire_limit":{"max":0,"window":"1h"})")), StartsWith("fire_limit.max: "));
  CHECK_THAT(rejection(job_with(R"(,"overlap_policy":"sometimes")")), StartsWith("overlap_policy: "));
  CHECK_THAT(rejection(job_with(R"(,"misfire_grace_seconds":86401)")), StartsWith("misfire_grace_seconds: "));
  CHECK_THAT(rejection(job_with(R"(,"catch_up_policy":"all")")), StartsWith("catch_up_policy: "));

  auto body = job_with("");
  body["name"] = "";
  CHECK_THAT(rejection(body), StartsWith("name: "));
  body = job_with("");
  body["operation"].as_object()["type"] = "dance";
  CHECK_THAT(rejection(body), StartsWith("operation.type: "));
  body = job_with("");
  body["operation"].as_object()["params"] = boost::json::object{};
  CHECK_THAT(rejection(body), StartsWith("operation.params.command: "));
  body = job_with("");
  body["targets"] = boost::json::object{{"server_ids", boost::json::array{"web-1"}}};
  CHECK_THAT(rejection(body), StartsWith("targets.server_ids: "));
  body = job_with("");
  body["targets"] = boost::json::object{};
  CHECK_THAT(rejection(body), StartsWith("targets: "));
}

TEST_CASE("merge patch follows RFC 7396", "[jobs]") {
  const auto target = boost::json::parse(R"({"a":"b","c":{"d":"e","f":"g"}})");
  const auto patch = boost::json::parse(R"({"a":"z","c":{"f":null}})");
  CHECK(merge_patch(target, patch) == boost::json::parse(R"({"a":"z","c":{"d":"e"}})"));
  CHECK(merge_patch(target, boost::json::parse("[1]")) == boost::json::parse("[1]"));
  CHECK(patch_names_env(boost::json::parse(R"({"operation":{"params":{"env":null}}})").as_object()));
  CHECK_FALSE(patch_names_env(boost::json::parse(R"({"operation":{"params":{"command":"ls"}}})").as_object()));
}

TEST_CASE("run stream event ids round-trip", "[runs]") {
  const auto id = streams::run_event_id(42, server, 7);
  const auto cursor = streams::parse_run_event_id(id);
  REQUIRE(cursor);
  CHECK(cursor->xid == 42);
  CHECK(cursor->operation_id == server);
  CHECK(cursor->seq == 7);
  CHECK_FALSE(streams::parse_run_event_id("7"));
  CHECK_FALSE(streams::parse_run_event_id("x.y.z"));
}

TEST_CASE("requires_approval and approvers: usernames, at most 50, duplicates dropped; 422 naming the item",
          "[jobs][approvals]") {
  const auto plain = parse_job(job_with(""));
  CHECK_FALSE(plain.requires_approval);
  CHECK(plain.approvers.empty());
  const auto spec = parse_job(job_with(R"(,"requires_approval":true,"approvers":["alice","bob.b","alice"])"));
  CHECK(spec.requires_approval);
  CHECK(spec.approvers == std::vector<std::string>{"alice", "bob.b"});
  CHECK(rejection(job_with(R"(,"requires_approval":"yes")")).find("requires_approval") != std::string::npos);
  CHECK(rejection(job_with(R"(,"approvers":"alice")")).rfind("approvers:", 0) == 0);
  CHECK(rejection(job_with(R"(,"approvers":["alice",""])")).rfind("approvers[1]:", 0) == 0);
  CHECK(rejection(job_with(R"(,"approvers":["alice","b c"])")).rfind("approvers[1]:", 0) == 0);
  CHECK(rejection(job_with(R"(,"approvers":[7])")).rfind("approvers[0]:", 0) == 0);
  std::string many = R"(,"approvers":[)";
  for (int i = 0; i < 51; ++i) many += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  CHECK(rejection(job_with(many + "]")).find("at most 50") != std::string::npos);
}
