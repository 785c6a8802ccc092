// GET /api/openapi.json: the OpenAPI document of every route this router serves, built once the
// other routes are registered (so it cannot list a route the router lacks, nor miss one).
// GET /api/docs: a self-contained reference page that renders that document in the browser.
#include "controller/api/openapi/openapi_document.hpp"
#include "controller/api/routes.hpp"
#include "controller/http/responses.hpp"

#include <memory>

namespace tether::api {
namespace {

// No external script or style: the page renders /api/openapi.json with the code below.
constexpr std::string_view reference_page = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tether API reference</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
details{border:1px solid #e3e3e3;border-radius:4px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer}code,pre{font-family:ui-monospace,monospace}
.m{display:inline-block;min-width:4.5rem;font-weight:600}.a{float:right;color:#666}
pre{background:#f6f6f6;padding:.5rem;overflow:auto}
</style></head><body>
<h1>Tether API reference</h1>
<p>Rendered from <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>
<div id="api">Loading…</div>
<script>
const text = (tag, content, cls) => { const e = document.createElement(tag); if (cls) e.className = cls; e.textContent = content; return e; };
const schemaText = (doc, s) => JSON.stringify(s && s.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s, null, 2);
fetch('/api/openapi.json').then(r => r.json()).then(doc => {
  const root = document.getElementById('api'); root.textContent = '';
  const groups = {};
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) (groups[op.tags[0]] ||= []).push([method, path, op]);
  for (const [tag, ops] of Object.entries(groups)) {
    root.append(text('h2', tag));
    for (const [method, path, op] of ops) {
      const d = document.createElement('details'), s = document.createElement('summary');
      s.append(text('span', method.toUpperCase(), 'm'), text('code', path), text('span', op['x-tether-access'], 'a'));
      d.append(s, text('p', op.summary), text('p', op.description));
      for (const p of op.parameters || []) d.append(text('p', `${p.in} ${p.name}${p.required ? ' (required)' : ''}: ${p.description || p.schema.type}`));
      const body = op.requestBody && op.requestBody.content['application/json'];
      if (body) { d.append(text('p', 'Body:')); d.append(text('pre', schemaText(doc, body.schema))); }
      for (const [status, r] of Object.entries(op.responses)) {
        d.append(text('p', `${status}: ${r.description}`));
        const json = r.content && r.content['application/json'];
        if (json && status < 300) d.append(text('pre', schemaText(doc, json.schema)));
      }
      root.append(d);
    }
  }
}).catch(e => { document.getElementById('api').textContent = 'Could not load the document: ' + e; });
</script></body></html>
)html";

}  // namespace

void add_openapi_routes(http::Router& router, app::AppContext&) {
  auto document = std::make_shared<std::string>();
  router.add(http::bhttp::verb::get, "/api/openapi.json", http::Access::public_,
             [document](http::RequestContext& context) {
               context.responder.send(http::text_response(http::bhttp::status::ok, "application/json", *document));
             });
  router.add(http::bhttp::verb::get, "/api/docs", http::Access::public_, [](http::RequestContext& context) {
    context.responder.send(
        http::text_response(http::bhttp::status::ok, "text/html; charset=utf-8", std::string(reference_page)));
  });
  // Every route is registered by now (these two are added last): the document lists them all.
  std::vector<RouteEntry> routes;
  for (const auto& route : router.routes()) {
    routes.push_back(RouteEntry{std::string(http::bhttp::to_string(route.method)), route.pattern, route.access});
  }
  *document = boost::json::serialize(openapi::document(routes, TETHER_VERSION));
}

}  // namespace tether::api
