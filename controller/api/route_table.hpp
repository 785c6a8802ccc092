#pragma once
// The controller's route table as plain data: what api::add_all_routes registers, read without
// serving anything. For the test that walks every route and for documentation. Free of Beast, so
// that a test using the HTTP client (common/http_client.hpp) can include it.
#include "controller/http/access.hpp"

#include <string>
#include <vector>

namespace tether::api {

struct RouteEntry {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // as registered: "/api/servers/{id}"
  http::Access access;
};

// In registration order.
std::vector<RouteEntry> route_table();

}  // namespace tether::api
