#include "controller/api/handler_support.hpp"

#include "common/cron.hpp"
#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/time.hpp"
#include "common/utf8.hpp"
#include "controller/api/v1/operation_view.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/services/operation_service.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/run_store.hpp"

#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

namespace tether::api {

using http::bhttp::status;

http::bhttp::status status_of(services::Refusal refusal) {
  switch (refusal) {
    case services::Refusal::invalid: return status::unprocessable_entity;
    case services::Refusal::unauthenticated: return status::unauthorized;
    case services::Refusal::forbidden: return status::forbidden;
    case services::Refusal::not_found: return status::not_found;
    case services::Refusal::conflict: return status::conflict;
    case services::Refusal::unavailable: return status::service_unavailable;
    case services::Refusal::failed: break;
  }
  return status::internal_server_error;
}

namespace {

http::Response failure_response(http::bhttp::status code, const std::string& message, ErrorBody body,
                                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  auto response = body == ErrorBody::detail
                      ? http::error_response(code, message)
                      : http::json_response(code, boost::json::object{{"error", message}, {"detail", message}});
  for (const auto& [name, value] : headers) response.set(name, value);
  return response;
}

}  // namespace

http::Response response_for_failure(std::exception_ptr error, ErrorBody body) {
  try {
    std::rethrow_exception(error);
  } catch (const http::ApiError& e) {
    return failure_response(e.status(), e.what(), body, e.headers());
  } catch (const services::ServiceError& e) {
    return failure_response(status_of(e.refusal()), e.what(), body);
  } catch (const json::FieldError& e) {
    return failure_response(status::unprocessable_entity, e.what(), body);
  } catch (const cron::InvalidSchedule& e) {
    return failure_response(status::unprocessable_entity, e.what(), body);
  } catch (const pqxx::broken_connection& e) {
    spdlog::warn("event=database_unavailable error=\"{}\"", e.what());
    return failure_response(status::service_unavailable, "database unavailable; retry later", body);
  } catch (const std::exception& e) {
    spdlog::error("event=request_failed error=\"{}\"", e.what());
    return failure_response(status::internal_server_error, "internal error", body);
  }
}

void respond_from_db(app::AppContext& app, const http::RequestContext& context, RespondingWork act) {
  app.db.submit(
      [&app, responder = context.responder, call = operator_call(context),
       act = std::move(act)](pqxx::connection& connection) {
        try {
          act(connection, responder);
        } catch (const auth::AuthenticationFailed& failure) {
          throw refuse_unauthenticated(app, connection, call, failure);
        } catch (const auth::RoleRefused& refused) {
          services::record_role_refusal(connection, refused.actor(), call, refused.what());
          throw;
        }
      },
      [responder = context.responder](std::exception_ptr error) {
        responder.send(response_for_failure(error, ErrorBody::error_and_detail));
      });
}

void answer_from_db(app::AppContext& app, const http::RequestContext& context, DbWork work) {
  respond_from_db(app, context, [work = std::move(work)](pqxx::connection& connection, const http::Responder& responder) {
    responder.send(work(connection));
  });
}

boost::json::object parse_json_body(const http::Request& request) {
  try {
    return json::parse_storable_object(request.body());
  } catch (const json::FieldError& e) {
    throw http::ApiError(status::unprocessable_entity, e.what());
  }
}

std::string uuid_path_param(const std::map<std::string, std::string>& params, const std::string& name,
                            const std::string& what) {
  auto it = params.find(name);
  auto parsed = it == params.end() ? std::nullopt : ids::parse_uuid(it->second);
  if (!parsed) throw http::ApiError(status::not_found, what + " not found");
  return *parsed;
}

std::map<std::string, std::string> query_params(const http::Request& request) {
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target) throw http::ApiError(status::unprocessable_entity, "malformed request target");
  std::map<std::string, std::string> params;
  for (const auto& param : target->params()) {
    // PostgreSQL text cannot hold a NUL (libpq would cut the value there): refuse it by name.
    if (param.value.find('\0') != std::string::npos || param.key.find('\0') != std::string::npos) {
      throw http::ApiError(status::unprocessable_entity,
                           utf8::sanitize(param.key.substr(0, param.key.find('\0')).substr(0, 64)) +
                               ": must not contain the NUL character (%00)");
    }
    params[param.key] = param.value;
  }
  return params;
}

int limit_query_param(const std::map<std::string, std::string>& params, int fallback, int max) {
  auto it = params.find("limit");
  if (it == params.end()) return fallback;
  int limit = 0;
  const auto& text = it->second;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || limit < 1 || limit > max) {
    throw http::ApiError(status::unprocessable_entity, "limit: must be an integer from 1 to " + std::to_string(max));
  }
  return limit;
}

std::optional<std::int64_t> time_query_param_us(const std::map<std::string, std::string>& params,
                                                const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  auto when = timeutil::parse_rfc3339(it->second);
  if (!when) throw http::ApiError(status::unprocessable_entity, name + ": must be an RFC 3339 date-time");
  return std::chrono::duration_cast<std::chrono::microseconds>(when->time_since_epoch()).count();
}

std::optional<std::string> uuid_query_param(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  auto parsed = ids::parse_uuid(it->second);
  if (!parsed) throw http::ApiError(status::unprocessable_entity, name + ": must be a UUID");
  return parsed;
}

boost::json::value nullable(const std::optional<std::string>& value) {
  return value ? boost::json::value(*value) : boost::json::value(nullptr);
}

boost::json::array string_array(const std::vector<std::string>& values) {
  boost::json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

}  // namespace tether::api

namespace tether::api {

store::RunRecord run_or_404(pqxx::transaction_base& txn, const std::string& id) {
  auto run = store::runs::find(txn, id);
  if (!run) throw http::ApiError(status::not_found, "run not found");
  return std::move(*run);
}

void after_commit(app::AppContext& app, const runs::AfterCommit& after) {
  app.fanout.after_commit(after);
  if (app.advance_runs && !after.runs_to_advance.empty()) app.advance_runs(after.runs_to_advance);
}

http::Response finish_cancel(app::AppContext& app, const operations::CancelOutcome& outcome) {
  const auto& operation = outcome.operation;
  app.lifecycle.after_cancel(outcome);
  return http::json_response(status::accepted,
                             boost::json::object{{"operation_id", operation.id},
                                                 {"status", v1::public_status(operation.status)},
                                                 {"cancel_requested", true}});
}

services::DeniedCall operator_call(const http::RequestContext& context) {
  constexpr std::size_t longest_path = 200;
  const std::string_view target = context.request.target();
  const auto path = target.substr(0, std::min(target.find('?'), longest_path));
  return services::DeniedCall{
      utf8::sanitize(std::string(context.request.method_string()) + " " + std::string(path)),
      context.client_ip, std::nullopt,
      std::nullopt};
}

http::ApiError refuse_unauthenticated(app::AppContext& app, pqxx::connection& connection,
                                      const services::DeniedCall& call, const auth::AuthenticationFailed& failure) {
  const auto verdict = app.auth_failures.record_failure(call.client_ip);
  const auto code = verdict.retry_after ? status::too_many_requests : status::unauthorized;
  services::record_authentication_failure(connection, verdict, call, static_cast<int>(code), failure.what());
  if (!verdict.retry_after) return failure;
  if (verdict.failures == app.settings.auth_failure_threshold + 1) {
    spdlog::warn("event=auth_failures_limited address={} failures={} window_seconds={}", verdict.address,
                 verdict.failures, app.settings.auth_failure_window_seconds);
  }
  return http::ApiError(status::too_many_requests,
                        fmt::format("too many failed authentications from {}; retry in {} s", verdict.address,
                                    *verdict.retry_after),
                        {{"Retry-After", std::to_string(*verdict.retry_after)}});
}

}  // namespace tether::api
