#pragma once
// Maps method + path pattern ("/api/servers/{id}") to a handler. Unknown paths answer 404,
// known paths with another method 405 with an Allow header. A GET route also serves HEAD (the
// connection leaves the body out). Errors echo at most the head of what the client sent.
// Every route declares its Access when it is added (there is no add without one); the matched
// route's Access is put in the RequestContext for the handler to authenticate with.
#include "controller/http/access.hpp"
#include "controller/http/types.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tether::http {

using Handler = std::function<void(RequestContext&)>;

// Told of every request the router answers (by its handler or itself), as its answer is handed
// to the connection: the method, the matched route's pattern ("unmatched" when none matched:
// the label stays bounded whatever path a client sends), the status (200 for an event stream) and
// the seconds since routing began. Called from whichever thread answers.
using RequestObserver =
    std::function<void(std::string_view method, std::string_view route, unsigned status, double seconds)>;

// A registered route as the route table lists it.
struct RouteInfo {
  bhttp::verb method;
  std::string pattern;  // as registered: "/api/servers/{id}"
  Access access;
};

// The client's address as handlers and the audit log see it (after trusted-proxy resolution),
// from the connection's peer address and the request.
using ClientAddress = std::function<std::string(const RequestContext&)>;

class Router {
 public:
  void add(bhttp::verb method, std::string pattern, Access access, Handler handler);
  // Before a matched route's handler runs, context.client_ip becomes `resolve(context)`. Without
  // one it stays the peer's address.
  void resolve_client_address_with(ClientAddress resolve) { client_address_ = std::move(resolve); }
  // Runs the matching handler (which answers through context.responder, with context.access set
  // to the route's declared Access) or answers itself.
  void route(RequestContext& context) const;
  // Every route added, in the order added.
  std::vector<RouteInfo> routes() const;
  // Set before serving.
  void observe(RequestObserver observer) { observer_ = std::move(observer); }

 private:
  struct Route {
    bhttp::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Access access;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>& params);
  std::vector<Route> routes_;
  ClientAddress client_address_;
  RequestObserver observer_;
};

std::vector<std::string> split_path(std::string_view path);

}  // namespace tether::http
