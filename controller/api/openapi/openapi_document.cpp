#include "controller/api/openapi/openapi_document.hpp"

#include "controller/api/openapi/route_docs.hpp"
#include "controller/api/openapi/schemas.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace tether::api::openapi {
namespace {

const RouteDoc* doc_of(const RouteEntry& route) {
  for (const auto& doc : route_docs()) {
    if (doc.method == route.method && doc.pattern == route.pattern) return &doc;
  }
  return nullptr;
}

std::vector<std::string> path_parameters(const std::string& pattern) {
  std::vector<std::string> names;
  for (std::size_t open = pattern.find('{'); open != std::string::npos; open = pattern.find('{', open + 1)) {
    const auto close = pattern.find('}', open);
    if (close == std::string::npos) break;
    names.push_back(pattern.substr(open + 1, close - open - 1));
  }
  return names;
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const auto comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

boost::json::object schema_ref(std::string_view name) {
  return {{"$ref", fmt::format("#/components/schemas/{}", name)}};
}

// "post /api/automation/jobs/{id}/trigger" -> "postApiAutomationJobsIdTrigger".
std::string operation_id(const std::string& method, const std::string& pattern) {
  std::string id;
  for (const char c : method) id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool upper = true;
  for (const char c : pattern) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  return id;
}

std::string_view access_description(http::Access access) {
  switch (access) {
    case http::Access::public_: return "No credential (an inbound webhook's signature or path token is its credential).";
    case http::Access::automation_key: return "An rca_ automation key, within its scopes, IP allowlist and rate limit.";
    case http::Access::viewer: return "An operator key (tak_) or login session (tss_) of role viewer or above.";
    case http::Access::operator_: return "An operator key or login session of role operator or above.";
    case http::Access::admin: return "An operator key or login session of role admin.";
    case http::Access::session: return "The caller's own login session (tss_), of any role; API keys get 403.";
  }
  return "";
}

boost::json::object content_of(std::string_view response) {
  if (response == "sse") {
    return {{"text/event-stream", {{"schema", {{"type", "string"}}}}}};
  }
  if (response == "html") {
    return {{"text/html", {{"schema", {{"type", "string"}}}}}};
  }
  if (response == "prometheus") {  // the text exposition format, version 0.0.4
    return {{"text/plain", {{"schema", {{"type", "string"}}}}}};
  }
  return {{"application/json", {{"schema", schema_ref(response)}}}};
}

boost::json::object error_answer(std::string_view description, bool v1) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", schema_ref(v1 ? "V1Error" : "Error")}}}}}};
}

boost::json::object operation_of(const RouteEntry& route, const RouteDoc* doc) {
  boost::json::object operation;
  operation["operationId"] = operation_id(route.method, route.pattern);
  operation["tags"] = boost::json::array{doc ? doc->tag : "undocumented"};
  operation["summary"] = doc ? doc->summary : "Undocumented";
  operation["description"] = access_description(route.access);
  operation["x-tether-access"] = http::access_name(route.access);
  const bool v1 = route.access == http::Access::automation_key;

  boost::json::array parameters;
  for (const auto& name : path_parameters(route.pattern)) {
    parameters.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  if (doc) {
    for (const auto name : split_commas(doc->query)) {
      boost::json::object schema{{"type", "string"}};
      std::string_view description = "Undocumented";
      if (const auto* parameter = query_parameter_doc(name)) {
        schema["type"] = parameter->type;
        if (!parameter->format.empty()) schema["format"] = parameter->format;
        description = parameter->description;
      }
      parameters.push_back({{"name", name}, {"in", "query"}, {"required", false}, {"description", description},
                            {"schema", std::move(schema)}});
    }
  }
  if (!parameters.empty()) operation["parameters"] = std::move(parameters);

  if (doc && !doc->request.empty()) {
    // "?Name": the body may be left out.
    const bool optional = doc->request.front() == '?';
    const auto schema = optional ? doc->request.substr(1) : doc->request;
    operation["requestBody"] = {{"required", !optional},
                                {"content", {{"application/json", {{"schema", schema_ref(schema)}}}}}};
  }

  boost::json::object responses;
  if (doc) {
    boost::json::object success{{"description", doc->summary}};
    if (!doc->response.empty()) success["content"] = content_of(doc->response);
    responses[std::to_string(doc->status)] = std::move(success);
  } else {
    responses["default"] = {{"description", "Undocumented"}};
  }
  if (route.access != http::Access::public_) {
    responses["401"] = error_answer("No valid credential", v1);
    responses["403"] = error_answer(v1 ? "Outside the key's scopes or IP allowlist" : "The caller's role is too low", v1);
  }
  if (!path_parameters(route.pattern).empty()) responses["404"] = error_answer("Not found", v1);
  if ((doc && (!doc->request.empty() || !doc->query.empty())) || route.method == "POST") {
    responses["422"] = error_answer("Invalid input; the message names the field", v1);
  }
  if (v1) responses["429"] = error_answer("Rate limit exceeded; see Retry-After", true);
  operation["responses"] = std::move(responses);

  if (route.access == http::Access::public_) {
    operation["security"] = boost::json::array{};
  } else {
    operation["security"] = boost::json::array{
        boost::json::object{{route.access == http::Access::automation_key ? "automationKey" : "operatorBearer",
                             boost::json::array{}}}};
  }
  return operation;
}

// A list that answers a bare array (seeds 000 and 004) names its next page in headers.
void add_page_headers(boost::json::object& operation, const boost::json::object& schemas) {
  const auto* parameters = operation.if_contains("parameters");
  const bool paged = parameters && std::any_of(parameters->as_array().begin(), parameters->as_array().end(),
                                               [](const auto& p) { return p.at("name") == "cursor"; });
  if (!paged) return;
  for (auto& [status, answer] : operation.at("responses").as_object()) {
    if (status.empty() || status[0] != '2') continue;
    const auto* content = answer.as_object().if_contains("content");
    const auto* json = content ? content->as_object().if_contains("application/json") : nullptr;
    if (!json) continue;
    const std::string ref(json->at("schema").at("$ref").as_string());
    const auto* schema = schemas.if_contains(ref.substr(ref.rfind('/') + 1));
    if (!schema || schema->as_object().if_contains("type") == nullptr || schema->at("type") != "array") continue;
    answer.as_object()["headers"] = {
        {"X-Next-Cursor",
         {{"description", "The cursor of the next page; absent on the last page"}, {"schema", {{"type", "string"}}}}},
        {"Link",
         {{"description", "<this request with cursor set to the next page's>; rel=\"next\"; absent on the last page"},
          {"schema", {{"type", "string"}}}}}};
  }
}

std::string lower(const std::string& method) {
  std::string out;
  for (const char c : method) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

boost::json::object document(const std::vector<RouteEntry>& routes, std::string_view version) {
  // Named, so that it outlives its use below.
  auto schemas = boost::json::parse(component_schemas_json());
  boost::json::object paths;
  for (const auto& route : routes) {
    auto& item = paths[route.pattern];
    if (!item.is_object()) item = boost::json::object{};
    auto operation = operation_of(route, doc_of(route));
    add_page_headers(operation, schemas.as_object());
    item.as_object()[lower(route.method)] = std::move(operation);
  }
  boost::json::object components{
      {"schemas", std::move(schemas)},
      {"securitySchemes",
       {{"operatorBearer",
         {{"type", "http"}, {"scheme", "bearer"},
          {"description", "An operator API key (tak_...) or a login session token (tss_... from POST /api/login)."}}},
        {"automationKey",
         {{"type", "http"}, {"scheme", "bearer"}, {"description", "An automation key (rca_...) for the CI API."}}}}}};
  return {{"openapi", "3.1.0"},
          {"info",
           {{"title", "Tether"},
            {"version", version},
            {"description",
             "Tether's controller: servers, operations, the CI API (v1), jobs, runs, triggers, webhooks, users. "
             "Each operation's x-tether-access names who may call it."}}},
          {"paths", std::move(paths)},
          {"components", std::move(components)}};
}

}  // namespace tether::api::openapi
