#pragma once
#include "controller/app/app_context.hpp"
#include "controller/http/router.hpp"

namespace tether::api {

void add_health_routes(http::Router& router, app::AppContext& app);
void add_server_routes(http::Router& router, app::AppContext& app);
void add_automation_key_routes(http::Router& router, app::AppContext& app);
void add_v1_routes(http::Router& router, app::AppContext& app);
void add_application_routes(http::Router& router, app::AppContext& app);
void add_registry_credential_routes(http::Router& router, app::AppContext& app);
void add_operation_routes(http::Router& router, app::AppContext& app);
void add_job_routes(http::Router& router, app::AppContext& app);
void add_run_routes(http::Router& router, app::AppContext& app);
void add_trigger_routes(http::Router& router, app::AppContext& app);
void add_webhook_routes(http::Router& router, app::AppContext& app);
void add_template_routes(http::Router& router, app::AppContext& app);
void add_portability_routes(http::Router& router, app::AppContext& app);
void add_seed000_automation_routes(http::Router& router, app::AppContext& app);
void add_auth_routes(http::Router& router, app::AppContext& app);
void add_maintenance_routes(http::Router& router, app::AppContext& app);
void add_system_automation_routes(http::Router& router, app::AppContext& app);
void add_approval_routes(http::Router& router, app::AppContext& app);
void add_api_key_routes(http::Router& router, app::AppContext& app);
// GET /metrics: a viewer key on the main listener; public_ on the --metrics-listen one.
void add_metrics_routes(http::Router& router, app::AppContext& app, http::Access access = http::Access::viewer);
// Last: the document it serves lists every route registered before it.
void add_openapi_routes(http::Router& router, app::AppContext& app);

inline void add_all_routes(http::Router& router, app::AppContext& app) {
  add_health_routes(router, app);
  add_server_routes(router, app);
  add_automation_key_routes(router, app);
  add_v1_routes(router, app);
  add_application_routes(router, app);
  add_registry_credential_routes(router, app);
  add_operation_routes(router, app);
  add_job_routes(router, app);
  add_run_routes(router, app);
  add_trigger_routes(router, app);
  add_webhook_routes(router, app);
  add_template_routes(router, app);
  add_portability_routes(router, app);
  add_seed000_automation_routes(router, app);
  add_auth_routes(router, app);
  add_maintenance_routes(router, app);
  add_system_automation_routes(router, app);
  add_approval_routes(router, app);
  add_api_key_routes(router, app);
  add_metrics_routes(router, app);
  add_openapi_routes(router, app);
}

}  // namespace tether::api
