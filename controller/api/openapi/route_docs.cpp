#include "controller/api/openapi/route_docs.hpp"

#include <array>

namespace tether::api::openapi {

const std::vector<RouteDoc>& route_docs() {
  static const std::vector<RouteDoc> docs = {
      {"GET", "/api/health", "health", "Liveness, version, uptime, database and connected agents (503 when the database does not answer)", "", "", 200, "Health"},
      {"GET", "/api/openapi.json", "health", "This OpenAPI document", "", "", 200, "OpenApi"},
      {"GET", "/api/docs", "health", "A reference page for this document (HTML)", "", "", 200, "html"},
      {"GET", "/metrics", "health", "Prometheus metrics (text exposition format 0.0.4); also without a key on --metrics-listen", "", "", 200, "prometheus"},

      {"POST", "/api/servers", "servers", "Register a server; its agent token is shown once", "", "ServerCreate", 201, "ServerCreated"},
      {"GET", "/api/servers", "servers", "List servers by name, a page at a time", "status,tag,name_prefix,limit,cursor", "", 200, "ServerList"},
      {"GET", "/api/servers/{id}", "servers", "One server", "", "", 200, "Server"},
      {"PATCH", "/api/servers/{id}", "servers", "Rename a server or replace its tags", "", "ServerPatch", 200, "Server"},
      {"DELETE", "/api/servers/{id}", "servers", "Decommission a server (its agent token stops working)", "", "", 200, "Decommissioned"},

      {"POST", "/api/automation-keys", "automation keys", "Create an rca_ automation key; the secret is shown once", "", "AutomationKeyInput", 201, "AutomationKey"},
      {"GET", "/api/automation-keys", "automation keys", "List automation keys (never their secrets)", "limit,cursor", "", 200, "AutomationKeyList"},
      {"PATCH", "/api/automation-keys/{id}", "automation keys", "Replace a key's name and scopes", "", "AutomationKeyInput", 200, "AutomationKey"},
      {"DELETE", "/api/automation-keys/{id}", "automation keys", "Revoke a key", "", "", 200, "Revoked"},
      {"GET", "/api/automation-keys/{id}/operations", "automation keys", "A key's operations, newest first", "run_id,limit,cursor", "", 200, "OperationList"},

      {"POST", "/api/automation/v1/exec", "ci (v1)", "Run a command; answers the result when it ends within the sync wait, else running", "", "ExecRequest", 200, "V1Result"},
      {"POST", "/api/automation/v1/deploy", "ci (v1)", "Deploy an application (asynchronous)", "", "DeployRequest", 200, "V1Result"},
      {"POST", "/api/automation/v1/restart", "ci (v1)", "Restart a container", "", "RestartRequest", 200, "V1Result"},
      {"POST", "/api/automation/v1/reboot", "ci (v1)", "Reboot a server", "", "RebootRequest", 200, "V1Result"},
      {"POST", "/api/automation/v1/registry-auth/login", "ci (v1)", "Log a server in to a registry with a stored credential (asynchronous)", "", "RegistryLoginRequest", 202, "V1Result"},
      {"POST", "/api/automation/v1/registry-auth/logout", "ci (v1)", "Log a server out of a registry", "", "RegistryLogoutRequest", 200, "V1Result"},
      {"GET", "/api/automation/v1/operations/{operation_id}", "ci (v1)", "Poll an operation", "", "", 200, "V1Operation"},
      {"GET", "/api/automation/v1/operations/{operation_id}/stream", "ci (v1)", "An operation's output as it comes (Server-Sent Events)", "", "", 200, "sse"},
      {"POST", "/api/automation/v1/operations/{operation_id}/cancel", "ci (v1)", "Cancel an operation", "", "", 202, "CancelRequested"},

      {"POST", "/api/applications", "applications", "Create a deploy target", "", "ApplicationInput", 201, "Application"},
      {"GET", "/api/applications", "applications", "List applications", "limit,cursor", "", 200, "ApplicationList"},
      {"GET", "/api/applications/{id}", "applications", "One application", "", "", 200, "Application"},
      {"PATCH", "/api/applications/{id}", "applications", "Change an application", "", "ApplicationInput", 200, "Application"},
      {"DELETE", "/api/applications/{id}", "applications", "Delete an application (its deployments stay)", "", "", 200, "Deleted"},
      {"GET", "/api/deployments", "applications", "List deployments, newest first", "application_id,limit,cursor", "", 200, "DeploymentList"},
      {"GET", "/api/deployments/{id}", "applications", "One deployment", "", "", 200, "Deployment"},

      {"POST", "/api/registry-credentials", "registry credentials", "Store a registry credential (the password is encrypted at rest)", "", "RegistryCredentialInput", 201, "RegistryCredential"},
      {"GET", "/api/registry-credentials", "registry credentials", "List registry credentials (never their passwords)", "limit,cursor", "", 200, "RegistryCredentialList"},
      {"GET", "/api/registry-credentials/{id}", "registry credentials", "One registry credential", "", "", 200, "RegistryCredential"},
      {"PATCH", "/api/registry-credentials/{id}", "registry credentials", "Change a registry credential", "", "RegistryCredentialInput", 200, "RegistryCredential"},
      {"DELETE", "/api/registry-credentials/{id}", "registry credentials", "Delete a registry credential", "", "", 200, "Deleted"},

      {"GET", "/api/operations", "operations", "List operations, newest first", "run_id,key_id,limit,cursor", "", 200, "OperationList"},
      {"GET", "/api/operations/{id}", "operations", "One operation with its output head", "", "", 200, "Operation"},
      {"GET", "/api/operations/{id}/stream", "operations", "An operation's output as it comes (Server-Sent Events)", "token", "", 200, "sse"},
      {"POST", "/api/operations/{id}/cancel", "operations", "Cancel an operation", "", "", 202, "CancelRequested"},
      {"GET", "/api/audit", "audit", "The audit log, newest first", "key_id,server_id,run_id,action,action_prefix,actor,username,since,until,limit,cursor", "", 200, "AuditList"},

      {"GET", "/api/automation/jobs", "jobs", "List jobs, newest first", "source,limit,cursor", "", 200, "JobList"},
      {"POST", "/api/automation/jobs", "jobs", "Create a job", "", "JobInput", 201, "JobEnvelope"},
      {"GET", "/api/automation/jobs/{id}", "jobs", "One job", "", "", 200, "JobEnvelope"},
      {"PATCH", "/api/automation/jobs/{id}", "jobs", "Change a job (RFC 7396 merge patch)", "", "JobInput", 200, "JobEnvelope"},
      {"DELETE", "/api/automation/jobs/{id}", "jobs", "Delete a job and its triggers (its runs stay)", "", "", 204, ""},
      {"GET", "/api/automation/jobs/{id}/runs", "jobs", "A job's runs, newest first", "status,since,until,limit,cursor", "", 200, "RunList"},
      {"POST", "/api/automation/jobs/{id}/trigger", "jobs", "Fire a job now", "", "", 201, "RunEnvelope"},
      {"POST", "/api/automation/runs", "runs", "Fan an operation out to servers now (an ad hoc run)", "", "AdHocRun", 201, "RunEnvelope"},
      {"GET", "/api/automation/runs", "runs", "List runs, newest first", "status,since,until,job_id,trigger_id,limit,cursor", "", 200, "RunList"},
      {"GET", "/api/automation/runs/{id}", "runs", "One run with its targets", "", "", 200, "RunEnvelope"},
      {"POST", "/api/automation/runs/{id}/cancel", "runs", "Cancel a run", "", "", 202, "RunEnvelope"},
      {"GET", "/api/automation/runs/{id}/stream", "runs", "A run's output, all targets, as it comes (Server-Sent Events)", "token", "", 200, "sse"},

      {"GET", "/api/automation/triggers", "triggers", "List triggers, newest first", "source,event,limit,cursor", "", 200, "TriggerList"},
      {"POST", "/api/automation/triggers", "triggers", "Create an event or webhook trigger", "", "Trigger", 201, "TriggerEnvelope"},
      {"GET", "/api/automation/triggers/{id}", "triggers", "One trigger", "", "", 200, "TriggerEnvelope"},
      {"PATCH", "/api/automation/triggers/{id}", "triggers", "Change a trigger (RFC 7396 merge patch)", "", "Trigger", 200, "TriggerEnvelope"},
      {"DELETE", "/api/automation/triggers/{id}", "triggers", "Delete a trigger", "", "", 204, ""},
      {"POST", "/api/automation/triggers/{id}/rotate-secret", "triggers", "Replace a webhook trigger's secret; the new one is shown once", "", "", 200, "TriggerEnvelope"},
      {"GET", "/api/automation/triggers/{id}/runs", "triggers", "A trigger's runs, newest first", "status,since,until,limit,cursor", "", 200, "RunList"},
      {"POST", "/api/webhooks/global/{endpoint}", "webhooks", "Inbound webhook, signed (X-Tether-Webhook-*, X-AGH-Webhook-* or GitHub's X-Hub-Signature-256)", "", "", 200, "WebhookDelivery"},
      {"POST", "/api/automations/webhook/{token}", "webhooks", "Inbound webhook authenticated by the token in its path (seed 000)", "", "", 200, "Seed000RunStarted"},

      {"GET", "/api/automation/templates", "templates", "The built-in job templates", "", "", 200, "TemplateList"},
      {"POST", "/api/automation/templates/{id}/apply", "templates", "Create a job from a template", "", "TemplateApply", 201, "JobEnvelope"},
      {"GET", "/api/automation/export", "templates", "Export jobs and triggers", "", "", 200, "Export"},
      {"POST", "/api/automation/import", "templates", "Import an export (ids are regenerated)", "", "Export", 200, "ImportResult"},

      {"GET", "/api/automations", "automations (seed 000)", "List automations, newest first", "limit,cursor", "", 200, "Seed000AutomationList"},
      {"POST", "/api/automations", "automations (seed 000)", "Create an automation", "", "Seed000AutomationInput", 201, "Seed000Created"},
      {"GET", "/api/automations/export", "automations (seed 000)", "Export automations", "", "", 200, "Seed000Export"},
      {"POST", "/api/automations/import", "automations (seed 000)", "Import automations", "", "Seed000Export", 200, "ImportResult"},
      {"GET", "/api/automations/templates", "automations (seed 000)", "The template library", "", "", 200, "TemplateList"},
      {"POST", "/api/automations/templates/{template_id}/apply", "automations (seed 000)", "Create an automation from a template", "", "TemplateApply", 201, "Seed000Created"},
      {"GET", "/api/automations/runs/{run_id}", "automations (seed 000)", "A run with its output", "", "", 200, "Seed000Run"},
      {"GET", "/api/automations/runs/{run_id}/stream", "automations (seed 000)", "A run's output as it comes (Server-Sent Events)", "token", "", 200, "sse"},
      {"PUT", "/api/automations/{id}", "automations (seed 000)", "Replace an automation", "", "Seed000AutomationInput", 200, "Status"},
      {"DELETE", "/api/automations/{id}", "automations (seed 000)", "Delete an automation", "", "", 200, "Status"},
      {"POST", "/api/automations/{id}/run", "automations (seed 000)", "Run an automation now", "", "", 200, "Seed000RunStarted"},

      {"GET", "/api/client/v1/automations", "controller loops (seed 001)", "The controller's own loops with their live state", "", "", 200, "SystemAutomationList"},
      {"GET", "/api/client/v1/automations/{key}", "controller loops (seed 001)", "One loop (400 on a malformed key, 404 on an unknown one)", "", "", 200, "SystemAutomationEnvelope"},
      {"POST", "/api/client/v1/automations/{key}/run", "controller loops (seed 001)", "Run a loop now and wait for the pass", "", "", 200, "SystemAutomationEnvelope"},
      {"POST", "/api/client/v1/automations/{key}/pause", "controller loops (seed 001)", "Pause a loop on every controller (500 for one that cannot be paused)", "", "", 200, "SystemAutomationEnvelope"},
      {"POST", "/api/client/v1/automations/{key}/resume", "controller loops (seed 001)", "Resume a paused loop", "", "", 200, "SystemAutomationEnvelope"},

      {"GET", "/api/approvals", "approvals", "Approval requests (default: pending), newest first", "status,limit,cursor", "", 200, "ApprovalList"},
      {"GET", "/api/approvals/count", "approvals", "How many requests are pending", "", "", 200, "ApprovalCount"},
      {"GET", "/api/approvals/{id}", "approvals", "One approval request", "", "", 200, "Approval"},
      {"POST", "/api/approvals/{id}/approve", "approvals", "Approve: the run starts (a listed approver or an admin, never the requester)", "", "?ApprovalComment", 200, "ApprovalDecided"},
      {"POST", "/api/approvals/{id}/reject", "approvals", "Reject: the run is canceled with the reason", "", "?ApprovalComment", 200, "ApprovalDecided"},
      {"POST", "/api/approvals/{id}/decide", "approvals", "Approve or deny (seed 004)", "", "ApprovalDecide", 200, "ApprovalDecided"},

      {"POST", "/api/login", "users", "Log in; answers a session token (24 h)", "", "Login", 200, "LoginResult"},
      {"POST", "/api/logout", "users", "End the calling session", "", "", 200, "Status"},
      {"GET", "/api/me", "users", "The caller, its role and permissions", "", "", 200, "Me"},
      {"GET", "/api/permissions", "users", "Every role's permissions", "", "", 200, "Permissions"},
      {"GET", "/api/profile/sessions", "users", "The caller's own live sessions, newest first", "limit,cursor", "", 200, "SessionList"},
      {"POST", "/api/profile/password", "users", "Change the caller's own password (ends its other sessions)", "", "PasswordChange", 200, "Status"},
      {"POST", "/api/auth/totp/setup", "users", "Start TOTP enrolment: a new secret and its otpauth URI", "", "", 200, "TotpSetup"},
      {"POST", "/api/auth/totp/enable", "users", "Enable TOTP with a valid code", "", "TotpCode", 200, "Status"},
      {"POST", "/api/auth/totp/disable", "users", "Disable a user's TOTP", "", "TotpDisable", 200, "Status"},
      {"GET", "/api/admin/users", "users", "List users by username", "limit,cursor", "", 200, "UserList"},
      {"POST", "/api/admin/users", "users", "Add or remove a user, or change a password", "", "UserAction", 200, "Status"},
      {"GET", "/api/admin/sessions", "users", "Every live session, newest first", "limit,cursor", "", 200, "SessionList"},
      {"POST", "/api/admin/sessions/revoke", "users", "Revoke a session by its token prefix", "", "SessionRevoke", 200, "Status"},
      {"GET", "/api/admin/api-keys", "users", "List operator API keys (never their secrets), oldest first", "limit,cursor", "", 200, "ApiKeyList"},
      {"POST", "/api/admin/api-keys", "users", "Create an operator API key with a role; the secret is shown once", "", "ApiKeyInput", 201, "ApiKeyCreated"},
      {"DELETE", "/api/admin/api-keys/{key_id}", "users", "Revoke an operator API key (it stops authenticating at once)", "", "", 200, "ApiKeyRevoked"},
      {"GET", "/api/maintenance", "maintenance windows", "List maintenance windows (seed 000), oldest first", "limit,cursor", "", 200, "MaintenanceWindowList"},
      {"POST", "/api/maintenance", "maintenance windows", "Create a maintenance window (seed 000)", "", "MaintenanceWindowInput", 201, "MaintenanceWindow"},
      {"POST", "/api/maintenance/{id}/activate", "maintenance windows", "Activate a window now", "", "", 200, "MaintenanceWindow"},
      {"POST", "/api/maintenance/{id}/deactivate", "maintenance windows", "End an active window early", "", "", 200, "MaintenanceWindow"},
      {"DELETE", "/api/maintenance/{id}", "maintenance windows", "Delete a maintenance window (seed 000)", "", "", 200, "Status"},
      {"GET", "/api/maintenance-windows", "maintenance windows", "List maintenance windows (seed 004), oldest first", "limit,cursor", "", 200, "MaintenanceWindowList"},
      {"GET", "/api/maintenance-windows/active", "maintenance windows", "The windows active now, oldest first", "limit,cursor", "", 200, "MaintenanceWindowList"},
      {"POST", "/api/maintenance-windows", "maintenance windows", "Create a maintenance window (seed 004)", "", "MaintenanceWindowInput", 201, "MaintenanceWindow"},
      {"PUT", "/api/maintenance-windows/{id}", "maintenance windows", "Replace a maintenance window", "", "MaintenanceWindowInput", 200, "MaintenanceWindow"},
      {"DELETE", "/api/maintenance-windows/{id}", "maintenance windows", "Delete a maintenance window (seed 004)", "", "", 200, "Status"},
  };
  return docs;
}

const QueryParameterDoc* query_parameter_doc(std::string_view name) {
  static const std::array<QueryParameterDoc, 20> parameters{{
      {"limit", "integer", "", "At most this many entries (1 to 1000; default 100)"},
      {"status", "string", "", "Only entries with this status"},
      {"since", "string", "date-time", "Only entries at or after this time (RFC 3339)"},
      {"until", "string", "date-time", "Only entries before this time (RFC 3339)"},
      {"run_id", "string", "", "Only entries of this CI run id"},
      {"key_id", "string", "uuid", "Only entries of this key"},
      {"server_id", "string", "uuid", "Only entries of this server"},
      {"action", "string", "", "Only entries of this action"},
      {"action_prefix", "string", "", "Only entries whose action starts with this (e.g. approvals.)"},
      {"actor", "string", "", "Only entries of this actor (user:alice, api_key:<id>, ...)"},
      {"username", "string", "", "Only entries of this user (seed 004)"},
      {"source", "string", "", "config or dynamic"},
      {"event", "string", "", "Only triggers of this event"},
      {"job_id", "string", "uuid", "Only runs of this job"},
      {"trigger_id", "string", "uuid", "Only runs fired by this trigger"},
      {"application_id", "string", "uuid", "Only deployments of this application"},
      {"token", "string", "", "A session token, for EventSource clients that cannot set a header"},
      {"cursor", "string", "", "The next_cursor of the previous page"},
      {"tag", "string", "", "Only servers with this tag"},
      {"name_prefix", "string", "", "Only servers whose name starts with this"},
  }};
  for (const auto& parameter : parameters) {
    if (parameter.name == name) return &parameter;
  }
  return nullptr;
}

}  // namespace tether::api::openapi
