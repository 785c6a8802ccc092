// GET /metrics on a real controller and agent (issue 12 §8): a viewer key on the main listener (no
// key: 401), no key on --metrics-listen (which serves nothing else); after an exec through the v1
// API the operations counter, the duration histogram, the v1 exec route's request counter and the
// output bytes have moved, and the connected agent is counted.
#include "tests/e2e/e2e_checks.hpp"
#include "tests/support/automation_api.hpp"
#include "tests/support/net.hpp"
#include "tests/support/prometheus_text.hpp"

using namespace tether;
using namespace tether::e2e;
using testing::prometheus_value;
using testing::prometheus_value_or_zero;

namespace {

constexpr std::string_view exec_requests =
    R"(tether_http_requests_total{method="POST",route="/api/automation/v1/exec",status="200"})";
constexpr std::string_view exec_operations = R"(tether_operations_total{status="completed",type="exec"})";
constexpr std::string_view exec_durations = R"(tether_operation_duration_seconds_count{type="exec"})";

std::string scrape(http::Client& client, const http::Headers& headers = {}) {
  const auto response = client.get("/metrics", headers);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(response.header("Content-Type").value_or("").rfind("text/plain; version=0.0.4", 0) == 0);
  return response.body;
}

}  // namespace

TEST_CASE("metrics are scraped with a viewer key or on the metrics listener, and move after an exec",
          "[e2e][metrics]") {
  const auto metrics_port = testing::free_loopback_port();
  testing::StackOptions options;
  options.controller_args = {"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)};
  auto& stack = shared_stack(options);
  const auto viewer = testing::create_operator_key(stack.database(), "metrics-viewer", "viewer");
  const http::Headers as_viewer{{"Authorization", "Bearer " + viewer}};
  auto client = stack.client();
  auto metrics_options = stack.client_options();
  metrics_options.port = std::to_string(metrics_port);
  http::Client metrics_client(metrics_options);

  {  // The main listener wants an operator key; the metrics listener serves /metrics only, to anyone.
    check_error(client.get("/metrics"), 401);
    const auto automation_key = stack.create_automation_key();
    check_error(client.get("/metrics", {{"Authorization", "Bearer " + automation_key.key}}), 401);
    const auto text = scrape(metrics_client);
    CHECK(prometheus_value(text, "tether_agents_connected") == 1);
    CHECK(metrics_client.get("/api/health").status == 404);
    CHECK(metrics_client.get("/api/servers", as_viewer).status == 404);
  }

  {  // An exec moves the operation, HTTP and output metrics.
    const auto before = scrape(client, as_viewer);
    INFO(before);
    CHECK(prometheus_value(before, "tether_agents_connected") == 1);
    CHECK(prometheus_value(before, R"(tether_servers{status="active"})") == 1);
    CHECK(prometheus_value(before, "tether_db_pool_connections") >= 1);
    CHECK(prometheus_value(before, "tether_db_pool_connections_in_use") >= 1);  // the scrape's own

    const auto key = stack.create_automation_key();
    const auto response = testing::exec(client, key.key, exec_body(stack.server_id(), "printf 'hello metrics'"));
    INFO(describe(response));
    REQUIRE(response.status == 200);
    REQUIRE(string_field(json_object(response), "status") == "completed");

    // The unauthenticated listener and the main one expose the same registry.
    const auto after = scrape(metrics_client);
    INFO(after);
    CHECK(prometheus_value_or_zero(after, exec_operations) == prometheus_value_or_zero(before, exec_operations) + 1);
    CHECK(prometheus_value_or_zero(after, exec_durations) == prometheus_value_or_zero(before, exec_durations) + 1);
    CHECK(prometheus_value_or_zero(after, exec_requests) == prometheus_value_or_zero(before, exec_requests) + 1);
    CHECK(prometheus_value_or_zero(after, "tether_output_bytes_received_total") >=
          prometheus_value_or_zero(before, "tether_output_bytes_received_total") + std::string("hello metrics").size());
    CHECK(prometheus_value(after, "tether_agents_connected") == 1);
    // The scrape of `before` is itself counted, by its route template.
    CHECK(prometheus_value_or_zero(after, R"(tether_http_requests_total{method="GET",route="/metrics",status="200"})") >=
          1);
    CHECK(after.find("/api/automation/v1/operations/" + string_field(json_object(response), "operation_id")) ==
          std::string::npos);
    // The loops run and are counted per loop.
    CHECK(prometheus_value_or_zero(after, R"(tether_loop_passes_total{loop="job-scheduler"})") >= 1);
  }
}
