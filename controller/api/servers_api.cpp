#include "common/json_fields.hpp"
#include "common/utf8.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/api/pagination.hpp"
#include "controller/api/routes.hpp"
#include "controller/services/server_service.hpp"

#include <algorithm>

namespace tether::api {
namespace {

using http::bhttp::status;
using http::bhttp::verb;

boost::json::object render_server(const store::ServerRecord& server, bool connected) {
  return {{"id", server.id},
          {"name", server.name},
          {"tags", string_array(server.tags)},
          {"status", server.status},
          {"connected", connected},
          {"hostname", nullable(server.hostname)},
          {"os", nullable(server.os)},
          {"kernel", nullable(server.kernel)},
          {"arch", nullable(server.arch)},
          {"agent_version", nullable(server.agent_version)},
          {"boot_id", nullable(server.boot_id)},
          {"last_seen_at", nullable(server.last_seen_at)},
          {"created_at", server.created_at}};
}

struct NewServerInput {
  std::string name;
  std::vector<std::string> tags;
};

std::string parse_name(const std::string& name) {
  if (name.empty() || utf8::code_points(name) > 200) {
    throw http::ApiError(status::unprocessable_entity, "name: must be 1 to 200 characters");
  }
  return name;
}

std::vector<std::string> parse_tags(const boost::json::array& tags) {
  if (tags.size() > 50) throw http::ApiError(status::unprocessable_entity, "tags: at most 50 tags are allowed");
  std::vector<std::string> out;
  for (const auto& tag : tags) {
    if (!tag.is_string() || tag.as_string().empty() || utf8::code_points(tag.as_string()) > 64) {
      throw http::ApiError(status::unprocessable_entity, "tags: each tag must be a string of 1 to 64 characters");
    }
    out.emplace_back(tag.as_string());
  }
  return out;
}

NewServerInput parse_new_server(const http::Request& request) {
  const auto body = parse_json_body(request);
  NewServerInput input;
  input.name = parse_name(json::required_string(body, "name"));
  if (auto tags = json::optional_array(body, "tags")) input.tags = parse_tags(*tags);
  return input;
}

// PATCH: each field absent (or null) is left as it is.
struct ServerChange {
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> tags;
};

ServerChange parse_server_change(const http::Request& request) {
  const auto body = parse_json_body(request);
  ServerChange change;
  if (auto name = json::optional_string(body, "name")) change.name = parse_name(*name);
  if (auto tags = json::optional_array(body, "tags")) change.tags = parse_tags(*tags);
  return change;
}

// GET /api/servers?status=&tag=&name_prefix=: 422 naming the parameter when it cannot match.
store::servers::ListFilter parse_server_filter(const std::map<std::string, std::string>& params) {
  store::servers::ListFilter filter;
  if (auto it = params.find("status"); it != params.end()) {
    static const std::vector<std::string> statuses = {"provisioning", "active", "unreachable", "decommissioned"};
    if (std::find(statuses.begin(), statuses.end(), it->second) == statuses.end()) {
      throw http::ApiError(status::unprocessable_entity,
                           "status: must be one of provisioning, active, unreachable, decommissioned");
    }
    filter.status = it->second;
  }
  if (auto it = params.find("tag"); it != params.end()) {
    if (it->second.empty() || utf8::code_points(it->second) > 64) {
      throw http::ApiError(status::unprocessable_entity, "tag: must be 1 to 64 characters");
    }
    filter.tag = it->second;
  }
  if (auto it = params.find("name_prefix"); it != params.end()) {
    if (it->second.empty() || utf8::code_points(it->second) > 200) {
      throw http::ApiError(status::unprocessable_entity, "name_prefix: must be 1 to 200 characters");
    }
    filter.name_prefix = it->second;
  }
  return filter;
}

}  // namespace

void add_server_routes(http::Router& router, app::AppContext& app) {
  router.add(verb::post, "/api/servers", http::Access::admin, [&app](http::RequestContext& context) {
    auto input = Deferred<NewServerInput>::from([&] { return parse_new_server(context.request); });
    answer_from_db(app, context,
                   [&app, request = context.request, ip = context.client_ip, input,
                    access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto& server = input.get();
                     auto created = services::create_server(txn, actor, server.name, server.tags, ip);
                     txn.commit();
                     auto body = render_server(created.server, app.dispatcher.connected(created.server.id));
                     body["agent_token"] = created.agent_token;
                     return http::json_response(status::created, body);
                   });
  });

  router.add(verb::get, "/api/servers", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context, [&app, request = context.request, access = context.access](pqxx::connection& c) {
      pqxx::read_transaction txn(c);
      auth::authenticate_operator(txn, request, access);
      const auto params = query_params(request);
      const auto filter = parse_server_filter(params);
      const auto page = services::list_servers(txn, filter, page_request(params, {SortKey::text, RowId::uuid}));
      boost::json::array servers;
      for (const auto& server : page.rows) {
        servers.push_back(render_server(server, app.dispatcher.connected(server.id)));
      }
      boost::json::object body{{"servers", std::move(servers)}};
      add_next_cursor(body, page.next);
      return http::json_response(status::ok, body);
    });
  });

  router.add(verb::get, "/api/servers/{id}", http::Access::viewer, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params,
                    access = context.access](pqxx::connection& c) {
                     pqxx::read_transaction txn(c);
                     auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "server");
                     const auto server = services::get_server(txn, id);
                     return http::json_response(status::ok, render_server(server, app.dispatcher.connected(id)));
                   });
  });

  router.add(verb::patch, "/api/servers/{id}", http::Access::operator_, [&app](http::RequestContext& context) {
    auto input = Deferred<ServerChange>::from([&] { return parse_server_change(context.request); });
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params, ip = context.client_ip,
                    input, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "server");
                     const auto& change = input.get();
                     auto server = services::update_server(txn, actor, id, change.name, change.tags, ip);
                     txn.commit();
                     return http::json_response(status::ok, render_server(server, app.dispatcher.connected(id)));
                   });
  });

  router.add(verb::delete_, "/api/servers/{id}", http::Access::admin, [&app](http::RequestContext& context) {
    answer_from_db(app, context,
                   [&app, request = context.request, params = context.path_params,
                    ip = context.client_ip, access = context.access](pqxx::connection& c) {
                     pqxx::work txn(c);
                     const auto actor = auth::authenticate_operator(txn, request, access);
                     const auto id = uuid_path_param(params, "id", "server");
                     services::decommission_server(txn, actor, id, ip);
                     txn.commit();
                     app.dispatcher.disconnect(id, "server decommissioned");
                     return http::json_response(status::ok,
                                                boost::json::object{{"id", id}, {"status", "decommissioned"}});
                   });
  });
}

}  // namespace tether::api
