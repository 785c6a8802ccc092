// Issue 12 §4: GET /api/servers pages a fleet of 2,500 servers. A client that walks the pages
// (passing next_cursor back until it is null) sees every server exactly once, in name order, with
// or without the filters (status, tag, name_prefix) and whatever the page size; servers added
// while it walks do not shift the others.
#include "tests/e2e/e2e_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace tether;
using namespace tether::e2e;

namespace {

constexpr int first_registered = 2400;  // fleet-0000 … fleet-2399
constexpr int name_reused_every = 24;   // every 24th of them is decommissioned, and its name registered again

struct Server {
  std::string id, name, status;
  std::vector<std::string> tags;
};

std::vector<std::string> tags_of(int i) {
  if (i % 3 == 0) return {"prod", "eu"};
  if (i % 3 == 1) return {"prod"};
  return {"dev"};
}

struct Fleet {
  testing::TestDatabase database;
  testing::TetherStack stack{database, [] {
                               testing::StackOptions options;
                               options.agents = 0;
                               return options;
                             }()};
  std::map<std::string, Server> servers;  // by id
  double register_seconds = 0;
};

// Registers `names` (with their index for tags) through POST /api/servers on four connections.
std::vector<Server> register_servers(testing::TetherStack& stack, const std::vector<std::pair<int, std::string>>& names) {
  std::vector<Server> out(names.size());
  std::vector<std::string> failures(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto client = stack.client();
      for (std::size_t i = t; i < names.size(); i += 4) {
        boost::json::array tags;
        for (const auto& tag : tags_of(names[i].first)) tags.emplace_back(tag);
        const auto body = boost::json::serialize(boost::json::object{{"name", names[i].second}, {"tags", tags}});
        const auto response = client.post("/api/servers", body, {http::bearer(stack.admin_key())});
        if (response.status != 201) {
          failures[t] = describe(response);
          return;
        }
        const auto created = json_object(response);
        out[i] = Server{string_field(created, "id"), names[i].second, "provisioning", tags_of(names[i].first)};
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) {
    if (!failure.empty()) throw std::runtime_error("POST /api/servers: " + failure);
  }
  return out;
}

// 2,500 servers: 2,400 registered, every 24th decommissioned (100 of them) and its name
// registered again, so that 100 names are each held by two servers (a tie on the sort key).
Fleet& fleet() {
  static const std::unique_ptr<Fleet> shared = [] {
    auto fleet = std::make_unique<Fleet>();
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::pair<int, std::string>> names;
    for (int i = 0; i < first_registered; ++i) names.emplace_back(i, fmt::format("fleet-{:04}", i));
    for (auto& server : register_servers(fleet->stack, names)) fleet->servers[server.id] = server;
    std::vector<std::pair<int, std::string>> again;
    for (auto& [id, server] : fleet->servers) {
      const int i = std::stoi(server.name.substr(6));
      if (i % name_reused_every != 0) continue;
      const auto response = fleet->stack.admin("DELETE", "/api/servers/" + id);
      if (response.status != 200) throw std::runtime_error("DELETE /api/servers: " + describe(response));
      server.status = "decommissioned";
      again.emplace_back(i, server.name);
    }
    for (auto& server : register_servers(fleet->stack, again)) fleet->servers[server.id] = server;
    if (fleet->servers.size() != 2500) throw std::runtime_error("the fleet is not 2,500 servers");
    fleet->register_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return fleet;
  }();
  return *shared;
}

struct Filter {
  std::optional<std::string> status, tag, name_prefix;
  bool matches(const Server& server) const {
    return (!status || server.status == *status) &&
           (!tag || std::find(server.tags.begin(), server.tags.end(), *tag) != server.tags.end()) &&
           (!name_prefix || server.name.rfind(*name_prefix, 0) == 0);
  }
  std::string query() const {
    std::string out;
    if (status) out += "&status=" + *status;
    if (tag) out += "&tag=" + *tag;
    if (name_prefix) out += "&name_prefix=" + *name_prefix;
    return out;
  }
};

// The fleet's servers that match, as the list orders them: by name (byte by byte), then id.
std::vector<std::string> expected_ids(const Fleet& fleet, const Filter& filter) {
  std::vector<const Server*> matching;
  for (const auto& [id, server] : fleet.servers) {
    if (filter.matches(server)) matching.push_back(&server);
  }
  std::sort(matching.begin(), matching.end(),
            [](const Server* a, const Server* b) { return std::tie(a->name, a->id) < std::tie(b->name, b->id); });
  std::vector<std::string> ids;
  for (const auto* server : matching) ids.push_back(server->id);
  return ids;
}

struct Walk {
  std::vector<std::string> ids;
  int pages = 0;
  double seconds = 0;
};

// GET /api/servers?limit=…&<filters> and then each next_cursor until it is null. `between_pages`
// runs after each page but the last.
Walk walk(testing::TetherStack& stack, std::optional<int> limit, const Filter& filter,
          const std::function<void(int)>& between_pages = {}) {
  Walk out;
  const auto started = std::chrono::steady_clock::now();
  auto client = stack.client();
  std::optional<std::string> cursor;
  const std::size_t page_size = limit ? static_cast<std::size_t>(*limit) : 100;
  for (;;) {
    std::string target = "/api/servers?" + (limit ? "limit=" + std::to_string(*limit) : std::string()) + filter.query();
    if (cursor) target += "&cursor=" + *cursor;
    const auto response = client.get(target, {http::bearer(stack.admin_key())});
    INFO(target << ": " << describe(response).substr(0, 2000));
    REQUIRE(response.status == 200);
    const auto body = json_object(response);
    ++out.pages;
    const auto& servers = body.at("servers").as_array();
    REQUIRE(servers.size() <= page_size);
    for (const auto& server : servers) out.ids.emplace_back(server.as_object().at("id").as_string());
    REQUIRE(body.contains("next_cursor"));
    const auto& next = body.at("next_cursor");
    if (next.is_null()) break;
    REQUIRE(next.is_string());
    REQUIRE(servers.size() == page_size);  // only the last page is short
    cursor = std::string(next.as_string());
    REQUIRE(out.pages < 10'000);
    if (between_pages) between_pages(out.pages);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

void check_walk(const Walk& walked, const std::vector<std::string>& expected) {
  CHECK(std::set<std::string>(walked.ids.begin(), walked.ids.end()).size() == walked.ids.size());  // no duplicate
  CHECK(walked.ids.size() == expected.size());
  CHECK(walked.ids == expected);  // none missing, in name-then-id order
}

}  // namespace

TEST_CASE("2,500 servers are walked page by page, each exactly once, in name order", "[e2e][pages]") {
  auto& f = fleet();
  REQUIRE(f.servers.size() >= 2500);
  WARN(fmt::format("registered 2,500 servers through POST /api/servers (4 connections) in {:.1f} s",
                   f.register_seconds));
  const auto all = expected_ids(f, {});
  for (std::optional<int> limit : {std::optional<int>(300), std::optional<int>(1000), std::optional<int>()}) {
    INFO("limit " << (limit ? std::to_string(*limit) : "default"));
    const auto walked = walk(f.stack, limit, {});
    check_walk(walked, all);
    const auto page_size = static_cast<std::size_t>(limit.value_or(100));
    CHECK(walked.pages == static_cast<int>((all.size() + page_size - 1) / page_size));
    WARN(fmt::format("limit {}: {} pages in {:.3f} s", limit ? std::to_string(*limit) : "default (100)",
                     walked.pages, walked.seconds));
  }
}

TEST_CASE("the filters combine with the cursor: each matching server exactly once", "[e2e][pages]") {
  auto& f = fleet();
  struct Case {
    Filter filter;
    int limit;
  };
  const std::vector<Case> cases = {
      {{std::nullopt, std::string("eu"), std::nullopt}, 300},
      {{std::string("decommissioned"), std::nullopt, std::nullopt}, 7},
      {{std::nullopt, std::nullopt, std::string("fleet-01")}, 10},  // 100 names, 5 of them twice
      {{std::string("provisioning"), std::string("prod"), std::string("fleet-1")}, 50},
      {{std::string("decommissioned"), std::string("eu"), std::string("fleet-2")}, 3},
  };
  for (const auto& c : cases) {
    INFO("filters" << c.filter.query() << ", limit " << c.limit);
    const auto expected = expected_ids(f, c.filter);
    REQUIRE(expected.size() > static_cast<std::size_t>(c.limit));  // more than one page
    check_walk(walk(f.stack, c.limit, c.filter), expected);
  }
  // A filter nothing matches: one empty page.
  const auto none = walk(f.stack, 100, {std::nullopt, std::nullopt, std::string("no-such-")});
  CHECK(none.ids.empty());
  CHECK(none.pages == 1);
}

TEST_CASE("servers registered while a client walks do not shift the others", "[e2e][pages]") {
  auto& f = fleet();
  const auto before = expected_ids(f, {});
  std::vector<std::pair<std::string, std::string>> added;  // id, name
  const auto walked = walk(f.stack, 250, {}, [&](int pages) {
    if (pages != 3) return;
    // One name before the page the walk is at, one after it.
    for (const char* name : {"fleet-0000-late", "fleet-9999-late"}) {
      const auto response = f.stack.admin("POST", "/api/servers", fmt::format(R"({{"name":"{}"}})", name));
      REQUIRE(response.status == 201);
      added.emplace_back(std::string(json_object(response).at("id").as_string()), name);
    }
  });
  REQUIRE(added.size() == 2);
  std::vector<std::string> seen_before;
  for (const auto& id : walked.ids) {
    if (id != added[0].first && id != added[1].first) seen_before.push_back(id);
  }
  CHECK(seen_before == before);  // every server that was there all along, once, in order
  CHECK(std::count(walked.ids.begin(), walked.ids.end(), added[0].first) == 0);  // behind the walk
  CHECK(std::count(walked.ids.begin(), walked.ids.end(), added[1].first) == 1);  // ahead of it
  for (const auto& [id, name] : added) {
    CHECK(f.stack.admin("DELETE", "/api/servers/" + id).status == 200);
    f.servers[id] = Server{id, name, "decommissioned", {}};  // as the other cases will find it
  }
}

TEST_CASE("a list refuses a cursor it did not make, a limit out of range and an unknown status", "[e2e][pages]") {
  auto& f = fleet();
  auto client = f.stack.client();
  const auto get = [&](const std::string& target) { return client.get(target, {http::bearer(f.stack.admin_key())}); };
  const auto refused = [&](const std::string& target, const std::string& field) {
    INFO(target);
    const auto response = get(target);
    check_error(response, 422);
    CHECK(string_field(json_object(response), "detail").rfind(field + ":", 0) == 0);
  };
  refused("/api/servers?cursor=not-a-cursor", "cursor");
  refused("/api/servers?limit=0", "limit");
  refused("/api/servers?limit=1001", "limit");
  refused("/api/servers?status=gone", "status");
  refused("/api/servers?tag=", "tag");
  refused("/api/servers?name_prefix=", "name_prefix");
  // The audit log's ids are integers: a cursor of servers (a UUID id) is not one of its cursors.
  const auto first = json_object(get("/api/servers?limit=1"));
  REQUIRE(first.at("next_cursor").is_string());
  refused("/api/audit?cursor=" + std::string(first.at("next_cursor").as_string()), "cursor");
  // Object answers carry the cursor in the body, not in headers.
  const auto page = get("/api/servers?limit=5");
  CHECK_FALSE(page.header("X-Next-Cursor").has_value());
  CHECK_FALSE(page.header("Link").has_value());
}

TEST_CASE("the audit log of the fleet's registrations is walked page by page, each entry once", "[e2e][pages]") {
  auto& f = fleet();
  std::size_t created = 0, decommissioned = 0;
  for (const auto& [id, server] : f.servers) {
    ++created;
    if (server.status == "decommissioned") ++decommissioned;
  }
  // GET /api/audit?action_prefix=servers.&limit=…, then each next_cursor: newest first.
  const auto walk_audit = [&](int limit) {
    std::vector<std::int64_t> ids;
    std::map<std::string, std::size_t> actions;
    auto client = f.stack.client();
    std::string cursor;
    for (int pages = 0;; ++pages) {
      REQUIRE(pages < 1000);
      const auto target = "/api/audit?action_prefix=servers.&limit=" + std::to_string(limit) +
                          (cursor.empty() ? std::string() : "&cursor=" + cursor);
      const auto response = client.get(target, {http::bearer(f.stack.admin_key())});
      INFO(target << ": " << describe(response).substr(0, 2000));
      REQUIRE(response.status == 200);
      const auto body = json_object(response);
      const auto& entries = body.at("entries").as_array();
      REQUIRE(entries.size() <= static_cast<std::size_t>(limit));
      for (const auto& entry : entries) {
        ids.push_back(int_field(entry.as_object(), "id"));
        ++actions[string_field(entry.as_object(), "action")];
      }
      if (body.at("next_cursor").is_null()) break;
      REQUIRE(entries.size() == static_cast<std::size_t>(limit));
      cursor = std::string(body.at("next_cursor").as_string());
    }
    return std::make_pair(ids, actions);
  };
  const auto [by_1000, actions] = walk_audit(1000);
  CHECK(std::set<std::int64_t>(by_1000.begin(), by_1000.end()).size() == by_1000.size());
  CHECK(actions.at("servers.create") == created);
  CHECK(actions.at("servers.decommission") == decommissioned);
  CHECK(walk_audit(77).first == by_1000);  // the same entries in the same order, whatever the page size
}
