#include "controller/api/v1/requests.hpp"
#include "controller/http/responses.hpp"

#include <catch2/catch.hpp>

using tether::api::v1::parse_exec_request;
using tether::http::ApiError;

namespace {

constexpr const char* server = "0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f";

std::string body_with(const std::string& extra) {
  return std::string(R"({"server_id":")") + server + R"(","command":"true")" + extra + "}";
}

// The 422 detail, or "" when the body is accepted.
std::string rejection(const std::string& body) {
  try {
    parse_exec_request(body);
    return "";
  } catch (const ApiError& e) {
    CHECK(e.status() == tether::http::bhttp::status::unprocessable_entity);
    return e.what();
  }
}

}  // namespace

TEST_CASE("a minimal exec request gets the seed's defaults", "[v1][exec]") {
  const auto request = parse_exec_request(body_with(""));
  CHECK(request.server_id == server);
  CHECK(request.command == "true");
  CHECK(request.timeout_seconds == 60);
  CHECK_FALSE(request.working_directory);
  CHECK(request.env.empty());
  CHECK_FALSE(request.run_id);
}

TEST_CASE("all optional exec fields are read", "[v1][exec]") {
  const auto request = parse_exec_request(body_with(
      R"(,"working_directory":"/opt/app","env":{"A":"1","B_2":"x"},"timeout_seconds":300,"run_id":"gh-1","run_context":{"provider":"github_actions"})"));
  CHECK(*request.working_directory == "/opt/app");
  CHECK(request.env.at("A") == "1");
  CHECK(request.env.at("B_2") == "x");
  CHECK(request.timeout_seconds == 300);
  CHECK(*request.run_id == "gh-1");
  CHECK(*request.run_context_json == R"({"provider":"github_actions"})");
}

TEST_CASE("server ids are normalised to lower case", "[v1][exec]") {
  const auto request = parse_exec_request(R"({"server_id":"0D6C1A8E-2F3B-4C5D-8E9F-0A1B2C3D4E5F","command":"x"})");
  CHECK(request.server_id == server);
}

TEST_CASE("malformed JSON and missing fields are 422 naming the problem", "[v1][exec]") {
  CHECK_THAT(rejection("{not json"), Catch::Contains("not valid JSON"));
  CHECK_THAT(rejection("[]"), Catch::Contains("JSON object"));
  CHECK_THAT(rejection(R"({"command":"true"})"), Catch::Contains("server_id"));
  CHECK_THAT(rejection(std::string(R"({"server_id":")") + server + R"("})"), Catch::Contains("command"));
  CHECK_THAT(rejection(R"({"server_id":"web-1","command":"true"})"), Catch::Contains("server_id: must be a UUID"));
  CHECK_THAT(rejection(body_with(R"(,"timeout_seconds":"60")")), Catch::Contains("timeout_seconds"));
}

TEST_CASE("command length is limited to 8192 characters", "[v1][exec]") {
  const std::string at_limit(8192, 'x');
  CHECK(rejection(std::string(R"({"server_id":")") + server + R"(","command":")" + at_limit + R"("})").empty());
  CHECK_THAT(rejection(std::string(R"({"server_id":")") + server + R"(","command":")" + at_limit + R"(x"})"),
             Catch::Contains("8192"));
  // Characters, not bytes: 8192 two-byte characters are allowed.
  std::string accented;
  for (int i = 0; i < 8192; ++i) accented += "\xC3\xA9";
  CHECK(rejection(std::string(R"({"server_id":")") + server + R"(","command":")" + accented + R"("})").empty());
}

TEST_CASE("timeout_seconds must be from 1 to 900", "[v1][exec]") {
  CHECK_THAT(rejection(body_with(R"(,"timeout_seconds":0)")), Catch::Contains("from 1 to 900"));
  CHECK_THAT(rejection(body_with(R"(,"timeout_seconds":901)")), Catch::Contains("from 1 to 900"));
  CHECK(rejection(body_with(R"(,"timeout_seconds":1)")).empty());
  CHECK(rejection(body_with(R"(,"timeout_seconds":900)")).empty());
}

TEST_CASE("env is limited to 200 keys and 64KB", "[v1][exec]") {
  auto env_of = [](int keys, std::size_t value_size) {
    std::string env = R"(,"env":{)";
    for (int i = 0; i < keys; ++i) {
      if (i) env += ",";
      env += "\"K" + std::to_string(i) + "\":\"" + std::string(value_size, 'v') + "\"";
    }
    return env + "}";
  };
  CHECK(rejection(body_with(env_of(200, 1))).empty());
  CHECK_THAT(rejection(body_with(env_of(201, 1))), Catch::Contains("at most 200 keys"));
  CHECK_THAT(rejection(body_with(env_of(2, 40 * 1024))), Catch::Contains("64KB"));
}

TEST_CASE("env names must be valid variable names and values strings", "[v1][exec]") {
  CHECK_THAT(rejection(body_with(R"(,"env":{"1A":"x"})")), Catch::Contains("not a valid variable name"));
  CHECK_THAT(rejection(body_with(R"(,"env":{"A-B":"x"})")), Catch::Contains("not a valid variable name"));
  CHECK_THAT(rejection(body_with(R"(,"env":{"A":5})")), Catch::Contains("env.A: value must be a string"));
  CHECK_THAT(rejection(body_with(R"(,"env":"A=1")")), Catch::Contains("env: must be an object"));
}

TEST_CASE("a rejected env never echoes its values", "[v1][exec][secrets]") {
  const auto detail = rejection(body_with(R"(,"env":{"TOKEN":"s3cr3t-value","bad name":"x"})"));
  CHECK_THAT(detail, !Catch::Contains("s3cr3t-value"));
}

TEST_CASE("deploy requests need an application and take a safe commit_ref", "[v1][deploy]") {
  const auto request = tether::api::v1::parse_deploy_request(
      R"({"application_id":"0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f","commit_ref":"release/1.2","env_overrides":{"FLAG":"1"}})");
  CHECK(*request.commit_ref == "release/1.2");
  CHECK(request.env.at("FLAG") == "1");
  CHECK_THROWS_AS(tether::api::v1::parse_deploy_request(R"({"commit_ref":"main"})"), ApiError);
  for (const char* ref : {"--upload-pack=x", "a b", "a..b", "x\ny"}) {
    const std::string body = std::string(R"({"application_id":"0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f","commit_ref":")") +
                             (std::string(ref) == "x\ny" ? "x\\ny" : ref) + "\"}";
    CHECK_THROWS_WITH(tether::api::v1::parse_deploy_request(body), Catch::Contains("commit_ref"));
  }
}

TEST_CASE("restart requests validate the container name", "[v1][restart]") {
  CHECK(tether::api::v1::valid_container_name("web_app-1.blue"));
  CHECK_FALSE(tether::api::v1::valid_container_name("-rm"));
  CHECK_FALSE(tether::api::v1::valid_container_name("a b"));
  CHECK_FALSE(tether::api::v1::valid_container_name(std::string(256, 'a')));
  CHECK_THROWS_WITH(tether::api::v1::parse_restart_request(std::string(R"({"server_id":")") + server +
                                                           R"x(","container_name":"$(reboot)"})x"),
                    Catch::Contains("container_name"));
}

TEST_CASE("reboot defaults to a 300 second deadline", "[v1][reboot]") {
  CHECK(tether::api::v1::parse_reboot_request(std::string(R"({"server_id":")") + server + "\"}").timeout_seconds == 300);
}

TEST_CASE("registry requests need their ids and a registry url without spaces", "[v1][registry]") {
  CHECK_THROWS_WITH(tether::api::v1::parse_registry_login_request(std::string(R"({"server_id":")") + server + "\"}"),
                    Catch::Contains("credential_id"));
  CHECK_THROWS_WITH(tether::api::v1::parse_registry_logout_request(std::string(R"({"server_id":")") + server +
                                                                   R"(","registry_url":"ghcr.io --x"})"),
                    Catch::Contains("registry_url"));
  CHECK(tether::api::v1::parse_registry_logout_request(std::string(R"({"server_id":")") + server +
                                                       R"(","registry_url":"ghcr.io"})")
            .registry_url == "ghcr.io");
}

TEST_CASE("run_id is limited to 200 characters, counted as characters rather than bytes", "[v1][run]") {
  std::string two_hundred;
  for (int i = 0; i < 200; ++i) two_hundred += "\xC3\xA9";  // é: 400 bytes, 200 characters
  const auto request = parse_exec_request(body_with(R"(,"run_id":")" + two_hundred + "\""));
  CHECK(*request.run_id == two_hundred);
  CHECK_THAT(rejection(body_with(R"(,"run_id":")" + two_hundred + "x\"")),
             Catch::Contains("run_id: at most 200 characters"));
}

TEST_CASE("a NUL anywhere in a v1 body is 422 naming the field", "[v1][nul]") {
  CHECK_THAT(rejection(body_with(R"(,"run_id":"gh\u0000-1")")), Catch::StartsWith("run_id: must not contain"));
  CHECK_THAT(rejection(body_with(R"(,"run_context":{"provider":"gh","meta":{"sha":"a\u0000"}})")),
             Catch::StartsWith("run_context.meta.sha: must not contain"));
  CHECK_THAT(rejection(body_with(R"(,"env":{"A":"x\u0000y"})")), Catch::StartsWith("env.A: must not contain"));
  CHECK_THAT(rejection(body_with(R"(,"working_directory":"/opt\u0000/x")")),
             Catch::StartsWith("working_directory: must not contain"));
  CHECK_THAT(rejection(std::string(R"({"server_id":")") + server + R"(","command":"echo\u0000hi"})"),
             Catch::StartsWith("command: must not contain"));
  CHECK_THROWS_WITH(tether::api::v1::parse_registry_logout_request(
                        std::string(R"({"server_id":")") + server + R"(","registry_url":"ghcr.io\u0000evil"})"),
                    Catch::StartsWith("registry_url: must not contain"));
}
