// The OpenAPI document lists exactly the routes the router serves, each with its docs, and every
// schema it refers to exists. (Its validity as OpenAPI 3.1 is checked by tests/openapi/.)
#include "controller/api/openapi/openapi_document.hpp"
#include "controller/api/openapi/route_docs.hpp"
#include "controller/api/route_table.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace tether;
using namespace tether::api;

namespace {

std::set<std::string> refs_in(const boost::json::value& value) {
  std::set<std::string> refs;
  if (value.is_object()) {
    for (const auto& [key, child] : value.as_object()) {
      if (key == "$ref" && child.is_string()) refs.insert(std::string(child.as_string()));
      refs.merge(refs_in(child));
    }
  } else if (value.is_array()) {
    for (const auto& child : value.as_array()) refs.merge(refs_in(child));
  }
  return refs;
}

}  // namespace

TEST_CASE("every registered route has docs, and every documented route is registered", "[openapi]") {
  std::set<std::pair<std::string, std::string>> registered;
  for (const auto& route : route_table()) registered.emplace(route.method, route.pattern);
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& doc : openapi::route_docs()) {
    INFO(doc.method << " " << doc.pattern);
    CHECK(documented.emplace(std::string(doc.method), std::string(doc.pattern)).second);  // no duplicates
  }
  for (const auto& route : registered) {
    INFO("registered but not documented: " << route.first << " " << route.second);
    CHECK(documented.count(route) == 1);
  }
  for (const auto& doc : documented) {
    INFO("documented but not registered: " << doc.first << " " << doc.second);
    CHECK(registered.count(doc) == 1);
  }
}

TEST_CASE("the document has one operation per route, with its access, and no unresolved reference", "[openapi]") {
  const auto routes = route_table();
  const auto document = openapi::document(routes, "0.0.0-test");
  CHECK(document.at("openapi").as_string() == "3.1.0");
  const auto& paths = document.at("paths").as_object();
  std::size_t operations = 0;
  for (const auto& [path, item] : paths) operations += item.as_object().size();
  CHECK(operations == routes.size());
  for (const auto& route : routes) {
    INFO(route.method << " " << route.pattern);
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto& operation = paths.at(route.pattern).as_object().at(method).as_object();
    CHECK(operation.at("x-tether-access").as_string() == http::access_name(route.access));
    CHECK(operation.at("summary").as_string() != "Undocumented");
    // A path parameter in the pattern is declared.
    for (std::size_t open = route.pattern.find('{'); open != std::string::npos; open = route.pattern.find('{', open + 1)) {
      const auto name = route.pattern.substr(open + 1, route.pattern.find('}', open) - open - 1);
      bool declared = false;
      for (const auto& parameter : operation.at("parameters").as_array()) {
        declared = declared || (parameter.at("name").as_string() == name && parameter.at("in").as_string() == "path");
      }
      CHECK(declared);
    }
    // Public routes ask for no credential; the others for the right kind.
    const auto& security = operation.at("security").as_array();
    if (route.access == http::Access::public_) {
      CHECK(security.empty());
    } else {
      REQUIRE(security.size() == 1);
      CHECK(security[0].as_object().contains(route.access == http::Access::automation_key ? "automationKey"
                                                                                           : "operatorBearer"));
    }
  }
  const auto& schemas = document.at("components").as_object().at("schemas").as_object();
  for (const auto& ref : refs_in(document)) {
    INFO(ref);
    REQUIRE(ref.rfind("#/components/schemas/", 0) == 0);
    CHECK(schemas.contains(ref.substr(std::string("#/components/schemas/").size())));
  }
}

TEST_CASE("every query parameter a route names is described", "[openapi]") {
  for (const auto& doc : openapi::route_docs()) {
    std::string_view query = doc.query;
    while (!query.empty()) {
      const auto comma = query.find(',');
      const auto name = query.substr(0, comma);
      INFO(doc.method << " " << doc.pattern << " ?" << name);
      CHECK(openapi::query_parameter_doc(name) != nullptr);
      if (comma == std::string_view::npos) break;
      query.remove_prefix(comma + 1);
    }
  }
}
