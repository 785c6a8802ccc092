#include "controller/http/responses.hpp"

namespace tether::http {

Response json_response(bhttp::status status, const boost::json::value& body) {
  Response response{status, 11};
  response.set(bhttp::field::content_type, "application/json");
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = boost::json::serialize(body);
  response.prepare_payload();
  return response;
}

Response text_response(bhttp::status status, std::string_view content_type, std::string body) {
  Response response{status, 11};
  response.set(bhttp::field::content_type, content_type);
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response no_content_response() {
  Response response{bhttp::status::no_content, 11};
  response.set(bhttp::field::cache_control, "no-store");
  response.prepare_payload();
  return response;
}

Response error_response(bhttp::status status, const std::string& detail) {
  return json_response(status, boost::json::object{{"detail", detail}});
}

Response error_response(const ApiError& error) {
  auto response = error_response(error.status(), error.what());
  for (const auto& [name, value] : error.headers()) response.set(name, value);
  return response;
}

}  // namespace tether::http
