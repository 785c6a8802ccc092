#pragma once
// The OpenAPI 3.1 document of the controller's API, built from the route table the router
// serves (method, path and access of every route) and the docs of each route (route_docs.hpp).
// A registered route without docs still appears, marked undocumented, so the document never
// hides a route; the OpenAPI test fails on it.
#include "controller/api/route_table.hpp"

#include <boost/json.hpp>

#include <string_view>
#include <vector>

namespace tether::api::openapi {

boost::json::object document(const std::vector<RouteEntry>& routes, std::string_view version);

}  // namespace tether::api::openapi
