// Seed 004's auth routes: login and logout, the caller's profile and sessions, TOTP, and the
// admin's users and sessions. Error bodies are {"error", "detail"}; a weak password is 400 with
// the seed's message.
#include "common/json_fields.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/auth/login_limiter.hpp"
#include "controller/services/user_service.hpp"

#include <fmt/format.h>

#include <memory>

namespace tether::api {
namespace {

using http::ApiError;
using http::bhttp::status;
using http::bhttp::verb;
using auth::Role;

using AuthHandler = std::function<void(http::RequestContext&, http::Access)>;

// Every route of this file is registered through here, with its access next to its path; the
// handler is given that access to authenticate with.
void add(http::Router& router, verb method, const char* pattern, http::Access access, AuthHandler handler) {
  router.add(method, pattern, access,
             [handler = std::move(handler)](http::RequestContext& context) { handler(context, context.access); });
}

http::Response error_body(status code, const std::string& message) {
  return http::json_response(code, boost::json::object{{"error", message}, {"detail", message}});
}

http::Response ok() { return http::json_response(status::ok, boost::json::object{{"status", "ok"}}); }

http::Response locked_out(int seconds) {
  auto response = error_body(status::too_many_requests,
                             fmt::format("Too many login attempts. Try again in {} seconds.", seconds));
  response.set("Retry-After", std::to_string(seconds));
  return response;
}

// Seed 004 answers a weak password with 400, where Tether's other invalid input is 422.
template <class F>
auto weak_password_is_400(F&& f) {
  try {
    return f();
  } catch (const services::WeakPassword& e) {
    throw ApiError(status::bad_request, e.what());
  }
}

boost::json::array permissions_of(Role role) {
  boost::json::array out{"read"};
  if (role >= Role::operator_) {
    for (const char* p : {"run", "cancel", "approve", "manage_jobs", "manage_triggers", "manage_applications"}) {
      out.emplace_back(p);
    }
  }
  if (role >= Role::admin) {
    for (const char* p : {"manage_users", "manage_keys", "manage_servers", "manage_credentials", "manage_maintenance",
                          "read_audit"}) {
      out.emplace_back(p);
    }
  }
  return out;
}

boost::json::object render_session(const store::users::SessionRecord& session, const std::string& current_id) {
  return {{"prefix", session.token_prefix},
          {"username", session.username},
          {"role", session.role},
          {"created", session.created_us / 1'000'000},
          {"expires", session.expires_us / 1'000'000},
          {"last_seen", session.last_seen_us / 1'000'000},
          {"created_at", session.created_at},
          {"expires_at", session.expires_at},
          {"last_seen_at", session.last_seen_at},
          {"ip", nullable(session.client_ip)},
          {"user_agent", nullable(session.user_agent)},
          {"current", session.id == current_id}};
}

// Seed 004's lists answer bare arrays: the next page's cursor goes in X-Next-Cursor and Link.
http::Response bare_page(const http::Request& request, boost::json::array rows,
                         const std::optional<store::PageAfter>& next) {
  auto response = http::json_response(status::ok, rows);
  add_next_cursor_headers(response, request, next);
  return response;
}

constexpr CursorShape by_username{SortKey::text, RowId::uuid};

services::LoginAttempt parse_login(const http::Request& request) {
  const auto body = parse_json_body(request);
  services::LoginAttempt attempt{json::required_string(body, "username"), json::required_string(body, "password"),
                                 std::nullopt};
  if (auto code = body.if_contains("totp_code"); code && !code->is_null()) {
    if (code->is_string()) {
      attempt.totp_code = std::string(code->as_string());
    } else if (code->is_int64()) {
      attempt.totp_code = fmt::format("{:06d}", code->as_int64());
    } else {
      throw json::FieldError("totp_code: must be a string of 6 digits");
    }
  }
  return attempt;
}

}  // namespace

void add_auth_routes(http::Router& router, app::AppContext& app) {
  auto limiter = std::make_shared<auth::LoginLimiter>(app.settings.login_limits);

  add(router, verb::post, "/api/login", http::Access::public_, [&app, limiter](http::RequestContext& context, http::Access) {
    services::LoginAttempt attempt;
    try {
      attempt = parse_login(context.request);
    } catch (const std::exception&) {
      context.responder.send(response_for_failure(std::current_exception(), ErrorBody::error_and_detail));
      return;
    }
    const services::ClientInfo client{context.client_ip, [&]() -> std::optional<std::string> {
                                        auto it = context.request.find(http::bhttp::field::user_agent);
                                        if (it == context.request.end()) return std::nullopt;
                                        return std::string(it->value());
                                      }()};
    if (auto seconds = limiter->admit(client.ip, attempt.username)) {
      context.responder.send(locked_out(*seconds));
      return;
    }
    answer_from_db(app, context, [&app, limiter, attempt, client](pqxx::connection& c) {
      services::LoginResult result;
      try {
        result = app.users.login(c, attempt, client);
      } catch (...) {
        limiter->record_success(client.ip, attempt.username);  // not a guess: end the attempt uncounted
        throw;
      }
      if (result.outcome == services::LoginResult::Outcome::ok) {
        limiter->record_success(client.ip, attempt.username);
        return http::json_response(status::ok, boost::json::object{{"token", result.token},
                                                                    {"role", result.role},
                                                                    {"username", result.username}});
      }
      const auto failure = limiter->record_failure(client.ip, attempt.username);
      const auto& limits = app.settings.login_limits;
      if (failure.address_locked) {
        app.users.record_lockout(c, attempt.username, client, limits.per_address.lockout_seconds, "address");
      }
      if (failure.username_locked) {
        app.users.record_lockout(c, attempt.username, client, limits.per_username.lockout_seconds, "username");
      }
      if (result.outcome == services::LoginResult::Outcome::totp_required) {
        return error_body(status::unauthorized, "TOTP code required");
      }
      return error_body(status::unauthorized, "Invalid credentials");
    });
  });

  add(router, verb::post, "/api/logout", http::Access::viewer, [&app](http::RequestContext& context, http::Access access) {
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      app.users.logout(txn, caller, ip);
      txn.commit();
      return ok();
    });
  });

  add(router, verb::get, "/api/me", http::Access::viewer, [&app](http::RequestContext& context, http::Access access) {
    answer_from_db(app, context, [request = context.request, access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      txn.commit();
      return http::json_response(status::ok, boost::json::object{{"username", caller.name},
                                                                 {"role", auth::role_name(caller.role)},
                                                                 {"kind", caller.is_session() ? "user" : "api_key"},
                                                                 {"permissions", permissions_of(caller.role)}});
    });
  });

  add(router, verb::get, "/api/permissions", http::Access::viewer, [&app](http::RequestContext& context, http::Access access) {
    answer_from_db(app, context, [request = context.request, access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      boost::json::object roles;
      for (auto r : {Role::viewer, Role::operator_, Role::admin}) roles[auth::role_name(r)] = permissions_of(r);
      return http::json_response(status::ok, boost::json::object{{"role", auth::role_name(caller.role)},
                                                                 {"permissions", permissions_of(caller.role)},
                                                                 {"roles", std::move(roles)}});
    });
  });

  add(router, verb::get, "/api/profile/sessions", http::Access::session, [&app](http::RequestContext& context, http::Access access) {
    auto wanted = Deferred<store::PageRequest>::from([&] { return page_request(query_params(context.request)); });
    answer_from_db(app, context, [&app, request = context.request, access, wanted](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      services::require_session(caller);
      const auto page = app.users.sessions(txn, caller.username, wanted.get());
      boost::json::array out;
      for (const auto& s : page.rows) out.push_back(render_session(s, caller.key_id));
      return bare_page(request, std::move(out), page.next);
    });
  });

  add(router, verb::post, "/api/profile/password", http::Access::session, [&app](http::RequestContext& context, http::Access access) {
    auto body = Deferred<boost::json::object>::from([&] { return parse_json_body(context.request); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, access, body](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      const auto& fields = body.get();
      const auto current = json::optional_string(fields, "current_password")
                               .value_or(json::optional_string(fields, "current").value_or(""));
      const auto password = json::optional_string(fields, "new_password")
                                .value_or(json::optional_string(fields, "password").value_or(""));
      const bool changed = weak_password_is_400([&] { return app.users.change_own_password(txn, caller, current, password, ip); });
      txn.commit();  // a refusal is audited too
      if (!changed) throw ApiError(status::forbidden, "Current password is incorrect");
      return ok();
    });
  });

  add(router, verb::post, "/api/auth/totp/setup", http::Access::session, [&app](http::RequestContext& context, http::Access access) {
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, access](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      const auto setup = app.users.totp_setup(txn, caller, ip);
      txn.commit();
      return http::json_response(status::ok, boost::json::object{{"secret", setup.secret}, {"uri", setup.uri}});
    });
  });

  add(router, verb::post, "/api/auth/totp/enable", http::Access::session, [&app](http::RequestContext& context, http::Access access) {
    auto body = Deferred<boost::json::object>::from([&] { return parse_json_body(context.request); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, access, body](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      app.users.totp_enable(txn, caller, json::required_string(body.get(), "code"), ip);
      txn.commit();
      return ok();
    });
  });

  add(router, verb::post, "/api/auth/totp/disable", http::Access::admin, [&app](http::RequestContext& context, http::Access access) {
    auto body = Deferred<boost::json::object>::from([&] { return parse_json_body(context.request); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, access, body](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      app.users.totp_disable(txn, caller, json::required_string(body.get(), "username"), ip);
      txn.commit();
      return ok();
    });
  });

  add(router, verb::get, "/api/admin/users", http::Access::admin, [&app](http::RequestContext& context, http::Access access) {
    auto wanted = Deferred<store::PageRequest>::from(
        [&] { return page_request(query_params(context.request), by_username); });
    answer_from_db(app, context, [&app, request = context.request, access, wanted](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto page = app.users.list(txn, wanted.get());
      boost::json::array out;
      for (const auto& user : page.rows) {
        out.push_back(boost::json::object{{"username", user.username},
                                          {"role", user.role},
                                          {"totp_enabled", user.totp_enabled},
                                          {"created_at", user.created_at},
                                          {"updated_at", user.updated_at}});
      }
      return bare_page(request, std::move(out), page.next);
    });
  });

  add(router, verb::post, "/api/admin/users", http::Access::admin, [&app](http::RequestContext& context, http::Access access) {
    auto body = Deferred<boost::json::object>::from([&] { return parse_json_body(context.request); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, access, body](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      const auto& fields = body.get();
      const auto action = json::required_string(fields, "action");
      const auto username = json::required_string(fields, "username");
      weak_password_is_400([&] {
        if (action == "add") {
          app.users.create(txn, caller.actor(), username, json::optional_string(fields, "role").value_or("viewer"),
                           json::required_string(fields, "password"), ip);
        } else if (action == "remove") {
          app.users.remove(txn, caller, username, ip);
        } else if (action == "change_password") {
          app.users.set_password(txn, caller, username, json::required_string(fields, "password"), ip);
        } else {
          throw json::FieldError("action: must be add, remove or change_password");
        }
        return 0;
      });
      txn.commit();
      return ok();
    });
  });

  add(router, verb::get, "/api/admin/sessions", http::Access::admin, [&app](http::RequestContext& context, http::Access access) {
    auto wanted = Deferred<store::PageRequest>::from([&] { return page_request(query_params(context.request)); });
    answer_from_db(app, context, [&app, request = context.request, access, wanted](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      const auto page = app.users.sessions(txn, std::nullopt, wanted.get());
      boost::json::array out;
      for (const auto& s : page.rows) out.push_back(render_session(s, caller.key_id));
      return bare_page(request, std::move(out), page.next);
    });
  });

  add(router, verb::post, "/api/admin/sessions/revoke", http::Access::admin, [&app](http::RequestContext& context, http::Access access) {
    auto body = Deferred<boost::json::object>::from([&] { return parse_json_body(context.request); });
    answer_from_db(app, context, [&app, request = context.request, ip = context.client_ip, access, body](pqxx::connection& c) {
      pqxx::work txn(c);
      const auto caller = auth::authenticate_operator(txn, request, access);
      const auto& fields = body.get();
      const auto prefix = json::optional_string(fields, "prefix")
                              .value_or(json::optional_string(fields, "token_prefix").value_or(""));
      const auto revoked = app.users.revoke(txn, caller, prefix, ip);
      txn.commit();
      return http::json_response(status::ok, boost::json::object{{"status", "ok"}, {"revoked", revoked}});
    });
  });
}

}  // namespace tether::api
