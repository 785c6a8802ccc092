// The controller's HTTP/1.x over raw sockets: a request it cannot serve safely (malformed request
// line, an HTTP version it does not speak, ambiguous framing) is answered 400 and the connection
// closed, never closed without a word; HEAD answers like GET without the body; a 404 does not echo
// a huge path.
#include "tests/e2e/e2e_checks.hpp"
#include "tests/support/raw_connection.hpp"

#include <boost/json.hpp>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;
using testing::RawConnection;

namespace {

testing::TetherStack& stack() {
  testing::StackOptions options;
  options.agents = 0;
  return shared_stack(options);
}

// Sends `request` on a new connection; returns everything the controller sent until it closed.
testing::RawConnection::Received send_alone(const std::string& request) {
  RawConnection connection(stack().port());
  REQUIRE(connection.send(request));
  return connection.read_until_closed(10s);
}

void check_refused_with_400(const std::string& request) {
  INFO("request: " << request.substr(0, 200));
  const auto received = send_alone(request);
  INFO("answer: " << received.bytes.substr(0, 500));
  CHECK(received.closed);
  REQUIRE(testing::status_of(received.bytes) == 400);
  CHECK(testing::header_of(received.bytes, "Connection") == "close");
  boost::system::error_code ec;
  const auto body = boost::json::parse(testing::body_of(received.bytes), ec);
  REQUIRE_FALSE(ec);
  CHECK(body.as_object().at("detail").is_string());
}

}  // namespace

TEST_CASE("a malformed request line is answered 400 and the connection closed", "[e2e][http]") {
  check_refused_with_400("GARBAGE\r\n\r\n");
  check_refused_with_400("GET\r\nHost: x\r\n\r\n");
  check_refused_with_400("GET /api/health HTTP/1.1 extra\r\nHost: x\r\n\r\n");
  check_refused_with_400("GET /api/health HTTX/1.1\r\nHost: x\r\n\r\n");
}

TEST_CASE("an HTTP version other than 1.0 and 1.1 is answered 400", "[e2e][http]") {
  check_refused_with_400("GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n");
  check_refused_with_400("GET /api/health HTTP/2.0\r\nHost: x\r\n\r\n");
  check_refused_with_400("GET /api/health HTTP/0.9\r\nHost: x\r\n\r\n");
}

TEST_CASE("two Content-Lengths, equal or not, are answered 400", "[e2e][http]") {
  check_refused_with_400("POST /api/servers HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x");
  check_refused_with_400("POST /api/servers HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}");
  check_refused_with_400("POST /api/servers HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}");
}

TEST_CASE("Content-Length together with Transfer-Encoding is answered 400", "[e2e][http]") {
  check_refused_with_400(
      "POST /api/servers HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  check_refused_with_400(
      "POST /api/servers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  check_refused_with_400("POST /api/servers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}");
}

TEST_CASE("a well-formed request on the same footing is still served", "[e2e][http]") {
  RawConnection connection(stack().port());
  REQUIRE(connection.send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto response = connection.read_response(10s);
  REQUIRE(response);
  CHECK(testing::status_of(*response) == 200);
}

TEST_CASE("HEAD answers like GET, with Content-Length and without the body", "[e2e][http]") {
  auto& s = stack();
  RawConnection connection(s.port());
  const std::string auth = "Authorization: Bearer " + s.admin_key() + "\r\n";
  for (const std::string target : {"/api/health", "/api/servers"}) {
    INFO(target);
    REQUIRE(connection.send("GET " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n"));
    const auto get = connection.read_response(10s);
    REQUIRE(get);
    REQUIRE(testing::status_of(*get) == 200);

    REQUIRE(connection.send("HEAD " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n"));
    const auto head = connection.read_response(10s, /*head_only=*/true);
    REQUIRE(head);
    CHECK(testing::status_of(*head) == 200);
    CHECK(testing::header_of(*head, "Content-Type") == testing::header_of(*get, "Content-Type"));
    const auto length = testing::header_of(*head, "Content-Length");
    REQUIRE(length);
    CHECK(std::stoul(*length) > 0);
    // No body follows the head: the next bytes on the connection are the next answer's.
    REQUIRE(connection.send("GET /api/nothing HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto next = connection.read_response(10s);
    REQUIRE(next);
    CHECK(testing::status_of(*next) == 404);
  }
  // Errors too: the head of the 401 a GET would get.
  REQUIRE(connection.send("HEAD /api/servers HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto unauthorized = connection.read_response(10s, true);
  REQUIRE(unauthorized);
  CHECK(testing::status_of(*unauthorized) == 401);
  REQUIRE(connection.send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto after = connection.read_response(10s);
  REQUIRE(after);
  CHECK(testing::status_of(*after) == 200);
}

TEST_CASE("a 404 for a 15 KB path does not echo the path", "[e2e][http]") {
  auto client = stack().client();
  const std::string path = "/api/" + std::string(15 * 1024, 'p');
  const auto response = client.get(path);
  check_error(response, 404);
  CHECK(response.body.size() < 300);
  CHECK(response.body.find(std::string(200, 'p')) == std::string::npos);
}
