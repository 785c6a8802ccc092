// The Metrics object on its own: counters and histogram buckets move, route labels come from the
// router's templates (never a client's path), database counts are read at most once per max age.
#include "controller/http/responses.hpp"
#include "controller/http/router.hpp"
#include "controller/metrics/metrics.hpp"
#include "tests/support/prometheus_text.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

using namespace tether;
using testing::prometheus_value;
using testing::prometheus_value_or_zero;

namespace {

struct NullSink : http::ResponseSink {
  void deliver(http::Response) override {}
  void deliver_event_stream(std::shared_ptr<http::StreamProducer>) override {}
};

void route(const http::Router& router, http::bhttp::verb method, const std::string& target) {
  http::RequestContext context{http::Request{method, target, 11}, "127.0.0.1", {},
                               http::Responder(std::make_shared<NullSink>())};
  router.route(context);
}

http::Router observed_router(metrics::Metrics& metrics) {
  http::Router router;
  router.add(http::bhttp::verb::get, "/api/servers/{id}", http::Access::viewer, [](http::RequestContext& c) {
    c.responder.send(http::Response{http::bhttp::status::ok, 11});
  });
  router.add(http::bhttp::verb::post, "/api/automation/v1/exec", http::Access::automation_key,
             [](http::RequestContext&) { throw http::ApiError(http::bhttp::status::unauthorized, "no key"); });
  router.observe([&metrics](std::string_view method, std::string_view route, unsigned status, double seconds) {
    metrics.http_request(method, route, status, seconds);
  });
  return router;
}

// Every metric with one series at least (a labelled family is exposed from its first series).
void touch_every_metric(metrics::Metrics& metrics) {
  metrics.operation_ended("exec", "completed", std::chrono::milliseconds(1));
  metrics.http_request("GET", "/api/health", 200, 0.001);
  metrics.output_received(1);
  metrics.scheduler_lateness(0.01);
  metrics.webhook_delivery("fired");
  metrics.db_pool_wait(0.001);
  metrics.loop_pass("job-scheduler", false);
  metrics.sample({});
  metrics.refresh_database_counts(std::chrono::steady_clock::now(),
                                  [] { return metrics::DatabaseCounts{{{"active", 1}}, {{"running", 1}}}; });
}

}  // namespace

TEST_CASE("an ended operation moves its counter and its duration histogram's buckets", "[metrics]") {
  metrics::Metrics metrics;
  metrics.operation_ended("exec", "completed", std::chrono::milliseconds(1500));
  metrics.operation_ended("exec", "completed", std::chrono::milliseconds(40));
  metrics.operation_ended("exec", "failed", std::nullopt);
  const auto text = metrics.exposition();
  INFO(text);
  CHECK(prometheus_value(text, R"(tether_operations_total{status="completed",type="exec"})") == 2);
  CHECK(prometheus_value(text, R"(tether_operations_total{status="failed",type="exec"})") == 1);
  // Only the two with a duration are observed.
  CHECK(prometheus_value(text, R"(tether_operation_duration_seconds_count{type="exec"})") == 2);
  CHECK(prometheus_value(text, R"(tether_operation_duration_seconds_sum{type="exec"})") == Approx(1.54));
  CHECK(prometheus_value(text, R"(tether_operation_duration_seconds_bucket{type="exec",le="0.1"})") == 1);
  CHECK(prometheus_value(text, R"(tether_operation_duration_seconds_bucket{type="exec",le="1"})") == 1);
  CHECK(prometheus_value(text, R"(tether_operation_duration_seconds_bucket{type="exec",le="2.5"})") == 2);
  CHECK(prometheus_value(text, R"(tether_operation_duration_seconds_bucket{type="exec",le="+Inf"})") == 2);
}

TEST_CASE("every metric is exposed with its help and type, those without labels from the start", "[metrics]") {
  metrics::Metrics fresh;
  const auto at_start = fresh.exposition();
  CHECK(prometheus_value(at_start, "tether_agents_connected") == 0);
  CHECK(prometheus_value(at_start, "tether_output_bytes_received_total") == 0);
  CHECK(prometheus_value(at_start, "tether_scheduler_lateness_seconds_count") == 0);

  metrics::Metrics metrics;
  touch_every_metric(metrics);
  const auto text = metrics.exposition();
  for (const auto* name : {"tether_agents_connected", "tether_servers", "tether_operations_total",
                           "tether_operation_duration_seconds", "tether_http_requests_total",
                           "tether_http_request_duration_seconds", "tether_sse_readers",
                           "tether_output_bytes_received_total", "tether_scheduler_lateness_seconds", "tether_runs",
                           "tether_webhook_deliveries_total", "tether_db_pool_connections",
                           "tether_db_pool_connections_in_use", "tether_db_pool_queued_tasks",
                           "tether_db_pool_wait_seconds", "tether_loop_passes_total", "tether_loop_errors_total"}) {
    INFO(name);
    CHECK(text.find(std::string("# HELP ") + name + " ") != std::string::npos);
    CHECK(text.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
}

TEST_CASE("HTTP requests are labelled by the matched route's template, unknown paths as unmatched", "[metrics]") {
  metrics::Metrics metrics;
  const auto router = observed_router(metrics);
  route(router, http::bhttp::verb::get, "/api/servers/3f0c9d2e-aaaa-bbbb-cccc-000000000001");
  route(router, http::bhttp::verb::get, "/api/servers/another-id?verbose=1");
  route(router, http::bhttp::verb::post, "/api/automation/v1/exec");
  route(router, http::bhttp::verb::get, "/api/random/path/one");
  route(router, http::bhttp::verb::get, "/etc/passwd");
  route(router, http::bhttp::verb::delete_, "/api/servers/x");
  const auto text = metrics.exposition();
  INFO(text);
  CHECK(prometheus_value(text, R"(tether_http_requests_total{method="GET",route="/api/servers/{id}",status="200"})") ==
        2);
  CHECK(prometheus_value(text,
                         R"(tether_http_requests_total{method="POST",route="/api/automation/v1/exec",status="401"})") ==
        1);
  CHECK(prometheus_value(text, R"(tether_http_requests_total{method="GET",route="unmatched",status="404"})") == 2);
  // A known path with another method keeps the path's template.
  CHECK(prometheus_value(text,
                         R"(tether_http_requests_total{method="DELETE",route="/api/servers/{id}",status="405"})") == 1);
  CHECK(prometheus_value(text,
                         R"(tether_http_request_duration_seconds_count{method="GET",route="/api/servers/{id}"})") == 2);
  // No client-chosen text reaches a label.
  CHECK(text.find("another-id") == std::string::npos);
  CHECK(text.find("passwd") == std::string::npos);
  CHECK(text.find("random") == std::string::npos);
}

TEST_CASE("output bytes, webhook outcomes, lateness, pool waits and loop passes are counted", "[metrics]") {
  metrics::Metrics metrics;
  metrics.output_received(100);
  metrics.output_received(23);
  metrics.webhook_delivery("fired");
  metrics.webhook_delivery("unauthenticated");
  metrics.webhook_delivery("fired");
  metrics.scheduler_lateness(0.3);
  metrics.db_pool_wait(0.002);
  metrics.loop_pass("job-scheduler", false);
  metrics.loop_pass("job-scheduler", false);
  metrics.loop_pass("retention-pruner", true);
  metrics.sample({3, 2, 4, 1, 5});
  const auto text = metrics.exposition();
  INFO(text);
  CHECK(prometheus_value(text, "tether_output_bytes_received_total") == 123);
  CHECK(prometheus_value(text, R"(tether_webhook_deliveries_total{outcome="fired"})") == 2);
  CHECK(prometheus_value(text, R"(tether_webhook_deliveries_total{outcome="unauthenticated"})") == 1);
  CHECK(prometheus_value(text, R"(tether_scheduler_lateness_seconds_bucket{le="0.25"})") == 0);
  CHECK(prometheus_value(text, R"(tether_scheduler_lateness_seconds_bucket{le="0.5"})") == 1);
  CHECK(prometheus_value(text, "tether_db_pool_wait_seconds_count") == 1);
  CHECK(prometheus_value(text, R"(tether_loop_passes_total{loop="job-scheduler"})") == 2);
  CHECK(prometheus_value(text, R"(tether_loop_errors_total{loop="job-scheduler"})") == 0);
  CHECK(prometheus_value(text, R"(tether_loop_passes_total{loop="retention-pruner"})") == 1);
  CHECK(prometheus_value(text, R"(tether_loop_errors_total{loop="retention-pruner"})") == 1);
  CHECK(prometheus_value(text, "tether_agents_connected") == 3);
  CHECK(prometheus_value(text, "tether_sse_readers") == 2);
  CHECK(prometheus_value(text, "tether_db_pool_connections") == 4);
  CHECK(prometheus_value(text, "tether_db_pool_connections_in_use") == 1);
  CHECK(prometheus_value(text, "tether_db_pool_queued_tasks") == 5);
}

TEST_CASE("database counts are read at most once per max age, and a status that is gone reads 0", "[metrics]") {
  metrics::Metrics metrics(std::chrono::seconds(5));
  const auto t0 = std::chrono::steady_clock::time_point(std::chrono::hours(1));
  int reads = 0;
  metrics::DatabaseCounts counts{{{"active", 2}, {"unreachable", 1}}, {{"succeeded", 7}, {"running", 1}}};
  const auto read = [&] {
    ++reads;
    return counts;
  };
  metrics.refresh_database_counts(t0, read);
  auto text = metrics.exposition();
  CHECK(reads == 1);
  CHECK(prometheus_value(text, R"(tether_servers{status="active"})") == 2);
  CHECK(prometheus_value(text, R"(tether_servers{status="unreachable"})") == 1);
  CHECK(prometheus_value(text, R"(tether_runs{status="succeeded"})") == 7);

  counts = {{{"active", 3}}, {{"succeeded", 8}}};
  metrics.refresh_database_counts(t0 + std::chrono::seconds(4), read);
  CHECK(reads == 1);
  CHECK(prometheus_value(metrics.exposition(), R"(tether_servers{status="active"})") == 2);

  metrics.refresh_database_counts(t0 + std::chrono::seconds(5), read);
  CHECK(reads == 2);
  text = metrics.exposition();
  CHECK(prometheus_value(text, R"(tether_servers{status="active"})") == 3);
  CHECK(prometheus_value(text, R"(tether_servers{status="unreachable"})") == 0);
  CHECK(prometheus_value(text, R"(tether_runs{status="running"})") == 0);
  CHECK(prometheus_value(text, R"(tether_runs{status="succeeded"})") == 8);
}

TEST_CASE("a failed database read keeps the previous counts and is tried again at the next scrape", "[metrics]") {
  metrics::Metrics metrics(std::chrono::seconds(5));
  const auto t0 = std::chrono::steady_clock::time_point(std::chrono::hours(1));
  metrics.refresh_database_counts(t0, [] { return metrics::DatabaseCounts{{{"active", 1}}, {}}; });
  CHECK_THROWS(metrics.refresh_database_counts(t0 + std::chrono::seconds(6), []() -> metrics::DatabaseCounts {
    throw std::runtime_error("database down");
  }));
  CHECK(prometheus_value(metrics.exposition(), R"(tether_servers{status="active"})") == 1);
  int reads = 0;
  metrics.refresh_database_counts(t0 + std::chrono::seconds(7), [&] {
    ++reads;
    return metrics::DatabaseCounts{{{"active", 2}}, {}};
  });
  CHECK(reads == 1);
}

TEST_CASE("the Grafana dashboard in deploy/ is valid JSON and names only metrics the controller exposes",
          "[metrics]") {
  std::ifstream in(std::filesystem::path(TETHER_SOURCE_DIR) / "deploy" / "grafana-dashboard.json");
  REQUIRE(in);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::json::value dashboard;
  REQUIRE_NOTHROW(dashboard = boost::json::parse(text));
  const auto panels = dashboard.at("panels").as_array();
  REQUIRE_FALSE(panels.empty());

  metrics::Metrics metrics;
  touch_every_metric(metrics);
  const auto exposition = metrics.exposition();
  static const std::regex name(R"(tether_[a-z_]+)");
  std::size_t names = 0;
  for (const auto& panel : panels) {
    for (const auto& target : panel.at("targets").as_array()) {
      const std::string expr(target.at("expr").as_string());
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator(); ++it) {
        auto metric = it->str();
        for (const std::string suffix : {"_bucket", "_count", "_sum"}) {
          if (metric.size() > suffix.size() && metric.ends_with(suffix)) metric.resize(metric.size() - suffix.size());
        }
        INFO(expr);
        CHECK(exposition.find("# TYPE " + metric + " ") != std::string::npos);
        ++names;
      }
    }
  }
  CHECK(names > 10);
}
