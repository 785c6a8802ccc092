// Every route declares its access where it is added, and the router lists what was added: the
// route table that the end-to-end walk (tests/e2e/route_roles_test.cpp) and the README follow.
#include "controller/api/route_table.hpp"
#include "controller/http/router.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <utility>

using namespace tether;
using namespace tether::http;

namespace {

// A route cannot be added without an access: there is no such overload.
template <class R>
concept adds_without_access = requires(R router, Handler handler) {
  router.add(bhttp::verb::get, std::string("/api/x"), std::move(handler));
};
template <class R>
concept adds_with_access = requires(R router, Handler handler) {
  router.add(bhttp::verb::get, std::string("/api/x"), Access::viewer, std::move(handler));
};
static_assert(!adds_without_access<Router>, "Router::add must require an Access");
static_assert(adds_with_access<Router>);

struct NullSink : ResponseSink {
  void deliver(Response) override {}
  void deliver_event_stream(std::shared_ptr<StreamProducer>) override {}
};

// The access the router hands the handler of `method target`, or nullopt when none ran.
std::optional<Access> access_seen(const Router& router, bhttp::verb method, const std::string& target) {
  RequestContext context{Request{method, target, 11}, "127.0.0.1", {}, Responder(std::make_shared<NullSink>())};
  router.route(context);
  return context.responder.answered() ? std::optional<Access>(context.access) : std::nullopt;
}

Handler answering() {
  return [](RequestContext& c) { c.responder.send(Response{bhttp::status::ok, 11}); };
}

}  // namespace

TEST_CASE("the router lists every route added, in order, with its access", "[http][route_table]") {
  Router router;
  CHECK(router.routes().empty());
  router.add(bhttp::verb::get, "/api/health", Access::public_, answering());
  router.add(bhttp::verb::post, "/api/automation/v1/exec", Access::automation_key, answering());
  router.add(bhttp::verb::get, "/api/servers/{id}", Access::viewer, answering());
  router.add(bhttp::verb::patch, "/api/servers/{id}", Access::operator_, answering());
  router.add(bhttp::verb::delete_, "/api/servers/{id}", Access::admin, answering());

  const auto routes = router.routes();
  REQUIRE(routes.size() == 5);
  const std::vector<std::tuple<bhttp::verb, std::string, Access>> expected{
      {bhttp::verb::get, "/api/health", Access::public_},
      {bhttp::verb::post, "/api/automation/v1/exec", Access::automation_key},
      {bhttp::verb::get, "/api/servers/{id}", Access::viewer},
      {bhttp::verb::patch, "/api/servers/{id}", Access::operator_},
      {bhttp::verb::delete_, "/api/servers/{id}", Access::admin}};
  for (std::size_t i = 0; i < routes.size(); ++i) {
    INFO("route " << i);
    CHECK(routes[i].method == std::get<0>(expected[i]));
    CHECK(routes[i].pattern == std::get<1>(expected[i]));
    CHECK(routes[i].access == std::get<2>(expected[i]));
  }
}

TEST_CASE("the matched route's access is in the context its handler sees", "[http][route_table]") {
  Router router;
  router.add(bhttp::verb::get, "/api/servers/{id}", Access::viewer, answering());
  router.add(bhttp::verb::patch, "/api/servers/{id}", Access::operator_, answering());
  router.add(bhttp::verb::delete_, "/api/servers/{id}", Access::admin, answering());
  CHECK(access_seen(router, bhttp::verb::get, "/api/servers/1") == Access::viewer);
  CHECK(access_seen(router, bhttp::verb::head, "/api/servers/1") == Access::viewer);
  CHECK(access_seen(router, bhttp::verb::patch, "/api/servers/1?x=1") == Access::operator_);
  CHECK(access_seen(router, bhttp::verb::delete_, "/api/servers/1") == Access::admin);
}

TEST_CASE("access names round-trip", "[http][route_table]") {
  for (const auto access : {Access::public_, Access::automation_key, Access::viewer, Access::operator_, Access::admin}) {
    CHECK(parse_access(access_name(access)) == access);
  }
  CHECK_FALSE(parse_access("operator_").has_value());
}

TEST_CASE("the controller's route table: one entry per method and path, each with its access", "[http][route_table]") {
  const auto routes = api::route_table();
  REQUIRE(routes.size() > 50);
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& route : routes) {
    INFO(route.method << " " << route.pattern);
    // Prometheus's conventional /metrics aside, everything is under /api/.
    CHECK((route.pattern.starts_with("/api/") || route.pattern == "/metrics"));
    CHECK(seen.emplace(route.method, route.pattern).second);
    // The CI surface is the automation keys', and only it.
    CHECK((route.access == Access::automation_key) == route.pattern.starts_with("/api/automation/v1/"));
    // The keys and the audit are never open.
    if (route.pattern.starts_with("/api/automation-keys") || route.pattern == "/api/audit") {
      CHECK(route.access != Access::public_);
    }
  }
  const auto access_of = [&](std::string_view method, std::string_view pattern) -> std::optional<Access> {
    for (const auto& route : routes) {
      if (route.method == method && route.pattern == pattern) return route.access;
    }
    return std::nullopt;
  };
  CHECK(access_of("GET", "/api/health") == Access::public_);
  CHECK(access_of("GET", "/metrics") == Access::viewer);
  CHECK(access_of("GET", "/api/audit") == Access::admin);
  CHECK(access_of("POST", "/api/servers") == Access::admin);
  CHECK(access_of("GET", "/api/servers") == Access::viewer);
}
