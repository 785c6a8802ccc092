#include "controller/http/router.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace tether::http;

namespace {

// Collects what the router answers.
struct CapturingSink : ResponseSink {
  std::vector<Response> responses;
  void deliver(Response response) override { responses.push_back(std::move(response)); }
  void deliver_event_stream(std::shared_ptr<StreamProducer>) override {
    FAIL("the router never streams: only handlers do");
  }
};

struct Routed {
  std::shared_ptr<CapturingSink> sink = std::make_shared<CapturingSink>();
  std::map<std::string, std::string> params;
};

Routed route(const Router& router, bhttp::verb method, const std::string& target) {
  Routed out;
  Request request{method, target, 11};
  RequestContext context{std::move(request), "127.0.0.1", {}, Responder(out.sink)};
  router.route(context);
  out.params = context.path_params;
  return out;
}

Router example_router() {
  Router router;
  router.add(bhttp::verb::get, "/api/servers/{id}", Access::viewer, [](RequestContext& c) {
    c.responder.send(Response{bhttp::status::ok, 11});
  });
  router.add(bhttp::verb::delete_, "/api/servers/{id}", Access::admin, [](RequestContext& c) {
    c.responder.send(Response{bhttp::status::no_content, 11});
  });
  return router;
}

}  // namespace

TEST_CASE("path parameters are captured and the query string ignored", "[http][router]") {
  const auto routed = route(example_router(), bhttp::verb::get, "/api/servers/abc?verbose=1");
  REQUIRE(routed.sink->responses.size() == 1);
  CHECK(routed.sink->responses[0].result() == bhttp::status::ok);
  CHECK(routed.params.at("id") == "abc");
}

TEST_CASE("unknown paths answer 404 with a detail", "[http][router]") {
  const auto routed = route(example_router(), bhttp::verb::get, "/api/nothing");
  REQUIRE(routed.sink->responses.size() == 1);
  CHECK(routed.sink->responses[0].result() == bhttp::status::not_found);
  CHECK(boost::json::parse(routed.sink->responses[0].body()).at("detail").is_string());
}

TEST_CASE("a known path with another method answers 405 listing the allowed ones", "[http][router]") {
  const auto routed = route(example_router(), bhttp::verb::post, "/api/servers/abc");
  REQUIRE(routed.sink->responses.size() == 1);
  CHECK(routed.sink->responses[0].result() == bhttp::status::method_not_allowed);
  CHECK(routed.sink->responses[0][bhttp::field::allow] == "GET, HEAD, DELETE");
}

TEST_CASE("a responder answers once; later sends are ignored", "[http][router]") {
  auto sink = std::make_shared<CapturingSink>();
  Responder responder(sink);
  CHECK(responder.send(Response{bhttp::status::ok, 11}));
  CHECK_FALSE(responder.send(Response{bhttp::status::internal_server_error, 11}));
  CHECK(sink->responses.size() == 1);
}

TEST_CASE("HEAD is served by the GET route and listed wherever GET is allowed", "[http][router]") {
  const auto head = route(example_router(), bhttp::verb::head, "/api/servers/abc");
  REQUIRE(head.sink->responses.size() == 1);
  CHECK(head.sink->responses[0].result() == bhttp::status::ok);
  CHECK(head.params.at("id") == "abc");
  const auto post = route(example_router(), bhttp::verb::post, "/api/servers/abc");
  REQUIRE(post.sink->responses.size() == 1);
  CHECK(post.sink->responses[0][bhttp::field::allow] == "GET, HEAD, DELETE");
}

TEST_CASE("a 404 echoes only the head of a long path, as valid UTF-8", "[http][router]") {
  const std::string long_path = "/api/" + std::string(15 * 1024, 'a');
  const auto routed = route(example_router(), bhttp::verb::get, long_path);
  REQUIRE(routed.sink->responses.size() == 1);
  CHECK(routed.sink->responses[0].result() == bhttp::status::not_found);
  CHECK(routed.sink->responses[0].body().size() < 300);
  const std::string detail(boost::json::parse(routed.sink->responses[0].body()).at("detail").as_string());
  CHECK_THAT(detail, Catch::StartsWith("no such endpoint: /api/aaa") && Catch::EndsWith("..."));

  const auto invalid = route(example_router(), bhttp::verb::get, "/api/\xFF\xFE");
  boost::system::error_code ec;
  boost::json::parse(invalid.sink->responses.at(0).body(), ec);
  CHECK_FALSE(ec);
}
