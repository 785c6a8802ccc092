// The same exec over TLS: the controller serves a certificate, the agent dials wss:// trusting it
// through --ca-file, and the client verifies it too.
#include "tests/e2e/e2e_checks.hpp"

using namespace tether;
using namespace tether::e2e;

namespace {
testing::TetherStack& tls_stack() {
  testing::StackOptions options;
  options.tls = true;
  return shared_stack(options);
}
}  // namespace

TEST_CASE("exec over TLS gives the same result as over plain HTTP", "[e2e][tls]") {
  auto& stack = tls_stack();  // the agent is connected (server active) through wss:// by now
  REQUIRE(stack.base_url().rfind("https://", 0) == 0);
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  const auto response = testing::exec(client, key.key, exec_body(stack.server_id(), "echo hi; echo err >&2; exit 3"));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "completed");
  CHECK(int_field(body, "exit_code") == 3);
  CHECK(string_field(body, "stdout") == "hi\n");
  CHECK(string_field(body, "stderr") == "err\n");

  const auto polled = testing::get_operation(client, key.key, string_field(body, "operation_id"));
  REQUIRE(polled.status == 200);
  CHECK(string_field(json_object(polled).at("result").as_object(), "stdout") == "hi\n");
}

TEST_CASE("a TLS client that does not trust the controller's certificate cannot connect", "[e2e][tls]") {
  auto& stack = tls_stack();
  auto options = stack.client_options();
  options.ca_file.clear();  // the system trust store does not know the self-signed certificate
  http::Client untrusting(options);
  CHECK_THROWS_WITH(untrusting.get("/api/health"), Catch::Contains("TLS handshake"));
}

TEST_CASE("the TLS controller does not answer plain HTTP", "[e2e][tls]") {
  auto& stack = tls_stack();
  auto options = stack.client_options();
  options.tls = false;
  options.timeout = std::chrono::seconds(5);
  http::Client plain(options);
  try {
    const auto response = plain.get("/api/health");
    CHECK(response.status != 200);
  } catch (const http::TransportError&) {
    SUCCEED("the connection was refused at the TLS layer");
  }
}
