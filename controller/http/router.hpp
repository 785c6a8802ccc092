#pragma once
// Maps method + path pattern ("/api/servers/{id}") to a handler. Unknown paths answer 404,
// known paths with another method 405 with an Allow header. A GET route also serves HEAD (the
// connection leaves the body out). Errors echo at most the head of what the client sent.
#include "controller/http/types.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tether::http {

using Handler = std::function<void(RequestContext&)>;

class Router {
 public:
  void add(bhttp::verb method, std::string pattern, Handler handler);
  // Runs the matching handler (which answers through context.responder) or answers itself.
  void route(RequestContext& context) const;

 private:
  struct Route {
    bhttp::verb method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>& params);
  std::vector<Route> routes_;
};

std::vector<std::string> split_path(std::string_view path);

}  // namespace tether::http
