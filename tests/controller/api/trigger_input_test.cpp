// The triggers routes' body: defaults, the webhook fields, and a 422 naming the field at fault.
#include "controller/api/automation/trigger_input.hpp"
#include "controller/api/automation/job_input.hpp"
#include "controller/api/automation/views.hpp"
#include "controller/http/responses.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using api::automation::parse_trigger;

namespace {

constexpr const char* job = "0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f";

boost::json::object trigger_with(const std::string& fields) {
  return boost::json::parse(std::string(R"({"name":"t","job_id":")") + job + "\"" + fields + "}").as_object();
}

std::string rejection(const boost::json::object& body) {
  try {
    parse_trigger(body);
    return "";
  } catch (const http::ApiError& e) {
    CHECK(e.status() == http::bhttp::status::unprocessable_entity);
    return e.what();
  }
}

}  // namespace

TEST_CASE("an event trigger takes its event, filter and limits", "[triggers]") {
  const auto spec = parse_trigger(trigger_with(
      R"(,"event":"operation.failed","filter":{"server_tag":"web","exit_code":2,"x.y":true},)"
      R"("fire_limit":{"max":3,"window":"1h"},"retry":{"strategy":"fixed","max_retries":2},"prompt":"ignored")"));
  CHECK(spec.event == "operation.failed");
  CHECK(spec.job_id == job);
  CHECK(spec.enabled);
  CHECK(spec.filter == std::map<std::string, std::string>{{"server_tag", "web"}, {"exit_code", "2"}, {"x.y", "true"}});
  CHECK(spec.fire_limit_max == 3);
  CHECK(spec.fire_limit_window == "1h");
  REQUIRE(spec.retry);
  CHECK(spec.retry->strategy == "fixed");
  CHECK_FALSE(spec.provider);
  CHECK_FALSE(spec.endpoint_slug);
}

TEST_CASE("a webhook trigger is signed by default and needs an endpoint slug", "[triggers]") {
  const auto spec = parse_trigger(trigger_with(R"(,"event":"webhook","endpoint_slug":"deploy-main")"));
  CHECK(spec.provider == "signed");
  CHECK(spec.endpoint_slug == "deploy-main");
  CHECK(parse_trigger(trigger_with(R"(,"event":"webhook","provider":"token")")).provider == "token");
  CHECK(rejection(trigger_with(R"(,"event":"webhook")")).rfind("endpoint_slug: is required", 0) == 0);
  CHECK(rejection(trigger_with(R"(,"event":"webhook","endpoint_slug":"Bad Slug")")).rfind("endpoint_slug:", 0) == 0);
  CHECK(rejection(trigger_with(R"(,"event":"webhook","provider":"gitlab","endpoint_slug":"x")")).rfind("provider:", 0) ==
        0);
  CHECK(rejection(trigger_with(R"(,"event":"run.failed","provider":"github")")).rfind("provider:", 0) == 0);
}

TEST_CASE("a bad trigger body is refused naming the field", "[triggers]") {
  CHECK(rejection(boost::json::parse(R"({"job_id":"x","event":"run.failed"})").as_object()).rfind("name:", 0) == 0);
  CHECK(rejection(boost::json::parse(R"({"name":"t","event":"run.failed"})").as_object()).rfind("job_id:", 0) == 0);
  CHECK(rejection(trigger_with(R"(,"job_id":"nope","event":"run.failed")")).rfind("job_id:", 0) == 0);
  CHECK(rejection(trigger_with(R"(,"event":"run.exploded")")).rfind("event: must be one of webhook, ", 0) == 0);
  CHECK(rejection(trigger_with(R"(,"event":"run.failed","filter":{"a b":"x"})")).rfind("filter.a b:", 0) == 0);
  CHECK(rejection(trigger_with(R"(,"event":"run.failed","filter":{"a":{"b":1}})")).rfind("filter.a:", 0) == 0);
  CHECK(rejection(trigger_with(R"(,"event":"run.failed","fire_limit":{"max":0,"window":"1h"})"))
            .rfind("fire_limit.max:", 0) == 0);
  CHECK(rejection(trigger_with(R"(,"event":"run.failed","retry":{"strategy":"sometimes"})")).rfind("retry.strategy:", 0) ==
        0);
  CHECK(rejection(trigger_with(R"j(,"event":"run.failed","commit_ref_from":"$(x)")j")).rfind("commit_ref_from:", 0) == 0);
}

TEST_CASE("a trigger as GET shows it parses back to the same declaration", "[triggers]") {
  store::TriggerRecord record;
  record.id = "7b0d1c1e-0000-4000-8000-000000000001";
  record.name = "gh";
  record.job_id = job;
  record.event = "webhook";
  record.provider = "github";
  record.endpoint_slug = "gh";
  record.webhook_id = "wh_0123";
  record.filter = {{"ref", "refs/heads/main"}};
  record.retry_strategy = "exponential";
  record.max_retries = 4;
  record.retry_base_delay = "10s";
  const auto rendered = api::automation::render_trigger(record);
  CHECK(rendered.at("webhook_url") == "/api/webhooks/global/wh_0123");
  const auto spec = parse_trigger(rendered);
  CHECK(spec.provider == "github");
  CHECK(spec.endpoint_slug == "gh");
  CHECK(spec.filter == record.filter);
  REQUIRE(spec.retry);
  CHECK(spec.retry->max_retries == 4);
  // A merge patch that clears the filter and disables it.
  const auto patched = api::automation::merge_patch(rendered, boost::json::parse(R"({"filter":null,"enabled":false})"));
  const auto changed = parse_trigger(patched.as_object());
  CHECK(changed.filter.empty());
  CHECK_FALSE(changed.enabled);
}
