#pragma once
#include "controller/http/types.hpp"

#include <boost/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tether::http {

// An answer that is not a success: status plus a message for `{"detail": ...}`. Thrown by handlers
// and services, caught where the response is rendered.
class ApiError : public std::runtime_error {
 public:
  ApiError(bhttp::status status, std::string detail,
           std::vector<std::pair<std::string, std::string>> headers = {})
      : std::runtime_error(detail), status_(status), headers_(std::move(headers)) {}
  bhttp::status status() const { return status_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  bhttp::status status_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// HTTP version and keep-alive are filled in by the connection that sends the response.
Response json_response(bhttp::status status, const boost::json::value& body);
// A body that is not JSON (an HTML page, a document already serialized), with its media type.
Response text_response(bhttp::status status, std::string_view content_type, std::string body);
// 204, for a DELETE that succeeded.
Response no_content_response();
Response error_response(bhttp::status status, const std::string& detail);
Response error_response(const ApiError& error);

}  // namespace tether::http
