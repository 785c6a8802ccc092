// Seed 004's users and sessions end to end: login and its 401, the lockout by address and by
// username with the seed's message and Retry-After, a session used as a Bearer token with its
// user's role on the operator routes, logout, the admin's users (add, remove, change_password:
// 400, 409, 404) and sessions (list, revoke by prefix), TOTP enabled and required at login, the
// first user made by `tether-controller admin create-user`, the audit trail, and no password,
// session token or TOTP secret in pg_dump output or the controller's log. Each case logs in from
// its own X-Forwarded-For address (127.0.0.1 is a trusted proxy), so that limits stay apart.
#include "controller/auth/totp.hpp"
#include "tests/e2e/ci_api.hpp"
#include "tests/e2e/secret_checks.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>

using namespace tether;
using namespace tether::e2e;

namespace {

testing::TetherStack& users_stack() {
  testing::StackOptions options;
  options.agents = 0;
  options.master_key = true;
  options.trusted_proxies = {"127.0.0.1/32"};
  return shared_stack(options);
}

http::Headers from(const std::string& address, std::optional<std::string> token = std::nullopt) {
  http::Headers headers{{"X-Forwarded-For", address}, {"Content-Type", "application/json"}};
  if (token) headers.push_back(http::bearer(*token));
  return headers;
}

http::Response login(testing::TetherStack& stack, const std::string& address, const std::string& username,
                     const std::string& password, std::optional<std::string> code = std::nullopt) {
  boost::json::object body{{"username", username}, {"password", password}};
  if (code) body["totp_code"] = *code;
  return stack.client().post("/api/login", boost::json::serialize(body), from(address));
}

std::string login_token(testing::TetherStack& stack, const std::string& address, const std::string& username,
                        const std::string& password, std::optional<std::string> code = std::nullopt) {
  const auto response = login(stack, address, username, password, code);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "username") == username);
  return string_field(body, "token");
}

http::Response users_action(testing::TetherStack& stack, const boost::json::object& body) {
  return stack.admin("POST", "/api/admin/users", boost::json::serialize(body));
}

void check_error_is(const http::Response& response, unsigned status, const std::string& message) {
  check_error(response, status);
  CHECK(string_field(json_object(response), "error") == message);
}

// 429 with "Too many login attempts. Try again in N seconds." and Retry-After: N.
int check_locked_out(const http::Response& response) {
  check_error(response, 429);
  const auto message = string_field(json_object(response), "error");
  std::smatch match;
  REQUIRE(std::regex_match(message, match, std::regex(R"(Too many login attempts\. Try again in (\d+) seconds\.)")));
  CHECK(response.header("Retry-After") == std::optional<std::string>(match[1].str()));
  return std::stoi(match[1].str());
}

void add_user(testing::TetherStack& stack, const std::string& username, const std::string& role,
              const std::string& password) {
  const auto response =
      users_action(stack, {{"action", "add"}, {"username", username}, {"password", password}, {"role", role}});
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(json_object(response) == boost::json::object{{"status", "ok"}});
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<boost::json::object> audit_entries(testing::TetherStack& stack, const std::string& action) {
  std::vector<boost::json::object> out;
  const auto answer = admin_get(stack, "/api/audit?limit=1000&action=" + action);
  for (const auto& entry : array_field(answer, "entries")) {
    out.push_back(entry.as_object());
  }
  return out;
}

// What must not be stored: gathered by the cases, checked by the last one.
std::vector<std::string>& secrets_seen() {
  static std::vector<std::string> seen;
  return seen;
}

}  // namespace

TEST_CASE("admin users: add, 409 on a duplicate, 400 on a weak password with the seed's message, 404 on an unknown "
          "user, list",
          "[e2e][users]") {
  auto& stack = users_stack();
  add_user(stack, "olivia", "operator", "SecurePass1!");
  check_error_is(users_action(stack, {{"action", "add"}, {"username", "olivia"}, {"password", "SecurePass1!"}}), 409,
                 "User already exists");
  check_error_is(users_action(stack, {{"action", "add"}, {"username", "weak"}, {"password", "Short1"}}), 400,
                 "Password must be at least 8 characters");
  check_error_is(users_action(stack, {{"action", "add"}, {"username", "weak"}, {"password", "nouppercase1"}}), 400,
                 "Password must contain at least one uppercase letter");
  check_error_is(users_action(stack, {{"action", "remove"}, {"username", "ghost"}}), 404, "User not found");
  check_error_is(users_action(stack, {{"action", "change_password"}, {"username", "ghost"}, {"password", "SecurePass1!"}}),
                 404, "User not found");
  check_error(users_action(stack, {{"action", "rename"}, {"username", "olivia"}}), 422);

  add_user(stack, "short-lived", "viewer", "SecurePass1!");
  CHECK(users_action(stack, {{"action", "remove"}, {"username", "short-lived"}}).status == 200);

  const auto listed = stack.admin("GET", "/api/admin/users");
  REQUIRE(listed.status == 200);
  const auto users = boost::json::parse(listed.body).as_array();
  bool found = false;
  for (const auto& user : users) {
    const auto& object = user.as_object();
    CHECK(object.if_contains("password_hash") == nullptr);
    if (object.at("username") == "olivia") found = object.at("role") == "operator";
    CHECK(object.at("username") != "short-lived");
  }
  CHECK(found);
  secrets_seen().push_back("SecurePass1!");
}

TEST_CASE("login: 401 on wrong credentials; the session acts with its user's role as a Bearer token; logout ends it",
          "[e2e][users][sessions]") {
  auto& stack = users_stack();
  add_user(stack, "oscar", "operator", "OscarPass1!");
  const std::string address = "203.0.113.10";
  check_error_is(login(stack, address, "oscar", "WrongPass1!"), 401, "Invalid credentials");
  check_error_is(login(stack, address, "nobody", "OscarPass1!"), 401, "Invalid credentials");

  const auto response = login(stack, address, "oscar", "OscarPass1!");
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "role") == "operator");
  CHECK(string_field(body, "username") == "oscar");
  const auto token = string_field(body, "token");
  secrets_seen().push_back("OscarPass1!");
  secrets_seen().push_back(token);

  auto client = stack.client();
  const auto me = client.get("/api/me", from(address, token));
  REQUIRE(me.status == 200);
  CHECK(string_field(json_object(me), "username") == "oscar");
  CHECK(string_field(json_object(me), "role") == "operator");
  CHECK(client.get("/api/permissions", from(address, token)).status == 200);

  INFO("an operator route: reads and operator actions allowed, admin actions refused");
  CHECK(client.get("/api/servers", from(address, token)).status == 200);
  const auto job = client.post("/api/jobs",
                               R"({"name":"by-oscar","operation":{"type":"exec","command":"true"},"targets":{"server_ids":[]}})",
                               from(address, token));
  INFO(describe(job));
  CHECK(job.status != 401);
  CHECK(job.status != 403);
  const auto key = client.post("/api/automation-keys", R"({"name":"nope"})", from(address, token));
  check_error(key, 403);
  check_error(client.get("/api/admin/users", from(address, token)), 403);

  CHECK(client.post("/api/logout", "", from(address, token)).status == 200);
  check_error(client.get("/api/me", from(address, token)), 401);
  check_error(client.post("/api/logout", "", from(address, token)), 401);
}

TEST_CASE("five failed logins from one address lock it for 300 s with the seed's message and Retry-After",
          "[e2e][users][lockout]") {
  auto& stack = users_stack();
  add_user(stack, "ivan", "viewer", "IvanPass1!");
  const std::string address = "203.0.113.20";
  for (int i = 1; i <= 5; ++i) {
    INFO("attempt " << i);
    check_error_is(login(stack, address, "ivan", "Wrong-" + std::to_string(i)), 401, "Invalid credentials");
  }
  INFO("even the right password is refused from that address now");
  const auto seconds = check_locked_out(login(stack, address, "ivan", "IvanPass1!"));
  CHECK(seconds > 240);
  CHECK(seconds <= 300);
  INFO("another address logs in");
  login_token(stack, "203.0.113.21", "ivan", "IvanPass1!");
  CHECK(audit_entries(stack, "login_locked").size() >= 1);
}

TEST_CASE("failed logins for one username from many addresses lock that username", "[e2e][users][lockout]") {
  auto& stack = users_stack();
  add_user(stack, "ursula", "viewer", "UrsulaPass1!");
  int failures = 0;
  for (int address = 1; failures < 10; ++address) {
    for (int i = 0; i < 4 && failures < 10; ++i, ++failures) {
      INFO("failure " << failures + 1);
      check_error_is(login(stack, "198.51.100." + std::to_string(address), "ursula", "Guess-" + std::to_string(failures)),
                     401, "Invalid credentials");
    }
  }
  check_locked_out(login(stack, "198.51.100.99", "ursula", "UrsulaPass1!"));
  INFO("other users log in from that address");
  login_token(stack, "198.51.100.99", "olivia", "SecurePass1!");
}

TEST_CASE("admin sessions: listed with their prefix, revoked by prefix; a password change ends the user's sessions",
          "[e2e][users][sessions]") {
  auto& stack = users_stack();
  add_user(stack, "sam", "viewer", "SamPass1!x");
  const std::string address = "203.0.113.30";
  const auto a = login_token(stack, address, "sam", "SamPass1!x");
  const auto b = login_token(stack, address, "sam", "SamPass1!x");
  secrets_seen().insert(secrets_seen().end(), {a, b, "SamPass1!x"});
  auto client = stack.client();

  const auto listed = stack.admin("GET", "/api/admin/sessions");
  REQUIRE(listed.status == 200);
  int of_sam = 0;
  const auto sessions = boost::json::parse(listed.body).as_array();
  for (const auto& session : sessions) {
    const auto& object = session.as_object();
    if (object.at("username") != "sam") continue;
    ++of_sam;
    CHECK(object.at("ip") == boost::json::value(address));
    CHECK(boost::json::serialize(object).find(a) == std::string::npos);
  }
  CHECK(of_sam == 2);

  const auto own = client.get("/api/profile/sessions", from(address, b));
  REQUIRE(own.status == 200);
  CHECK(boost::json::parse(own.body).as_array().size() == 2);

  const auto revoked =
      stack.admin("POST", "/api/admin/sessions/revoke", boost::json::serialize(boost::json::object{{"prefix", a.substr(0, 12)}}));
  INFO(describe(revoked));
  REQUIRE(revoked.status == 200);
  check_error(client.get("/api/me", from(address, a)), 401);
  CHECK(client.get("/api/me", from(address, b)).status == 200);
  check_error(stack.admin("POST", "/api/admin/sessions/revoke", R"({"prefix":"tss_00000000"})"), 404);

  REQUIRE(users_action(stack, {{"action", "change_password"}, {"username", "sam"}, {"password", "NewSecurePass2!"}}).status ==
          200);
  check_error(client.get("/api/me", from(address, b)), 401);
  check_error_is(login(stack, address, "sam", "SamPass1!x"), 401, "Invalid credentials");
  const auto c = login_token(stack, address, "sam", "NewSecurePass2!");
  secrets_seen().insert(secrets_seen().end(), {c, "NewSecurePass2!"});

  INFO("a user changes its own password");
  check_error(client.post("/api/profile/password", R"({"current_password":"nope","new_password":"ThirdPass3!"})",
                          from(address, c)),
              403);
  check_error_is(client.post("/api/profile/password", R"({"current_password":"NewSecurePass2!","new_password":"weak"})",
                             from(address, c)),
                 400, "Password must be at least 8 characters");
  CHECK(client.post("/api/profile/password", R"({"current_password":"NewSecurePass2!","new_password":"ThirdPass3!"})",
                    from(address, c))
            .status == 200);
  CHECK(client.get("/api/me", from(address, c)).status == 200);  // the caller's own session stays
}

TEST_CASE("TOTP: set up, enabled with a valid code, then required at login; an admin disables it",
          "[e2e][users][totp]") {
  auto& stack = users_stack();
  add_user(stack, "tina", "viewer", "TinaPass1!");
  const std::string address = "203.0.113.40";
  const auto token = login_token(stack, address, "tina", "TinaPass1!");
  auto client = stack.client();
  const auto setup = client.post("/api/auth/totp/setup", "", from(address, token));
  INFO(describe(setup));
  REQUIRE(setup.status == 200);
  const auto secret_b32 = string_field(json_object(setup), "secret");
  CHECK(string_field(json_object(setup), "uri").starts_with("otpauth://totp/Tether:tina?secret=" + secret_b32));
  const auto secret = auth::totp::base32_decode(secret_b32);
  secrets_seen().insert(secrets_seen().end(), {secret_b32, token, "TinaPass1!"});

  const auto wrong = auth::totp::code_at(secret, unix_now() + 3600);
  check_error(client.post("/api/auth/totp/enable", R"({"code":")" + wrong + R"("})", from(address, token)), 422);
  const auto enabled = client.post("/api/auth/totp/enable",
                                   R"({"code":")" + auth::totp::code_at(secret, unix_now()) + R"("})", from(address, token));
  INFO(describe(enabled));
  REQUIRE(enabled.status == 200);

  check_error_is(login(stack, address, "tina", "TinaPass1!"), 401, "TOTP code required");
  // The next step's code: the one used to enable is spent.
  const auto with_code = login_token(stack, address, "tina", "TinaPass1!", auth::totp::code_at(secret, unix_now() + 30));
  secrets_seen().push_back(with_code);

  check_error(client.post("/api/auth/totp/disable", R"({"username":"tina"})", from(address, with_code)), 403);
  REQUIRE(stack.admin("POST", "/api/auth/totp/disable", R"({"username":"tina"})").status == 200);
  secrets_seen().push_back(login_token(stack, "203.0.113.41", "tina", "TinaPass1!"));
}

TEST_CASE("the first admin from `admin create-user`; the audit trail; no password, token or TOTP secret stored or "
          "logged",
          "[e2e][users][secrets]") {
  auto& stack = users_stack();
  const std::string password = "CliAdmin-" + crypto::hex_encode(crypto::random_bytes(6));
  const auto created = testing::run_command(
      {"/bin/sh", "-c", "printf '%s\\n' \"$PW\" | \"$BIN\" admin create-user --username root-admin --role admin "
                   "--database-url \"$URL\""},
      std::chrono::seconds(30),
      {{"PW", password}, {"BIN", TETHER_CONTROLLER_BINARY}, {"URL", stack.database().url()}});
  INFO(created.out << created.err);
  REQUIRE(created.succeeded());
  CHECK(created.out.find(password) == std::string::npos);
  const auto token = login_token(stack, "203.0.113.50", "root-admin", password);
  secrets_seen().insert(secrets_seen().end(), {password, token});
  INFO("the admin's session creates a key: its actor is the user");
  const auto key = stack.client().post("/api/automation-keys", R"({"name":"by-root-admin"})", from("203.0.113.50", token));
  INFO(describe(key));
  REQUIRE(key.status == 201);
  bool by_user = false;
  for (const auto& entry : audit_entries(stack, "automation_keys.create")) by_user |= entry.at("actor") == "user:root-admin";
  CHECK(by_user);

  for (const auto* action : {"login", "login_failed", "logout", "user_add", "user_remove", "user_password_change",
                             "session_revoke", "totp_enable", "totp_disable"}) {
    INFO("audit action " << action);
    CHECK_FALSE(audit_entries(stack, action).empty());
  }

  const auto dump = stack.database().dump();
  const auto log = stack.controller_log();
  CHECK_FALSE(log.empty());
  for (const auto& secret : secrets_seen()) {
    INFO("secret " << secret.substr(0, 6) << "...");
    CHECK_FALSE(contains_any(dump, encodings_of(secret)));
    CHECK_FALSE(contains_any(log, encodings_of(secret)));
  }
}
