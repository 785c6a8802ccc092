#include "controller/http/router.hpp"

#include "common/utf8.hpp"
#include "controller/http/responses.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace tether::http {
namespace {

// A client's path or method as echoed in an error: its head only (a 15 KB path is not sent back),
// as valid UTF-8 so that the answer stays valid JSON.
std::string echoed(std::string_view text) {
  constexpr std::size_t max_echo_bytes = 100;
  const auto head = utf8::head(text, max_echo_bytes);
  return utf8::sanitize(head) + (head.size() < text.size() ? "..." : "");
}

// HEAD is answered wherever GET is: the connection sends the GET answer's head without its body.
bool serves(const bhttp::verb route_method, const bhttp::verb request_method) {
  return route_method == request_method || (request_method == bhttp::verb::head && route_method == bhttp::verb::get);
}

// Passes the answer on and tells the router's observer what was answered and when.
class ObservedSink final : public ResponseSink {
 public:
  ObservedSink(std::shared_ptr<ResponseSink> inner, const RequestObserver& observer, std::string_view method,
               std::string_view route)
      : inner_(std::move(inner)), observer_(observer), method_(method), route_(route),
        started_(std::chrono::steady_clock::now()) {}

  // Observed first, so that a client that has its answer finds it counted.
  void deliver(Response response) override {
    observe(response.result_int());
    inner_->deliver(std::move(response));
  }
  void deliver_event_stream(std::shared_ptr<StreamProducer> producer) override {
    observe(200);
    inner_->deliver_event_stream(std::move(producer));
  }

 private:
  void observe(unsigned status) {
    observer_(method_, route_, status,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  }
  std::shared_ptr<ResponseSink> inner_;
  const RequestObserver& observer_;  // the router's, which outlives every request
  std::string method_;
  std::string route_;
  std::chrono::steady_clock::time_point started_;
};

// A method as a label: one of the known verbs, never a client's invented one.
std::string_view method_label(bhttp::verb method) {
  if (method == bhttp::verb::unknown) return "other";
  const auto name = bhttp::to_string(method);
  return std::string_view(name.data(), name.size());
}

}  // namespace

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

void Router::add(bhttp::verb method, std::string pattern, Access access, Handler handler) {
  auto segments = split_path(pattern);
  routes_.push_back(Route{method, std::move(pattern), std::move(segments), access, std::move(handler)});
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.push_back(RouteInfo{route.method, route.pattern, route.access});
  return out;
}

bool Router::match(const Route& route, const std::vector<std::string>& segments,
                   std::map<std::string, std::string>& params) {
  if (route.segments.size() != segments.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& expected = route.segments[i];
    if (expected.size() > 2 && expected.front() == '{' && expected.back() == '}') {
      found[expected.substr(1, expected.size() - 2)] = segments[i];
    } else if (expected != segments[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

void Router::route(RequestContext& context) const {
  std::string_view target = context.request.target();
  const auto path = target.substr(0, target.find('?'));
  const auto segments = split_path(path);
  std::string allowed;
  const std::string* path_pattern = nullptr;
  const auto observed = [&](std::string_view route) {
    if (!observer_) return;
    context.responder = Responder(std::make_shared<ObservedSink>(context.responder.sink(), observer_,
                                                                 method_label(context.request.method()), route));
  };
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!match(route, segments, params)) continue;
    if (!serves(route.method, context.request.method())) {
      if (!path_pattern) path_pattern = &route.pattern;
      if (!allowed.empty()) allowed += ", ";
      allowed += std::string(bhttp::to_string(route.method));
      if (route.method == bhttp::verb::get) allowed += ", HEAD";
      continue;
    }
    context.path_params = std::move(params);
    context.access = route.access;
    observed(route.pattern);
    try {
      if (client_address_) context.client_ip = client_address_(context);
      route.handler(context);
    } catch (const ApiError& error) {
      context.responder.send(error_response(error));
    } catch (const std::exception& error) {
      spdlog::error("event=handler_failed path=\"{}\" error=\"{}\"", echoed(path), error.what());
      context.responder.send(error_response(bhttp::status::internal_server_error, "internal error"));
    }
    return;
  }
  // A known path asked with another method keeps its pattern (no part of it chosen by the client).
  observed(path_pattern ? std::string_view(*path_pattern) : std::string_view("unmatched"));
  if (!allowed.empty()) {
    auto response = error_response(bhttp::status::method_not_allowed,
                                   "method " + echoed(context.request.method_string()) + " is not allowed here");
    response.set(bhttp::field::allow, allowed);
    context.responder.send(std::move(response));
    return;
  }
  context.responder.send(
      error_response(bhttp::status::not_found, "no such endpoint: " + echoed(path)));
}

}  // namespace tether::http
