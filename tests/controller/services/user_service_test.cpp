// Users, sessions and TOTP against a real PostgreSQL on a ManualClock: sessions last 24 h by the
// injected clock and are purged after, logout and revoke end them, a password change ends the
// user's sessions, TOTP is needed at login once enabled (and a code is not taken twice), and the
// audit log records each step without a password, token or TOTP secret.
#include "../automation_fixture.hpp"

#include "controller/auth/totp.hpp"
#include "controller/services/user_service.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;

namespace {

struct UsersFixture {
  testing::StoreFixture fx;
  ManualClock clock{testing::t0};
  services::SecretBox secrets{std::string(32, 'k')};
  services::Users users{clock, secrets};
  services::ClientInfo client{"198.51.100.7", std::string("test-agent/1.0")};

  void add(const std::string& username, const std::string& role, const std::string& password) {
    pqxx::work txn(fx.connection);
    users.create(txn, "test", username, role, password, "127.0.0.1");
    txn.commit();
  }

  services::LoginResult login(const std::string& username, const std::string& password,
                              std::optional<std::string> code = std::nullopt) {
    return users.login(fx.connection, {username, password, code}, client);
  }

  auth::Operator authenticate(const std::string& token) {
    pqxx::work txn(fx.connection);
    auto caller = users.authenticate(txn, token);
    txn.commit();
    return caller;
  }

  std::string audit_text() {
    pqxx::read_transaction txn(fx.connection);
    return txn.exec1("SELECT coalesce(string_agg(actor || ' ' || action || ' ' || outcome || ' ' || "
                     "coalesce(target, '') || ' ' || detail::text, E'\\n' ORDER BY id), '') FROM audit_log")[0]
        .as<std::string>();
  }
};

}  // namespace

TEST_CASE("users: a duplicate is a conflict, a weak password is refused with the seed's message, the hash is "
          "self-describing",
          "[users]") {
  UsersFixture u;
  u.add("alice", "operator", "SecurePass1!");
  {
    pqxx::work txn(u.fx.connection);
    CHECK_THROWS_WITH(u.users.create(txn, "test", "alice", "viewer", "SecurePass1!", "127.0.0.1"), "User already exists");
  }
  {
    pqxx::work txn(u.fx.connection);
    CHECK_THROWS_AS(u.users.create(txn, "test", "bob", "viewer", "short", "127.0.0.1"), services::WeakPassword);
    CHECK_THROWS_WITH(u.users.create(txn, "test", "bob", "viewer", "short", "127.0.0.1"),
                      "Password must be at least 8 characters");
    CHECK_THROWS_WITH(u.users.create(txn, "test", "bob", "root", "SecurePass1!", "127.0.0.1"),
                      Catch::Contains("role"));
    CHECK_THROWS_WITH(u.users.create(txn, "test", "b o b", "viewer", "SecurePass1!", "127.0.0.1"),
                      Catch::Contains("username"));
  }
  pqxx::read_transaction txn(u.fx.connection);
  const auto stored = txn.exec1("SELECT password_hash FROM users WHERE username = 'alice'")[0].as<std::string>();
  CHECK(stored.starts_with("pbkdf2-sha256$600000$"));
  CHECK(stored.find("SecurePass1!") == std::string::npos);
}

TEST_CASE("sessions: a login's token acts with its user's role for 24 h by the clock, then is refused and purged",
          "[users][sessions]") {
  UsersFixture u;
  u.add("olga", "operator", "SecurePass1!");
  CHECK(u.login("olga", "wrong-Pass1").outcome == services::LoginResult::Outcome::invalid);
  CHECK(u.login("nobody", "SecurePass1!").outcome == services::LoginResult::Outcome::invalid);
  const auto result = u.login("olga", "SecurePass1!");
  REQUIRE(result.outcome == services::LoginResult::Outcome::ok);
  CHECK(result.role == "operator");
  CHECK(result.token.starts_with("tss_"));

  auto caller = u.authenticate(result.token);
  CHECK(caller.username == "olga");
  CHECK(caller.role == auth::Role::operator_);
  CHECK(caller.actor() == "user:olga");
  CHECK_THROWS_AS(u.authenticate(result.token.substr(0, result.token.size() - 1) + "0"), auth::AuthenticationFailed);

  u.clock.advance(24h - 1s);
  CHECK(u.authenticate(result.token).username == "olga");
  {
    pqxx::work txn(u.fx.connection);
    CHECK(u.users.purge_expired(txn) == 0);
    txn.commit();
  }
  u.clock.advance(1s);
  CHECK_THROWS_WITH(u.authenticate(result.token), Catch::Contains("expired"));
  {
    pqxx::work txn(u.fx.connection);
    CHECK(u.users.purge_expired(txn) == 1);
    txn.commit();
  }
  CHECK_THROWS_WITH(u.authenticate(result.token), "invalid session token");

  const auto audit = u.audit_text();
  INFO(audit);
  CHECK(audit.find("login_failed") != std::string::npos);
  CHECK(audit.find("unknown user") != std::string::npos);
  CHECK(audit.find("user:olga login allowed") != std::string::npos);
  CHECK(audit.find("SecurePass1!") == std::string::npos);
  CHECK(audit.find("wrong-Pass1") == std::string::npos);
  CHECK(audit.find(result.token) == std::string::npos);
}

TEST_CASE("sessions: logout, revoke by prefix and a password change end them", "[users][sessions]") {
  UsersFixture u;
  u.add("admin", "admin", "SecurePass1!");
  u.add("vera", "viewer", "SecurePass1!");
  const auto a = u.login("vera", "SecurePass1!").token;
  const auto b = u.login("vera", "SecurePass1!").token;
  const auto c = u.login("vera", "SecurePass1!").token;
  const auto admin = u.authenticate(u.login("admin", "SecurePass1!").token);
  {
    pqxx::work txn(u.fx.connection);
    CHECK(u.users.sessions(txn, std::string("vera")).rows.size() == 3);
    u.users.logout(txn, u.users.authenticate(txn, a), "127.0.0.1");
    CHECK(u.users.revoke(txn, admin, b.substr(4, 10), "127.0.0.1") == 1);  // without "tss_", 10 digits
    CHECK_THROWS_WITH(u.users.revoke(txn, admin, b.substr(0, 12), "127.0.0.1"), "Session not found");
    CHECK_THROWS_WITH(u.users.revoke(txn, admin, "tss_12", "127.0.0.1"), Catch::Contains("prefix"));
    txn.commit();
  }
  CHECK_THROWS_AS(u.authenticate(a), auth::AuthenticationFailed);
  CHECK_THROWS_AS(u.authenticate(b), auth::AuthenticationFailed);
  CHECK(u.authenticate(c).username == "vera");
  {
    pqxx::work txn(u.fx.connection);
    u.users.set_password(txn, admin, "vera", "AnotherPass2!", "127.0.0.1");
    CHECK_THROWS_WITH(u.users.remove(txn, admin, "ghost", "127.0.0.1"), "User not found");
    txn.commit();
  }
  CHECK_THROWS_AS(u.authenticate(c), auth::AuthenticationFailed);
  CHECK(u.login("vera", "SecurePass1!").outcome == services::LoginResult::Outcome::invalid);
  const auto audit = u.audit_text();
  INFO(audit);
  CHECK(audit.find("logout") != std::string::npos);
  CHECK(audit.find("session_revoke") != std::string::npos);
  CHECK(audit.find("user_password_change") != std::string::npos);
  CHECK(audit.find("AnotherPass2!") == std::string::npos);
}

TEST_CASE("TOTP: once enabled a login needs a valid code, taken once", "[users][totp]") {
  UsersFixture u;
  u.add("tom", "viewer", "SecurePass1!");
  const auto caller = u.authenticate(u.login("tom", "SecurePass1!").token);
  services::TotpSetup setup;
  {
    pqxx::work txn(u.fx.connection);
    setup = u.users.totp_setup(txn, caller, "127.0.0.1");
    txn.commit();
  }
  CHECK(setup.uri.starts_with("otpauth://totp/Tether:tom?secret=" + setup.secret));
  const auto secret = auth::totp::base32_decode(setup.secret);
  const auto unix_now = [&] {
    return std::chrono::duration_cast<std::chrono::seconds>(u.clock.now().time_since_epoch()).count();
  };
  {
    pqxx::work txn(u.fx.connection);
    CHECK_THROWS_WITH(u.users.totp_enable(txn, caller, "000000" == auth::totp::code_at(secret, unix_now()) ? "111111" : "000000", "127.0.0.1"),
                      Catch::Contains("code"));
  }
  {
    pqxx::work txn(u.fx.connection);
    u.users.totp_enable(txn, caller, auth::totp::code_at(secret, unix_now()), "127.0.0.1");
    txn.commit();
  }
  u.clock.advance(60s);
  CHECK(u.login("tom", "SecurePass1!").outcome == services::LoginResult::Outcome::totp_required);
  const auto code = auth::totp::code_at(secret, unix_now());
  CHECK(u.login("tom", "SecurePass1!", code).outcome == services::LoginResult::Outcome::ok);
  CHECK(u.login("tom", "SecurePass1!", code).outcome == services::LoginResult::Outcome::invalid);  // replayed
  u.clock.advance(30s);
  CHECK(u.login("tom", "SecurePass1!", auth::totp::code_at(secret, unix_now())).outcome ==
        services::LoginResult::Outcome::ok);

  {
    pqxx::read_transaction txn(u.fx.connection);
    const auto sealed = txn.exec1("SELECT totp_secret_sealed FROM users WHERE username = 'tom'")[0].as<std::string>();
    CHECK(sealed.find(setup.secret) == std::string::npos);
  }
  CHECK(u.audit_text().find(setup.secret) == std::string::npos);
}
