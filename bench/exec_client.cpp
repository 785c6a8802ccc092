#include "bench/exec_client.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <stdexcept>

namespace tether::bench {
namespace {

http::ClientOptions client_options(const ExecTarget& target) {
  auto options = http::ClientOptions::from_url(target.url);
  options.ca_file = target.ca_file;
  return options;
}

}  // namespace

ExecClient::ExecClient(const ExecTarget& target) : client_(client_options(target)), server_id_(target.server_id) {
  if (target.rca_keys.empty()) throw std::invalid_argument("at least one rca_ key is needed");
  for (const auto& key : target.rca_keys) headers_per_key_.push_back(http::Headers{http::bearer(key)});
}

void ExecClient::run(std::string_view command) {
  const boost::json::object request{{"server_id", server_id_}, {"command", command}};
  const auto& headers = headers_per_key_[next_key_++ % headers_per_key_.size()];
  const auto response = client_.post("/api/automation/v1/exec", boost::json::serialize(request), headers);
  if (response.status != 200) {
    throw std::runtime_error(fmt::format("exec answered HTTP {}: {}", response.status, response.body));
  }
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(response.body, ec);
  const auto* result = parsed.if_object();
  if (ec || !result) throw std::runtime_error(fmt::format("exec answered something other than JSON: {}", response.body));
  const auto* status = result->if_contains("status");
  const auto* exit_code = result->if_contains("exit_code");
  if (!status || !status->is_string() || status->get_string() != "completed") {
    throw std::runtime_error(fmt::format("exec did not complete synchronously: {}", response.body));
  }
  if (!exit_code || !exit_code->is_int64() || exit_code->get_int64() != 0) {
    throw std::runtime_error(fmt::format("exec completed with a failure: {}", response.body));
  }
}

}  // namespace tether::bench
