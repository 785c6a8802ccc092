// Fuzz target: the v1 request body parsers (controller/api/v1/requests.hpp). The first byte picks
// the endpoint (its value modulo 6: exec, deploy, restart, reboot, registry_login,
// registry_logout; the seeds start with the digits '0' to '5'), the rest is the body.
// Promises: a bad body is refused with http::ApiError 422 and a detail naming the field, never
// another exception (which would become a 500) or a crash; an accepted body keeps seed 003's limits.
#include "controller/api/v1/requests.hpp"
#include "controller/http/responses.hpp"
#include "fuzz/check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using tether::fuzz::require;
namespace v1 = tether::api::v1;

namespace {

void require_timeout(int seconds) {
  require(seconds >= v1::min_timeout_seconds && seconds <= v1::max_timeout_seconds,
          "an accepted timeout_seconds is from 1 to 900");
}

void require_env(const std::map<std::string, std::string>& env) {
  std::size_t bytes = 0;
  for (const auto& [key, value] : env) bytes += key.size() + value.size();
  require(env.size() <= v1::max_env_keys && bytes <= v1::max_env_bytes, "an accepted env keeps its limits");
}

void parse(unsigned endpoint, std::string_view body) {
  switch (endpoint) {
    case 0: {
      const auto request = v1::parse_exec_request(body);
      require(!request.command.empty() && request.command.find('\0') == std::string::npos,
              "an accepted command is non-empty and without NUL");
      require_env(request.env);
      require_timeout(request.timeout_seconds);
      break;
    }
    case 1: {
      const auto request = v1::parse_deploy_request(body);
      require(!request.commit_ref || v1::valid_git_ref(*request.commit_ref), "an accepted commit_ref is valid");
      require_env(request.env);
      require_timeout(request.timeout_seconds);
      break;
    }
    case 2: {
      const auto request = v1::parse_restart_request(body);
      require(request.container_name && v1::valid_container_name(*request.container_name),
              "an accepted container_name is valid");
      require_timeout(request.timeout_seconds);
      break;
    }
    case 3:
      require_timeout(v1::parse_reboot_request(body).timeout_seconds);
      break;
    case 4:
      v1::parse_registry_login_request(body);
      break;
    default: {
      const auto url = v1::parse_registry_logout_request(body).registry_url;
      require(url && !url->empty(), "an accepted registry_url is non-empty");
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    parse(data[0] % 6, body);
  } catch (const tether::http::ApiError& e) {
    require(e.status() == tether::http::bhttp::status::unprocessable_entity, "a refused body gets 422");
    require(std::string_view(e.what()).find(':') != std::string_view::npos ||
                std::string_view(e.what()).find("request body") != std::string_view::npos,
            "a refusal names the field at fault (or the body)");
  }
  return 0;
}
