#pragma once
// What the OpenAPI document says of each route beyond what the router knows (method, path and
// access come from the route table itself): a summary, the query parameters, the body it takes
// and what it answers. One entry per registered route; tests/controller/api/openapi_test.cpp
// fails when a registered route has none or an entry names a route that is not registered.
#include <string_view>
#include <vector>

namespace tether::api::openapi {

struct RouteDoc {
  std::string_view method;    // "GET", "POST", ...
  std::string_view pattern;   // as registered: "/api/servers/{id}"
  std::string_view tag;       // the group it is listed under
  std::string_view summary;
  std::string_view query;     // comma-separated query parameter names (see query_parameter_doc)
  std::string_view request;   // a component schema name ("?Name": the body is optional), or empty: no body
  int status;                 // the success answer's status code
  std::string_view response;  // a component schema name; "sse": an event stream; empty: no body
};

const std::vector<RouteDoc>& route_docs();

// The description and JSON Schema type of a query parameter named in RouteDoc::query; nullptr when
// no parameter of that name is described.
struct QueryParameterDoc {
  std::string_view name, type, format, description;
};
const QueryParameterDoc* query_parameter_doc(std::string_view name);

}  // namespace tether::api::openapi
