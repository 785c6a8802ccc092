// Issue 10: inbound signed webhooks against a real controller (with a master key, which keeps the
// trigger secrets) and a real agent. A delivery to /api/webhooks/global/{endpoint} fires a trigger
// only when it is signed with that trigger's own secret, under either header family, within 300 s
// of the controller's clock, and not seen before; its payload reaches the run's command only as
// TETHER_EVENT_* environment values, verbatim and never executed; every delivery is audited. And
// seed 000's token URL (/api/automations/webhook/{token}) fires its trigger without a key.
//
// Each case delivers from its own X-Forwarded-For address (the controller trusts 127.0.0.1 as a
// proxy), so that its audit entries and failed-authentication count are its own.
#include "tests/e2e/webhook_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;

namespace {

testing::TetherStack& webhook_stack() {
  testing::StackOptions options;
  options.master_key = true;  // the webhook secrets are sealed with it
  options.trusted_proxies = {"127.0.0.1/32"};
  return shared_stack(options);
}

std::string unique(const std::string& base) {
  static int count = 0;
  return fmt::format("{}-{}", base, ++count);
}

std::string new_delivery_id() { return ids::new_uuid(); }

// A job of `command` on the stack's server, run only when fired; returns its id.
std::string exec_job(AutomationApi& api, const std::string& name, const std::string& command = "true") {
  const auto job = api.create_job({{"name", unique(name)},
                                   {"operation", testing::exec_operation(command, 30)},
                                   {"targets", testing::server_targets({webhook_stack().server_id()})}});
  return string_field(job, "id");
}

// A signed webhook trigger of the job at endpoint `slug`.
WebhookTrigger signed_trigger(AutomationApi& api, const std::string& job_id, const std::string& slug,
                              const boost::json::object& filter = {}) {
  return create_webhook_trigger(api, {{"name", unique("hook-" + slug)},
                                      {"job_id", job_id},
                                      {"event", "webhook"},
                                      {"provider", "signed"},
                                      {"endpoint_slug", slug},
                                      {"filter", filter}});
}

// Deliveries of one test case, all from one client address.
struct Sender {
  http::Client client = webhook_stack().client();
  std::string address;

  explicit Sender(std::string from) : address(std::move(from)) {}

  http::Response send(const std::string& endpoint, const std::string& body, http::Headers headers) {
    headers.emplace_back("X-Forwarded-For", address);
    return deliver(client, endpoint, body, std::move(headers));
  }
  // Signed with `secret`, timestamp now (Unix seconds).
  http::Response send_signed(const std::string& endpoint, const std::string& secret, const std::string& body,
                             const std::optional<std::string>& delivery_id = std::nullopt) {
    return send(endpoint, body,
                signed_headers(secret, unix_seconds(std::chrono::system_clock::now()), body, delivery_id));
  }
};

// The Unix seconds of now + offset, rounded so that the distance from now is at most |offset|
// (toward_now) or at least |offset| (away_from_now) whatever the fraction of the current second.
std::string seconds_from_now(std::chrono::seconds offset, bool toward_now) {
  const auto now = std::chrono::system_clock::now();
  const auto at = std::chrono::duration_cast<std::chrono::microseconds>((now + offset).time_since_epoch()).count();
  const std::int64_t floor = at / 1'000'000, ceil = floor + (at % 1'000'000 != 0 ? 1 : 0);
  const bool past = offset.count() < 0;
  return std::to_string(past == toward_now ? ceil : floor);
}

std::size_t run_count(AutomationApi& api, const std::string& job_id) { return api.job_runs(job_id).size(); }

// The run ended completed; returns its one operation's stdout.
std::string completed_run_stdout(AutomationApi& api, const std::string& run_id) {
  const auto run = api.wait_for_run_end(run_id, 30s);
  INFO(boost::json::serialize(run));
  CHECK(string_field(run, "status") == "completed");
  const auto operations = run_operations(run);
  REQUIRE(operations.size() == 1);
  return operation_stdout(api, string_field(operations.front(), "id"));
}

std::set<std::string> lines_starting_with(const std::string& text, const std::vector<std::string>& prefixes) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    for (const auto& prefix : prefixes) {
      if (line.rfind(prefix, 0) == 0) out.insert(line);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a delivery signed under either header family (X-Tether-Webhook-* or X-AGH-Webhook-*) fires the trigger's "
          "job once",
          "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "families");
  const auto hook = signed_trigger(api, job_id, "families");
  CHECK(is_secret(hook.secret, "whsec_"));
  Sender sender("203.0.113.1");
  for (const std::string family : {"X-Tether-Webhook-", "X-AGH-Webhook-"}) {
    INFO("header family " << family);
    // Bodies differ: the same body signed at the same second would be the same delivery.
    const std::string body = R"({"event":"build","ok":true,"family":")" + family + "\"}";
    const auto delivery_id = new_delivery_id();
    const auto timestamp = unix_seconds(std::chrono::system_clock::now());
    const auto response =
        sender.send("families", body, signed_headers(hook.secret, timestamp, body, delivery_id, family));
    const auto run = fired_run(response);
    CHECK(string_field(run, "trigger_id") == hook.id);
    CHECK(string_field(run, "job_id") == job_id);
    CHECK(string_field(run, "operation_type") == "exec");
    const auto ended = api.wait_for_run_end(string_field(run, "id"), 30s);
    CHECK(string_field(ended, "status") == "completed");
  }
  CHECK(run_count(api, job_id) == 2);
}

TEST_CASE("a trigger shows its webhook URL and a fingerprint of its secret, never the secret; a delivery to that URL "
          "is checked like one to its slug",
          "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "by-id");
  const auto hook = signed_trigger(api, job_id, "by-id");
  const auto webhook_id = string_field(hook.trigger, "webhook_id");
  CHECK(string_field(hook.trigger, "webhook_url") == "/api/webhooks/global/" + webhook_id);
  CHECK(hook.trigger.at("webhook_secret_present").as_bool());
  CHECK(string_field(hook.trigger, "webhook_secret_hash").rfind("sha256:", 0) == 0);
  const auto fetched = api.call("GET", "/api/automation/triggers/" + hook.id);
  INFO(describe(fetched));
  REQUIRE(fetched.status == 200);
  CHECK(fetched.body.find(hook.secret) == std::string::npos);
  CHECK(fetched.body.find(hook.secret.substr(6)) == std::string::npos);

  Sender sender("203.0.113.2");
  const std::string body = R"({"event":"by-id"})";
  CHECK(string_field(fired_run(sender.send_signed(webhook_id, hook.secret, body)), "trigger_id") == hook.id);
  check_jobs_error(sender.send_signed(webhook_id, hook.secret + "x", body), 401);
}

TEST_CASE("a wrong signature, a missing signature or an endpoint no trigger answers is 401, fires nothing and counts "
          "as a failed authentication of the address",
          "[e2e][webhooks][audit]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "bad-signature");
  const auto hook = signed_trigger(api, job_id, "bad-signature");
  const std::string address = "203.0.113.3";
  Sender sender(address);
  const std::string body = R"({"event":"build"})";
  const auto now = unix_seconds(std::chrono::system_clock::now());

  INFO("another secret");
  check_jobs_error(sender.send("bad-signature", body, signed_headers(hook.secret + "0", now, body)), 401);
  INFO("the signature of another body");
  auto headers = signed_headers(hook.secret, now, R"({"event":"other"})");
  check_jobs_error(sender.send("bad-signature", body, headers), 401);
  INFO("the signature of another timestamp");
  headers = signed_headers(hook.secret, now, body);
  headers.front().second = std::to_string(std::stoll(now) - 1);
  check_jobs_error(sender.send("bad-signature", body, headers), 401);
  INFO("no signature headers at all");
  check_jobs_error(sender.send("bad-signature", body, {}), 401);
  INFO("a GitHub signature on a signed trigger");
  check_jobs_error(
      sender.send("bad-signature", body, github_headers(hook.secret, body, "push", new_delivery_id())), 401);
  INFO("a correctly signed delivery to an endpoint no trigger answers");
  check_jobs_error(sender.send("no-such-endpoint", body, signed_headers(hook.secret, now, body)), 401);

  CHECK(run_count(api, job_id) == 0);
  INFO("these proved nothing: they are the address's auth.failed row, not webhook deliveries");
  std::vector<boost::json::object> failures;
  for (const auto& entry : objects(array_at(json_object(stack.admin("GET", "/api/audit?action=auth.failed&limit=1000")),
                                            "entries"))) {
    if (entry.at("client_ip") == boost::json::value(address)) failures.push_back(entry);
  }
  REQUIRE(failures.size() == 1);
  INFO(boost::json::serialize(failures.front()));
  CHECK(int_field(failures.front(), "failures") == 6);
  CHECK(string_field(object_at(failures.front(), "detail"), "first_action") == "POST /api/webhooks/global/bad-signature");
  for (const auto& entry : delivery_audit(stack)) CHECK(entry.at("client_ip") != boost::json::value(address));
}

TEST_CASE("a signed timestamp 301 s old or 301 s ahead is refused with 401 naming the timestamp; 299 s old or ahead "
          "is accepted",
          "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "skew");
  const auto hook = signed_trigger(api, job_id, "skew");
  Sender sender("203.0.113.4");
  const std::string body = R"({"event":"build"})";

  for (const auto offset : {-301s, 301s}) {
    INFO("timestamp " << offset.count() << " s from now");
    const auto delivery_id = new_delivery_id();
    const auto timestamp = seconds_from_now(offset, false);
    const auto detail =
        check_jobs_error(sender.send("skew", body, signed_headers(hook.secret, timestamp, body, delivery_id)), 401);
    CHECK(detail.find("timestamp") != std::string::npos);
    const auto entry = delivery_audit_entry(stack, delivery_id, "denied");
    CHECK(string_field(object_at(entry, "detail"), "reason").find("timestamp") != std::string::npos);
  }
  CHECK(run_count(api, job_id) == 0);

  INFO("a timestamp that is neither Unix seconds nor RFC 3339, signed correctly");
  const auto detail =
      check_jobs_error(sender.send("skew", body, signed_headers(hook.secret, "yesterday", body)), 401);
  CHECK(detail.find("timestamp") != std::string::npos);
  CHECK(run_count(api, job_id) == 0);

  for (const auto offset : {-299s, 299s}) {
    INFO("timestamp " << offset.count() << " s from now");
    const auto timestamp = seconds_from_now(offset, true);
    const auto run = fired_run(sender.send("skew", body, signed_headers(hook.secret, timestamp, body)));
    CHECK(string_field(run, "trigger_id") == hook.id);
  }
  CHECK(run_count(api, job_id) == 2);
}

TEST_CASE("an RFC 3339 timestamp is accepted, with or without a fraction or an offset", "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "rfc3339");
  const auto hook = signed_trigger(api, job_id, "rfc3339");
  Sender sender("203.0.113.5");
  const std::string body = R"({"event":"build"})";
  const auto now = std::chrono::system_clock::now();

  // The same instant two hours east of UTC.
  const std::time_t east_seconds = std::chrono::system_clock::to_time_t(now) + 2 * 3600;
  std::tm east{};
  ::gmtime_r(&east_seconds, &east);
  const auto with_offset = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+02:00", east.tm_year + 1900,
                                       east.tm_mon + 1, east.tm_mday, east.tm_hour, east.tm_min, east.tm_sec);
  for (const auto& timestamp : {testing::rfc3339(now), testing::rfc3339(now, true), with_offset}) {
    INFO("timestamp " << timestamp);
    fired_run(sender.send("rfc3339", body, signed_headers(hook.secret, timestamp, body)));
  }
  CHECK(run_count(api, job_id) == 3);

  INFO("an RFC 3339 timestamp outside the window is refused like Unix seconds");
  check_jobs_error(
      sender.send("rfc3339", body, signed_headers(hook.secret, testing::rfc3339(now - 400s), body)), 401);
  CHECK(run_count(api, job_id) == 3);
}

TEST_CASE("a delivery id accepted once is a replay: the same id again is 409 even with another body and signature",
          "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "replay-id");
  const auto hook = signed_trigger(api, job_id, "replay-id");
  Sender sender("203.0.113.6");
  const auto delivery_id = new_delivery_id();

  fired_run(sender.send_signed("replay-id", hook.secret, R"({"attempt":1})", delivery_id));
  const auto detail =
      check_jobs_error(sender.send_signed("replay-id", hook.secret, R"({"attempt":2})", delivery_id), 409);
  CHECK(detail.find(delivery_id) != std::string::npos);
  INFO("the other header family carries the same id");
  const std::string body = R"({"attempt":3})";
  check_jobs_error(sender.send("replay-id", body,
                               signed_headers(hook.secret, unix_seconds(std::chrono::system_clock::now()), body,
                                              delivery_id, "X-AGH-Webhook-")),
                   409);
  CHECK(run_count(api, job_id) == 1);

  INFO("a new id with a new body is a new delivery");
  fired_run(sender.send_signed("replay-id", hook.secret, R"({"attempt":4})", new_delivery_id()));
  CHECK(run_count(api, job_id) == 2);
}

TEST_CASE("without a delivery id the signature identifies a delivery: the same signed delivery again is 409",
          "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "replay-signature");
  const auto hook = signed_trigger(api, job_id, "replay-signature");
  Sender sender("203.0.113.7");
  const std::string body = R"({"event":"build"})";
  const auto timestamp = seconds_from_now(-10s, true);
  const auto headers = signed_headers(hook.secret, timestamp, body);

  fired_run(sender.send("replay-signature", body, headers));
  check_jobs_error(sender.send("replay-signature", body, headers), 409);
  INFO("the same signature with its hex in upper case is the same delivery");
  auto upper = headers;
  std::transform(upper.back().second.begin() + 7, upper.back().second.end(), upper.back().second.begin() + 7,
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  REQUIRE(upper.back().first == "X-Tether-Webhook-Signature");
  check_jobs_error(sender.send("replay-signature", body, upper), 409);
  CHECK(run_count(api, job_id) == 1);

  INFO("the delivery id is not signed: the captured delivery resent under a new id is still a replay");
  auto with_new_id = headers;
  with_new_id.emplace_back("X-Tether-Webhook-Delivery-ID", "a-fresh-id-for-an-old-delivery");
  check_jobs_error(sender.send("replay-signature", body, with_new_id), 409);
  CHECK(run_count(api, job_id) == 1);

  INFO("the same body at another second is signed differently: a new delivery");
  fired_run(sender.send("replay-signature", body, signed_headers(hook.secret, seconds_from_now(-5s, true), body)));
  CHECK(run_count(api, job_id) == 2);
}

TEST_CASE("a body over 1 MiB is refused with 413; a signed body of exactly 1 MiB is accepted", "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "big-body");
  const auto hook = signed_trigger(api, job_id, "big-body");
  Sender sender("203.0.113.8");
  const auto body_of_size = [](std::size_t size) {
    const std::string head = R"({"pad":")", tail = R"("})";
    return head + std::string(size - head.size() - tail.size(), 'x') + tail;
  };
  constexpr std::size_t mib = 1024 * 1024;

  const auto over = body_of_size(mib + 1);
  check_error(sender.send_signed("big-body", hook.secret, over), 413);
  CHECK(run_count(api, job_id) == 0);

  const auto exactly = body_of_size(mib);
  REQUIRE(exactly.size() == mib);
  fired_run(sender.send_signed("big-body", hook.secret, exactly));
  CHECK(run_count(api, job_id) == 1);
}

TEST_CASE("a correctly signed body that is not a JSON object is 422 and fires nothing", "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "not-object");
  const auto hook = signed_trigger(api, job_id, "not-object");
  Sender sender("203.0.113.9");

  for (const std::string body : {"[1,2,3]", "\"text\"", "42", "null", "not json", "{\"unterminated\":", ""}) {
    INFO("body " << body);
    const auto delivery_id = new_delivery_id();
    const auto detail = check_jobs_error(sender.send_signed("not-object", hook.secret, body, delivery_id), 422);
    CHECK(detail.find("body") != std::string::npos);
    const auto entry = delivery_audit_entry(stack, delivery_id, "denied");
    CHECK(string_field(object_at(entry, "detail"), "reason").find("body") != std::string::npos);
  }
  CHECK(run_count(api, job_id) == 0);
}

TEST_CASE("a delivery whose payload does not match the trigger's filter is 200 with matched 0 and starts no run",
          "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "filtered");
  const auto hook =
      signed_trigger(api, job_id, "filtered", {{"ref", "refs/heads/main"}, {"build.kind", "release-*"}, {"attempt", 1}});
  Sender sender("203.0.113.10");

  for (const std::string body : {R"({"ref":"refs/heads/dev","build":{"kind":"release-7"},"attempt":1})",
                                 R"({"ref":"refs/heads/main","build":{"kind":"nightly"},"attempt":1})",
                                 R"({"ref":"refs/heads/main","build":{"kind":"release-7"},"attempt":2})",
                                 R"({"ref":"refs/heads/main","attempt":1})"}) {
    INFO("payload " << body);
    const auto delivery_id = new_delivery_id();
    check_accepted(sender.send_signed("filtered", hook.secret, body, delivery_id), 0);
    const auto entry = delivery_audit_entry(stack, delivery_id, "allowed");
    CHECK(int_field(object_at(entry, "detail"), "matched") == 0);
  }
  CHECK(run_count(api, job_id) == 0);

  fired_run(
      sender.send_signed("filtered", hook.secret, R"({"ref":"refs/heads/main","build":{"kind":"release-7"},"attempt":1})"));
  CHECK(run_count(api, job_id) == 1);
}

TEST_CASE("two triggers at one endpoint each check their own secret: a delivery fires only the trigger it was signed "
          "for",
          "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto first_job = exec_job(api, "shared-first");
  const auto second_job = exec_job(api, "shared-second");
  const auto first = signed_trigger(api, first_job, "shared");
  const auto second = signed_trigger(api, second_job, "shared");
  REQUIRE(first.secret != second.secret);
  Sender sender("203.0.113.11");
  const std::string body = R"({"event":"build"})";

  auto run = fired_run(sender.send_signed("shared", first.secret, body, new_delivery_id()));
  CHECK(string_field(run, "trigger_id") == first.id);
  CHECK(string_field(run, "job_id") == first_job);
  CHECK(run_count(api, first_job) == 1);
  CHECK(run_count(api, second_job) == 0);

  run = fired_run(sender.send_signed("shared", second.secret, body, new_delivery_id()));
  CHECK(string_field(run, "trigger_id") == second.id);
  CHECK(string_field(run, "job_id") == second_job);
  CHECK(run_count(api, first_job) == 1);
  CHECK(run_count(api, second_job) == 1);

  INFO("each trigger's own URL answers only for it");
  check_jobs_error(sender.send_signed(string_field(second.trigger, "webhook_id"), first.secret, body), 401);
}

TEST_CASE("after rotate-secret the old secret fails at once and the new one fires the trigger", "[e2e][webhooks]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "rotate");
  const auto hook = signed_trigger(api, job_id, "rotate");
  Sender sender("203.0.113.12");
  const std::string body = R"({"event":"build"})";
  fired_run(sender.send_signed("rotate", hook.secret, body));

  const auto rotated = rotate_webhook_secret(api, hook.id);
  CHECK(is_secret(rotated, "whsec_"));
  CHECK(rotated != hook.secret);
  const auto fetched = api.call("GET", "/api/automation/triggers/" + hook.id);
  REQUIRE(fetched.status == 200);
  CHECK(string_field(object_at(json_object(fetched), "trigger"), "webhook_secret_hash") !=
        string_field(hook.trigger, "webhook_secret_hash"));

  check_jobs_error(sender.send_signed("rotate", hook.secret, body), 401);
  CHECK(run_count(api, job_id) == 1);
  fired_run(sender.send_signed("rotate", rotated, body));
  CHECK(run_count(api, job_id) == 2);
}

TEST_CASE("the run's command sees the payload's scalars, the delivery id and the trigger id as TETHER_* variables; a "
          "value with shell metacharacters arrives verbatim and nothing in it is executed",
          "[e2e][webhooks][env]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto marker = stack.dir() / unique("executed-from-payload");
  const auto canary = stack.dir() / unique("canary");
  std::filesystem::create_directories(canary);
  const std::string evil = "$(touch /tmp/x); rm -rf " + canary.string() + "; `touch " + marker.string() +
                           "`; $(touch " + marker.string() + ") && touch " + marker.string() + " | sh '\"";
  const auto job_id = exec_job(api, "env", "env | grep TETHER_ | sort; printf 'evil=%s\\n' \"$TETHER_EVENT_EVIL\"");
  const auto hook = signed_trigger(api, job_id, "env");
  Sender sender("203.0.113.13");
  const boost::json::object payload{{"ref", "refs/heads/main"},
                                    {"build", 42},
                                    {"ok", true},
                                    {"tags", boost::json::array{"a", "b"}},
                                    {"evil", evil},
                                    {"repository", {{"full_name", "acme/app"}}},
                                    {"with-dash", "left out"}};
  const auto delivery_id = new_delivery_id();
  const auto run = fired_run(sender.send_signed("env", hook.secret, boost::json::serialize(payload), delivery_id));
  const auto output = completed_run_stdout(api, string_field(run, "id"));
  INFO("stdout:\n" << output);

  const std::set<std::string> expected{"TETHER_EVENT_TYPE=webhook",
                                       "TETHER_EVENT_DELIVERY_ID=" + delivery_id,
                                       "TETHER_TRIGGER_ID=" + hook.id,
                                       "TETHER_EVENT_REF=refs/heads/main",
                                       "TETHER_EVENT_BUILD=42",
                                       "TETHER_EVENT_OK=true",
                                       "TETHER_EVENT_TAGS=a,b",
                                       "TETHER_EVENT_EVIL=" + evil};
  CHECK(lines_starting_with(output, {"TETHER_EVENT_", "TETHER_TRIGGER_"}) == expected);
  CHECK(output.find("evil=" + evil + "\n") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(marker));
  CHECK(std::filesystem::is_directory(canary));
}

TEST_CASE("every delivery that proves its signature is audited as webhooks.deliver with its outcome and reason, and "
          "never with the secret, signature or payload",
          "[e2e][webhooks][audit]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "audited");
  const auto hook = signed_trigger(api, job_id, "audited");
  const std::string address = "203.0.113.14";
  Sender sender(address);
  const std::string payload_value = "payload-" + crypto::hex_encode(crypto::random_bytes(8));
  const std::string body = R"({"value":")" + payload_value + R"("})";

  const auto accepted_id = new_delivery_id();
  const auto timestamp = unix_seconds(std::chrono::system_clock::now());
  const auto headers = signed_headers(hook.secret, timestamp, body, accepted_id);
  const auto run = fired_run(sender.send("audited", body, headers));
  check_jobs_error(sender.send("audited", body, headers), 409);
  const auto stale_id = new_delivery_id();
  check_jobs_error(
      sender.send("audited", body, signed_headers(hook.secret, seconds_from_now(-600s, false), body, stale_id)), 401);

  const auto accepted = delivery_audit_entry(stack, accepted_id, "allowed");
  INFO("accepted: " << boost::json::serialize(accepted));
  CHECK(string_field(accepted, "actor") == "webhook");
  CHECK(string_field(accepted, "client_ip") == address);
  const auto& detail = object_at(accepted, "detail");
  CHECK(string_field(detail, "reason") == "accepted");
  CHECK(string_field(detail, "endpoint") == "audited");
  CHECK(int_field(detail, "matched") == 1);
  CHECK(detail.at("triggers") == boost::json::array{boost::json::value(hook.id)});
  CHECK(detail.at("runs") == boost::json::array{run.at("id")});

  const auto replayed = delivery_audit_entry(stack, accepted_id, "denied");
  INFO("replayed: " << boost::json::serialize(replayed));
  CHECK(string_field(object_at(replayed, "detail"), "reason").find("replay") != std::string::npos);
  const auto stale = delivery_audit_entry(stack, stale_id, "denied");
  INFO("stale: " << boost::json::serialize(stale));
  CHECK(string_field(object_at(stale, "detail"), "reason").find("timestamp") != std::string::npos);
  CHECK(string_field(stale, "client_ip") == address);

  const auto everything = stack.admin("GET", "/api/audit?limit=1000").body;
  CHECK(everything.find(hook.secret) == std::string::npos);
  CHECK(everything.find(headers[1].second.substr(7)) == std::string::npos);  // the signature's hex
  CHECK(everything.find(payload_value) == std::string::npos);
}

TEST_CASE("a token trigger's URL fires its job without a key and answers the run id and running; an unknown token is "
          "404",
          "[e2e][webhooks][token]") {
  auto& stack = webhook_stack();
  AutomationApi api(stack);
  const auto job_id = exec_job(api, "token", "env | grep TETHER_EVENT_ | sort");
  const auto hook = create_webhook_trigger(
      api, {{"name", unique("token-hook")}, {"job_id", job_id}, {"event", "webhook"}, {"provider", "token"}});
  CHECK(hook.secret.size() >= 32);
  auto client = stack.client();

  const auto response = client.post("/api/automations/webhook/" + hook.secret, R"({"who":"ci"})",
                                    {{"Content-Type", "application/json"}, {"X-Forwarded-For", "203.0.113.15"}});
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  CHECK(answer.size() == 2);
  CHECK(string_field(answer, "status") == "running");
  const auto run_id = string_field(answer, "run_id");
  CHECK(ids::is_uuid(run_id));
  const auto run = api.get_run(run_id);
  CHECK(string_field(run, "trigger_id") == hook.id);
  CHECK(string_field(run, "job_id") == job_id);
  const auto output = completed_run_stdout(api, run_id);
  CHECK(lines_starting_with(output, {"TETHER_EVENT_"}) ==
        std::set<std::string>{"TETHER_EVENT_TYPE=webhook", "TETHER_EVENT_WHO=ci"});

  INFO("without a body too");
  const auto bare = client.post("/api/automations/webhook/" + hook.secret, "", {{"X-Forwarded-For", "203.0.113.15"}});
  INFO(describe(bare));
  CHECK(bare.status == 200);
  CHECK(run_count(api, job_id) == 2);

  INFO("an unknown token, and a token's near miss");
  check_jobs_error(client.post("/api/automations/webhook/" + crypto::hex_encode(crypto::random_bytes(32)), "{}",
                               {{"X-Forwarded-For", "203.0.113.15"}}),
                   404);
  auto near_miss = hook.secret;
  near_miss.back() = near_miss.back() == 'a' ? 'b' : 'a';
  check_jobs_error(client.post("/api/automations/webhook/" + near_miss, "{}", {{"X-Forwarded-For", "203.0.113.15"}}),
                   404);
  CHECK(run_count(api, job_id) == 2);
}
