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
  router.add(bhttp::verb::get, "/api/servers/{id}", [](RequestContext& c) {
    c.responder.send(Response{bhttp::status::ok, 11});
  });
  router.add(bhttp::verb::delete_, "/api/servers/{id}", [](RequestContext& c) {
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
  CHECK(routed.sink->responses[0][bhttp::field::allow] == "GET, DELETE");
}

TEST_CASE("a responder answers once; later sends are ignored", "[http][router]") {
  auto sink = std::make_shared<CapturingSink>();
  Responder responder(sink);
  CHECK(responder.send(Response{bhttp::status::ok, 11}));
  CHECK_FALSE(responder.send(Response{bhttp::status::internal_server_error, 11}));
  CHECK(sink->responses.size() == 1);
}
