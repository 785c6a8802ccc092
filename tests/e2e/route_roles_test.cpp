// Roles on every route (issue 11): every route the controller registers is called with no token,
// an operator key of each role (viewer, operator, admin) and an automation key, and each answer
// is checked against the access the route declares. The routes come from the router's own table
// (api::route_table()), so a route added later is walked without this file changing. The README's
// route table must list the same routes with the same access.
#include "controller/api/route_table.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/support/automation_api.hpp"

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#ifndef TETHER_SOURCE_DIR
#error "TETHER_SOURCE_DIR must name the source tree"
#endif

using namespace tether;
using namespace tether::e2e;
using tether::http::Access;

namespace {

// Who calls.
enum class Caller { nobody, viewer, operator_, admin, automation_key };

std::string_view caller_name(Caller caller) {
  switch (caller) {
    case Caller::nobody: return "no token";
    case Caller::viewer: return "viewer key";
    case Caller::operator_: return "operator key";
    case Caller::admin: return "admin key";
    case Caller::automation_key: return "automation key";
  }
  return "?";
}

// The rank of an operator role, as Access and as Caller.
int rank(Access access) {
  switch (access) {
    case Access::viewer: return 0;
    case Access::operator_: return 1;
    case Access::admin: return 2;
    default: throw std::logic_error("not an operator access");
  }
}
std::optional<int> rank(Caller caller) {
  switch (caller) {
    case Caller::viewer: return 0;
    case Caller::operator_: return 1;
    case Caller::admin: return 2;
    default: return std::nullopt;
  }
}

// The pattern with every {param} replaced by a fresh UUID: nothing by that id exists, so a caller
// that gets past authentication is answered 404 (or 422), never with someone's data.
std::string concrete_path(const std::string& pattern) {
  static const std::regex param(R"(\{[^}/]+\})");
  std::string out;
  auto begin = std::sregex_iterator(pattern.begin(), pattern.end(), param);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += pattern.substr(last, static_cast<std::size_t>(it->position()) - last);
    out += ids::new_uuid();
    last = static_cast<std::size_t>(it->position() + it->length());
  }
  return out + pattern.substr(last);
}

bool has_body(const std::string& method) { return method == "POST" || method == "PUT" || method == "PATCH"; }

struct Walk {
  testing::TestDatabase database;
  testing::TetherStack stack;
  std::map<Caller, std::string> tokens;

  Walk() : stack(database, options()) {
    tokens[Caller::viewer] = testing::create_operator_key(database, "walk-viewer", "viewer");
    tokens[Caller::operator_] = testing::create_operator_key(database, "walk-operator", "operator");
    tokens[Caller::admin] = testing::create_operator_key(database, "walk-admin", "admin");
    testing::AutomationKeySpec spec;
    spec.name = "walk-ci";
    spec.rate_limit_per_minute = 1000;
    tokens[Caller::automation_key] = stack.create_automation_key(spec).key;
  }

  static testing::StackOptions options() {
    testing::StackOptions out;
    out.master_key = true;  // registry credentials enabled, as in production
    // Every route is called without a token: those 401s must not turn into 429s halfway through.
    out.controller_args = {"--auth-failure-threshold", "100000"};
    return out;
  }

  // One call; a transport failure (e.g. a stream that never answers) is reported as status 0.
  http::Response call(Caller caller, const api::RouteEntry& route, const std::string& path) {
    auto options = stack.client_options();
    options.timeout = std::chrono::seconds(10);
    http::Client client(options);
    http::Headers headers;
    if (caller != Caller::nobody) headers.push_back(http::bearer(tokens.at(caller)));
    try {
      return client.request(route.method, path, has_body(route.method) ? "{}" : "", headers);
    } catch (const http::TransportError& error) {
      http::Response failed;
      failed.body = std::string("transport error: ") + error.what();
      return failed;
    }
  }
};

// What `caller` must be answered on a route declared `access`. `anonymous` is the same request's
// answer without a token.
void check_answer(Access access, Caller caller, const http::Response& response, const http::Response& anonymous) {
  INFO(caller_name(caller) << " -> " << testing::describe(response));
  REQUIRE(response.status != 0);
  // Whatever the caller, the server never fails: a 500 would also hide a route that asks for a
  // credential its declaration does not name.
  CHECK(response.status < 500);
  const bool refused = response.status == 401 || response.status == 403;
  switch (access) {
    case Access::public_:
      // No key is asked for, and none changes the answer. A public route may still refuse what
      // its own credential fails to prove (the global webhook answers 401 to a delivery whose
      // signature matches no trigger), so the check is that a key makes no difference, and that
      // no caller is ever told its role is too low.
      CHECK(response.status != 403);
      CHECK(response.status == anonymous.status);
      return;
    case Access::automation_key:
      if (caller == Caller::automation_key) {
        CHECK_FALSE(refused);
      } else if (caller == Caller::nobody) {
        check_v1_error(response, 401);
      } else {
        // An operator key, whatever its role, is not an automation key.
        CHECK(refused);
      }
      return;
    case Access::session:
      // A user's own session only: no API key, whatever its role, is one.
      if (caller == Caller::nobody) {
        check_error(response, 401);
      } else if (caller == Caller::automation_key) {
        CHECK(refused);  // not an operator credential at all
      } else {
        check_error(response, 403);
      }
      return;
    case Access::viewer:
    case Access::operator_:
    case Access::admin: {
      if (caller == Caller::nobody) {
        check_error(response, 401);
      } else if (caller == Caller::automation_key) {
        // An automation key is not an operator key.
        CHECK(refused);
      } else if (*rank(caller) < rank(access)) {
        check_error(response, 403);
      } else {
        CHECK_FALSE(refused);
      }
      return;
    }
  }
}

// The README's route table: rows "| `GET` | `/api/health` | public |".
std::vector<std::tuple<std::string, std::string, std::string>> readme_routes() {
  std::ifstream in(std::filesystem::path(TETHER_SOURCE_DIR) / "README.md");
  REQUIRE(in.good());
  static const std::regex row(R"(^\| `([A-Z]+)` \| `(/api/[^`]*|/metrics)` \| ([a-z_]+) \|\s*$)");
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch match;
    if (std::regex_match(line, match, row)) out.emplace_back(match[1], match[2], match[3]);
  }
  return out;
}

}  // namespace

TEST_CASE("every registered route answers each caller as its declared access says", "[e2e][roles]") {
  const auto routes = api::route_table();
  REQUIRE(routes.size() > 50);
  Walk walk;
  std::map<Access, int> walked;
  for (const auto& route : routes) {
    const auto path = concrete_path(route.pattern);
    INFO(route.method << " " << path << " (" << route.pattern << ", declared " << http::access_name(route.access)
                      << ")");
    const auto anonymous = walk.call(Caller::nobody, route, path);
    check_answer(route.access, Caller::nobody, anonymous, anonymous);
    for (const auto caller : {Caller::viewer, Caller::operator_, Caller::admin, Caller::automation_key}) {
      check_answer(route.access, caller, walk.call(caller, route, path), anonymous);
    }
    ++walked[route.access];
  }
  // Each kind of access is exercised by at least one route, and health answers everyone.
  const auto health = walk.call(Caller::nobody, {"GET", "/api/health", Access::public_}, "/api/health");
  CHECK(health.status == 200);
  for (const auto access :
       {Access::public_, Access::automation_key, Access::viewer, Access::operator_, Access::admin, Access::session}) {
    INFO(http::access_name(access));
    CHECK(walked[access] > 0);
  }
}

TEST_CASE("the README's route table is the router's", "[e2e][roles]") {
  const auto routes = api::route_table();
  std::set<std::tuple<std::string, std::string, std::string>> in_code;
  std::ostringstream expected;
  expected << "| Method | Path | Access |\n|---|---|---|\n";
  for (const auto& route : routes) {
    in_code.emplace(route.method, route.pattern, std::string(http::access_name(route.access)));
    expected << "| `" << route.method << "` | `" << route.pattern << "` | " << http::access_name(route.access)
             << " |\n";
  }
  const auto rows = readme_routes();
  const std::set<std::tuple<std::string, std::string, std::string>> in_readme(rows.begin(), rows.end());
  INFO("the README's table should read (in the router's order):\n" << expected.str());
  CHECK(rows.size() == in_readme.size());  // no row twice
  for (const auto& [method, pattern, access] : in_code) {
    INFO("in the code, not in the README: " << method << " " << pattern << " " << access);
    CHECK(in_readme.contains({method, pattern, access}));
  }
  for (const auto& [method, pattern, access] : in_readme) {
    INFO("in the README, not in the code: " << method << " " << pattern << " " << access);
    CHECK(in_code.contains({method, pattern, access}));
  }
}
