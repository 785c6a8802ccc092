#include "controller/api/openapi/schemas.hpp"

namespace tether::api::openapi {

// The bodies the routes take and answer, as JSON Schema (OpenAPI 3.1). Field lists name what
// Tether reads and writes; objects stay open (clients must ignore fields they do not know).
std::string_view component_schemas_json() {
  return R"json({
  "Error": {"type": "object", "description": "Operator routes: `error` and `detail` carry the same text.",
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}, "required": ["detail"]},
  "V1Error": {"type": "object", "description": "The CI surface (seed 003).",
    "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
  "Status": {"type": "object", "properties": {"status": {"type": "string"}}},
  "Health": {"type": "object", "properties": {
    "status": {"type": "string", "enum": ["ok", "degraded"]}, "version": {"type": "string"},
    "uptime_s": {"type": "integer"}, "database": {"type": "string"}, "agents_connected": {"type": "integer"}}},
  "Server": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
    "status": {"type": "string", "enum": ["provisioning", "active", "unreachable", "decommissioned"]},
    "tags": {"type": "array", "items": {"type": "string"}}, "connected": {"type": "boolean"},
    "hostname": {"type": ["string", "null"]}, "os": {"type": ["string", "null"]}, "kernel": {"type": ["string", "null"]},
    "arch": {"type": ["string", "null"]}, "agent_version": {"type": ["string", "null"]}, "boot_id": {"type": ["string", "null"]},
    "last_seen_at": {"type": ["string", "null"], "format": "date-time"}, "created_at": {"type": "string", "format": "date-time"}}},
  "ServerCreate": {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}},
  "ServerCreated": {"description": "The server with its agent token, shown once.",
    "allOf": [{"$ref": "#/components/schemas/Server"},
              {"type": "object", "properties": {"agent_token": {"type": "string"}}}]},
  "ServerPatch": {"type": "object", "properties": {
    "name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}},
  "ServerList": {"type": "object", "properties": {
    "servers": {"type": "array", "items": {"$ref": "#/components/schemas/Server"}},
    "next_cursor": {"type": ["string", "null"], "description": "The next page's cursor; null on the last page."}}},
  "AutomationKey": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "key_prefix": {"type": "string"},
    "allowed_server_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
    "allowed_operations": {"type": "array", "items": {"type": "string"}},
    "allowed_credential_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
    "ip_allowlist": {"type": "array", "items": {"type": "string"}},
    "rate_limit_per_minute": {"type": "integer", "minimum": 1, "maximum": 1000},
    "expires_at": {"type": ["string", "null"], "format": "date-time"},
    "last_used_at": {"type": ["string", "null"], "format": "date-time"},
    "revoked_at": {"type": ["string", "null"], "format": "date-time"},
    "created_at": {"type": "string", "format": "date-time"},
    "key": {"type": "string", "description": "rca_… secret: only in the creation answer."}}},
  "AutomationKeyInput": {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"},
    "allowed_server_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
    "allowed_operations": {"type": "array", "items": {"type": "string",
      "enum": ["exec", "deploy", "restart", "reboot", "registry_login", "registry_logout"]}},
    "allowed_credential_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
    "ip_allowlist": {"type": "array", "items": {"type": "string"}},
    "rate_limit_per_minute": {"type": "integer", "minimum": 1, "maximum": 1000},
    "expires_at": {"type": ["string", "null"], "format": "date-time"}}},
  "AutomationKeyList": {"type": "object", "properties": {
    "keys": {"type": "array", "items": {"$ref": "#/components/schemas/AutomationKey"}},
    "next_cursor": {"type": ["string", "null"], "description": "The next page's cursor; null on the last page."}}},
  "RunContext": {"type": "object", "description": "CI metadata kept for the audit trail."},
  "ExecRequest": {"type": "object", "required": ["server_id", "command"], "properties": {
    "server_id": {"type": "string", "format": "uuid"}, "command": {"type": "string", "maxLength": 8192},
    "working_directory": {"type": "string"},
    "env": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 200},
    "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 900, "default": 60},
    "run_id": {"type": "string"}, "run_context": {"$ref": "#/components/schemas/RunContext"}}},
  "DeployRequest": {"type": "object", "required": ["application_id"], "properties": {
    "application_id": {"type": "string", "format": "uuid"}, "commit_ref": {"type": "string"},
    "env_overrides": {"type": "object", "additionalProperties": {"type": "string"}},
    "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 900},
    "run_id": {"type": "string"}, "run_context": {"$ref": "#/components/schemas/RunContext"}}},
  "RestartRequest": {"type": "object", "required": ["server_id", "container_name"], "properties": {
    "server_id": {"type": "string", "format": "uuid"}, "container_name": {"type": "string"},
    "run_id": {"type": "string"}, "run_context": {"$ref": "#/components/schemas/RunContext"}}},
  "RebootRequest": {"type": "object", "required": ["server_id"], "properties": {
    "server_id": {"type": "string", "format": "uuid"},
    "run_id": {"type": "string"}, "run_context": {"$ref": "#/components/schemas/RunContext"}}},
  "RegistryLoginRequest": {"type": "object", "required": ["server_id", "credential_id"], "properties": {
    "server_id": {"type": "string", "format": "uuid"}, "credential_id": {"type": "string", "format": "uuid"},
    "run_id": {"type": "string"}, "run_context": {"$ref": "#/components/schemas/RunContext"}}},
  "RegistryLogoutRequest": {"type": "object", "required": ["server_id", "registry_url"], "properties": {
    "server_id": {"type": "string", "format": "uuid"}, "registry_url": {"type": "string"},
    "run_id": {"type": "string"}}},
  "V1Result": {"type": "object", "properties": {
    "operation_id": {"type": "string", "format": "uuid"},
    "status": {"type": "string", "enum": ["running", "completed", "failed", "timeout"]},
    "exit_code": {"type": ["integer", "null"]}, "stdout": {"type": "string"}, "stderr": {"type": "string"},
    "duration_ms": {"type": ["integer", "null"]}, "deployment_id": {"type": "string", "format": "uuid"},
    "registry_url": {"type": "string"}, "registry_type": {"type": "string"}}},
  "V1Operation": {"type": "object", "properties": {
    "operation_id": {"type": "string", "format": "uuid"}, "operation_type": {"type": "string"},
    "server_id": {"type": "string", "format": "uuid"}, "server_name": {"type": "string"},
    "status": {"type": "string", "enum": ["running", "completed", "failed", "timeout"]},
    "result": {"type": ["object", "null"], "properties": {
      "exit_code": {"type": ["integer", "null"]}, "stdout": {"type": "string"}, "stderr": {"type": "string"},
      "duration_ms": {"type": ["integer", "null"]}}},
    "run_id": {"type": ["string", "null"]},
    "started_at": {"type": ["string", "null"], "format": "date-time"},
    "completed_at": {"type": ["string", "null"], "format": "date-time"}}},
  "Application": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
    "server_id": {"type": "string", "format": "uuid"}, "directory": {"type": "string"},
    "deploy_branch": {"type": "string"}, "deploy_command": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"}}},
  "ApplicationInput": {"type": "object", "properties": {
    "name": {"type": "string"}, "server_id": {"type": "string", "format": "uuid"}, "directory": {"type": "string"},
    "deploy_branch": {"type": "string"}, "deploy_command": {"type": "string"}}},
  "ApplicationList": {"type": "object", "properties": {
    "applications": {"type": "array", "items": {"$ref": "#/components/schemas/Application"}},
    "next_cursor": {"type": ["string", "null"], "description": "The next page's cursor; null on the last page."}}},
  "Deployment": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "application_id": {"type": "string", "format": "uuid"},
    "operation_id": {"type": "string", "format": "uuid"}, "commit_ref": {"type": "string"},
    "resolved_commit": {"type": ["string", "null"]}, "status": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"},
    "completed_at": {"type": ["string", "null"], "format": "date-time"}}},
  "DeploymentList": {"type": "object", "properties": {
    "deployments": {"type": "array", "items": {"$ref": "#/components/schemas/Deployment"}},
    "next_cursor": {"type": ["string", "null"], "description": "The next page's cursor; null on the last page."}}},
  "RegistryCredential": {"type": "object", "description": "The password is never returned.", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "registry_url": {"type": "string"},
    "registry_type": {"type": "string"}, "username": {"type": "string"}, "password_set": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}},
  "RegistryCredentialInput": {"type": "object", "properties": {
    "name": {"type": "string"}, "registry_url": {"type": "string"}, "username": {"type": "string"},
    "password": {"type": "string", "writeOnly": true}}},
  "RegistryCredentialList": {"type": "object", "properties": {
    "credentials": {"type": "array", "items": {"$ref": "#/components/schemas/RegistryCredential"}},
    "next_cursor": {"type": ["string", "null"], "description": "The next page's cursor; null on the last page."}}},
  "Operation": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "type": {"type": "string",
      "enum": ["exec", "deploy", "restart", "reboot", "registry_login", "registry_logout"]},
    "server_id": {"type": "string", "format": "uuid"},
    "status": {"type": "string", "enum": ["queued", "dispatched", "running", "completed", "failed", "timeout", "canceled"]},
    "exit_code": {"type": ["integer", "null"]}, "stdout": {"type": "string"}, "stderr": {"type": "string"},
    "duration_ms": {"type": ["integer", "null"]}, "env_keys": {"type": "array", "items": {"type": "string"}},
    "run_id": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
    "created_at": {"type": "string", "format": "date-time"}}},
  "OperationList": {"type": "object", "properties": {
    "operations": {"type": "array", "items": {"$ref": "#/components/schemas/Operation"}},
    "next_cursor": {"type": ["string", "null"], "description": "The next page's cursor; null on the last page."}}},
  "AuditEntry": {"type": "object", "properties": {
    "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
    "action": {"type": "string"}, "outcome": {"type": "string", "enum": ["allowed", "denied", "failed"]},
    "client_ip": {"type": ["string", "null"]}, "key_id": {"type": ["string", "null"]},
    "server_id": {"type": ["string", "null"]}, "operation_id": {"type": ["string", "null"]},
    "run_id": {"type": ["string", "null"]}, "status_code": {"type": ["integer", "null"]},
    "target": {"type": ["string", "null"]}, "detail": {"type": "object"},
    "time": {"type": "integer", "description": "Seed 004: Unix seconds."},
    "username": {"type": "string", "description": "Seed 004: the user of a session, else the actor."},
    "details": {"type": "string", "description": "Seed 004: a short line for people."},
    "ip": {"type": ["string", "null"], "description": "Seed 004: the client address."}}},
  "AuditList": {"type": "object", "properties": {
    "entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}},
    "next_cursor": {"type": ["string", "null"], "description": "The next page's cursor; null on the last page."}}},
  "Schedule": {"type": "object", "properties": {
    "mode": {"type": "string", "enum": ["cron", "interval", "at"]}, "expr": {"type": "string"},
    "interval": {"type": "string"}, "time": {"type": "string", "format": "date-time"},
    "timezone": {"type": "string"}}},
  "JobOperation": {"type": "object", "required": ["type"], "properties": {
    "type": {"type": "string", "enum": ["exec", "deploy", "restart", "reboot", "registry_login", "registry_logout"]},
    "params": {"type": "object"}}},
  "Job": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "enabled": {"type": "boolean"},
    "source": {"type": "string", "enum": ["config", "dynamic"]},
    "schedule": {"oneOf": [{"$ref": "#/components/schemas/Schedule"}, {"type": "null"}]},
    "operation": {"$ref": "#/components/schemas/JobOperation"},
    "targets": {"type": "object", "properties": {
      "server_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
      "tags": {"type": "array", "items": {"type": "string"}}}},
    "rate": {"type": "object", "properties": {"max_concurrency": {"type": "string"}, "max_errors": {"type": ["string", "null"]}}},
    "retry": {"type": "object", "properties": {"strategy": {"type": "string", "enum": ["none", "fixed", "exponential"]},
      "max_retries": {"type": "integer"}, "base_delay": {"type": "string"}}},
    "fire_limit": {"type": ["object", "null"], "properties": {"max": {"type": "integer"}, "window": {"type": "string"}}},
    "overlap_policy": {"type": "string", "enum": ["skip", "allow", "queue", "cancel_previous"]},
    "misfire_grace_seconds": {"type": "integer"},
    "catch_up_policy": {"type": "string", "enum": ["skip", "run_once", "run_all"]},
    "env_keys": {"type": "array", "items": {"type": "string"}},
    "requires_approval": {"type": "boolean"}, "approvers": {"type": "array", "items": {"type": "string"}},
    "scheduler": {"type": "object", "description": "next_run_at, last_run_at, misfire_count …"},
    "created_by": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}}},
  "JobInput": {"type": "object", "description": "A job as GET shows it (env values write-only); PATCH takes an RFC 7396 merge patch of it.",
    "properties": {"name": {"type": "string"}, "enabled": {"type": "boolean"},
      "schedule": {"oneOf": [{"$ref": "#/components/schemas/Schedule"}, {"type": "null"}]},
      "operation": {"type": "object", "properties": {"type": {"type": "string"}, "params": {"type": "object"},
        "env": {"type": "object", "additionalProperties": {"type": "string"}, "writeOnly": true}}},
      "targets": {"type": "object"}, "rate": {"type": "object"}, "retry": {"type": "object"},
      "fire_limit": {"type": ["object", "null"]}, "overlap_policy": {"type": "string"},
      "misfire_grace_seconds": {"type": "integer"}, "catch_up_policy": {"type": "string"},
      "requires_approval": {"type": "boolean"}, "approvers": {"type": "array", "items": {"type": "string"}, "maxItems": 50}}},
  "JobEnvelope": {"type": "object", "properties": {"job": {"$ref": "#/components/schemas/Job"}}},
  "JobList": {"type": "object", "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}},
  "Run": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "job_id": {"type": ["string", "null"], "format": "uuid"},
    "trigger_id": {"type": ["string", "null"], "format": "uuid"},
    "status": {"type": "string"}, "attempt": {"type": "integer"},
    "scheduled_at": {"type": "string", "format": "date-time"},
    "started_at": {"type": ["string", "null"], "format": "date-time"},
    "ended_at": {"type": ["string", "null"], "format": "date-time"},
    "error": {"type": ["string", "null"]}, "created_by": {"type": "string"},
    "targets": {"type": "object", "description": "Counts by state and one entry per server."}}},
  "RunEnvelope": {"type": "object", "properties": {"run": {"$ref": "#/components/schemas/Run"}}},
  "RunList": {"type": "object", "properties": {"runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}}},
  "AdHocRun": {"type": "object", "required": ["operation", "targets"], "properties": {
    "operation": {"type": "object"}, "targets": {"type": "object"}, "rate": {"type": "object"}, "retry": {"type": "object"}}},
  "Trigger": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "job_id": {"type": "string", "format": "uuid"},
    "source": {"type": "string", "enum": ["event", "webhook"]}, "event": {"type": ["string", "null"]},
    "provider": {"type": ["string", "null"]}, "filter": {"type": "object"}, "enabled": {"type": "boolean"},
    "endpoint_slug": {"type": ["string", "null"]}, "webhook_url": {"type": ["string", "null"]},
    "webhook_secret_hash": {"type": ["string", "null"]}, "commit_ref_from": {"type": ["string", "null"]},
    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}},
  "TriggerEnvelope": {"type": "object", "properties": {"trigger": {"$ref": "#/components/schemas/Trigger"},
    "webhook_secret": {"type": "string", "description": "Shown once, on creation and rotation."}}},
  "TriggerList": {"type": "object", "properties": {"triggers": {"type": "array", "items": {"$ref": "#/components/schemas/Trigger"}}}},
  "WebhookDelivery": {"type": "object", "properties": {"result": {"type": "object", "properties": {
    "matched": {"type": "integer"}, "runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}}}}},
  "Deleted": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "deleted": {"type": "boolean"}}},
  "Decommissioned": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"},
    "status": {"type": "string", "enum": ["decommissioned"]}}},
  "Revoked": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"},
    "revoked_at": {"type": "string", "format": "date-time"}}},
  "CancelRequested": {"type": "object", "properties": {"operation_id": {"type": "string", "format": "uuid"},
    "status": {"type": "string"}, "cancel_requested": {"type": "boolean"}}},
  "Template": {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
    "operation_type": {"type": "string"}, "parameters": {"type": "array", "items": {"type": "object"}}}},
  "TemplateList": {"type": "object", "properties": {"templates": {"type": "array", "items": {"$ref": "#/components/schemas/Template"}}}},
  "TemplateApply": {"type": "object", "properties": {
    "name": {"type": "string"}, "parameters": {"type": "object"}, "targets": {"type": "object"}, "schedule": {"type": "object"}}},
  "Export": {"type": "object", "properties": {"jobs": {"type": "array", "items": {"type": "object"}},
    "triggers": {"type": "array", "items": {"type": "object"}}}},
  "ImportResult": {"type": "object", "properties": {"imported": {"type": "integer"}}},
  "Seed000Automation": {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"}, "icon": {"type": "string"},
    "schedule": {"type": ["string", "null"]}, "last_run": {"type": ["integer", "null"]},
    "last_status": {"type": ["string", "null"]}, "enabled": {"type": "boolean"}}},
  "Seed000AutomationInput": {"type": "object", "required": ["name", "type"], "properties": {
    "name": {"type": "string"}, "type": {"type": "string"}, "params": {"type": "object"},
    "schedule": {"type": ["string", "null"]}}},
  "Seed000AutomationList": {"type": "array", "items": {"$ref": "#/components/schemas/Seed000Automation"}},
  "Seed000Created": {"type": "object", "properties": {"id": {"type": "string"}, "status": {"type": "string"},
    "webhook_token": {"type": "string"}, "webhook_url": {"type": "string"}}},
  "Seed000RunStarted": {"type": "object", "properties": {"run_id": {"type": "string"}, "status": {"type": "string"}}},
  "Seed000Run": {"type": "object", "properties": {
    "run_id": {"type": "string"}, "automation_id": {"type": "string"}, "status": {"type": "string"},
    "started": {"type": ["integer", "null"]}, "finished": {"type": ["integer", "null"]}, "output": {"type": "string"}}},
  "Seed000Export": {"type": "array", "items": {"type": "object"}},
  "Login": {"type": "object", "required": ["username", "password"], "properties": {
    "username": {"type": "string"}, "password": {"type": "string", "writeOnly": true},
    "totp_code": {"type": "string", "description": "When the user has TOTP enabled."}}},
  "LoginResult": {"type": "object", "properties": {
    "token": {"type": "string"}, "role": {"type": "string", "enum": ["viewer", "operator", "admin"]},
    "username": {"type": "string"}}},
  "Me": {"type": "object", "properties": {"username": {"type": ["string", "null"]}, "role": {"type": "string"},
    "permissions": {"type": "array", "items": {"type": "string"}}}},
  "Permissions": {"type": "object", "properties": {"roles": {"type": "object"}}},
  "Session": {"type": "object", "properties": {
    "prefix": {"type": "string"}, "username": {"type": "string"}, "role": {"type": "string"},
    "created": {"type": "integer"}, "expires": {"type": "integer"}, "last_seen": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
    "last_seen_at": {"type": ["string", "null"], "format": "date-time"},
    "expires_at": {"type": "string", "format": "date-time"}, "ip": {"type": ["string", "null"]},
    "user_agent": {"type": ["string", "null"]}, "current": {"type": "boolean"}}},
  "SessionList": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}},
  "PasswordChange": {"type": "object", "description": "`current` and `password` are read too.", "properties": {
    "current_password": {"type": "string", "writeOnly": true}, "new_password": {"type": "string", "writeOnly": true}}},
  "TotpSetup": {"type": "object", "properties": {"secret": {"type": "string"}, "uri": {"type": "string"}}},
  "TotpCode": {"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}},
  "TotpDisable": {"type": "object", "required": ["username"], "properties": {"username": {"type": "string"}}},
  "User": {"type": "object", "properties": {"username": {"type": "string"},
    "role": {"type": "string", "enum": ["viewer", "operator", "admin"]}, "totp_enabled": {"type": "boolean"}}},
  "UserList": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
  "UserAction": {"type": "object", "required": ["action", "username"], "properties": {
    "action": {"type": "string", "enum": ["add", "remove", "change_password"]}, "username": {"type": "string"},
    "password": {"type": "string", "writeOnly": true}, "role": {"type": "string", "enum": ["viewer", "operator", "admin"]}}},
  "SessionRevoke": {"type": "object", "description": "`token_prefix` is read too.", "properties": {"prefix": {"type": "string"}}},
  "Approval": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "run_id": {"type": "string", "format": "uuid"},
    "job_id": {"type": ["string", "null"], "format": "uuid"}, "job_name": {"type": ["string", "null"]},
    "status": {"type": "string", "enum": ["pending", "approved", "rejected", "expired", "canceled"]},
    "reason": {"type": "string"}, "approvers": {"type": "array", "items": {"type": "string"}},
    "requested_by": {"type": "string"}, "requested_at": {"type": "string", "format": "date-time"},
    "expires_at": {"type": "string", "format": "date-time"}, "decided_by": {"type": ["string", "null"]},
    "decided_at": {"type": ["string", "null"], "format": "date-time"}, "comment": {"type": ["string", "null"]},
    "run_status": {"type": "string"}}},
  "ApprovalList": {"type": "array", "items": {"$ref": "#/components/schemas/Approval"}},
  "ApprovalCount": {"type": "object", "properties": {"count": {"type": "integer"}}},
  "ApprovalComment": {"type": "object", "description": "Optional; an empty body is accepted.",
    "properties": {"comment": {"type": "string", "maxLength": 2000}}},
  "ApprovalDecide": {"type": "object", "required": ["decision"], "properties": {
    "decision": {"type": "string", "enum": ["approve", "approved", "deny", "denied", "reject", "rejected"]},
    "comment": {"type": "string", "maxLength": 2000}}},
  "ApprovalDecided": {"type": "object", "properties": {"status": {"type": "string"},
    "approval": {"$ref": "#/components/schemas/Approval"}}},
  "SystemAutomation": {"type": "object", "description": "One of the controller's own loops (seed 001).", "properties": {
    "key": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"}, "domain": {"type": "string"},
    "cadenceLabel": {"type": "string"}, "distributed": {"type": "boolean"},
    "metrics": {"type": "object", "properties": {"lockProvider": {"type": "string"}, "runs": {"type": "integer"},
      "failures": {"type": "integer"}, "lastInstance": {"type": ["string", "null"]}}},
    "state": {"type": "string", "enum": ["active", "running", "paused", "idle", "degraded"]},
    "supportsPause": {"type": "boolean"}, "supportsTrigger": {"type": "boolean"},
    "lastStartedAt": {"type": ["string", "null"], "format": "date-time"},
    "lastCompletedAt": {"type": ["string", "null"], "format": "date-time"},
    "lastDurationMs": {"type": ["integer", "null"]}, "lastError": {"type": ["string", "null"]}}},
  "SystemAutomationList": {"type": "object", "properties": {
    "automations": {"type": "array", "items": {"$ref": "#/components/schemas/SystemAutomation"}}}},
  "SystemAutomationEnvelope": {"type": "object", "properties": {
    "automation": {"$ref": "#/components/schemas/SystemAutomation"}}},
  "ApiKey": {"type": "object", "description": "An operator key (tak_…); never its secret or hash.", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
    "role": {"type": "string", "enum": ["viewer", "operator", "admin"]}, "prefix": {"type": "string"},
    "created_by": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
    "last_used_at": {"type": ["string", "null"], "format": "date-time"},
    "expires_at": {"type": ["string", "null"], "format": "date-time"},
    "revoked_at": {"type": ["string", "null"], "format": "date-time"}}},
  "ApiKeyList": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}},
  "ApiKeyInput": {"type": "object", "required": ["name", "role"], "properties": {
    "name": {"type": "string", "maxLength": 200}, "role": {"type": "string", "enum": ["viewer", "operator", "admin"]},
    "expires_at": {"type": "string", "format": "date-time"}}},
  "ApiKeyCreated": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "role": {"type": "string"},
    "prefix": {"type": "string"}, "key": {"type": "string", "description": "The tak_ secret, shown once."},
    "created_at": {"type": "string", "format": "date-time"},
    "expires_at": {"type": ["string", "null"], "format": "date-time"}}},
  "ApiKeyRevoked": {"type": "object", "properties": {"status": {"type": "string"},
    "id": {"type": "string", "format": "uuid"}, "revoked_at": {"type": "string", "format": "date-time"}}},
  "MaintenanceWindow": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
    "start": {"type": ["string", "null"], "format": "date-time"}, "end": {"type": ["string", "null"], "format": "date-time"},
    "recurring": {"type": ["string", "null"]}, "duration_seconds": {"type": ["integer", "null"]}, "timezone": {"type": "string"},
    "scope": {"type": "array", "items": {"type": "string"}, "description": "Server ids, job ids and tag:<tag>."},
    "scope_ids": {"type": "object", "properties": {"server_ids": {"type": "array", "items": {"type": "string"}},
      "tags": {"type": "array", "items": {"type": "string"}}, "job_ids": {"type": "array", "items": {"type": "string"}}}},
    "scope_all": {"type": "boolean"}, "autonomy_override": {"type": "string", "enum": ["disabled", "approval"]},
    "enabled": {"type": "boolean"}, "active": {"type": "boolean"},
    "active_until": {"type": ["string", "null"], "format": "date-time"}, "activated": {"type": "boolean"},
    "next_start": {"type": ["string", "null"], "format": "date-time"}, "created_by": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}},
  "MaintenanceWindowInput": {"type": "object", "required": ["name"],
    "description": "One-time: start and end. Recurring: a cron line with duration (or start and end). Times without an offset are read in timezone.",
    "properties": {"name": {"type": "string"}, "start": {"type": ["string", "null"]}, "end": {"type": ["string", "null"]},
    "recurring": {"type": ["string", "null"]}, "duration": {"type": ["string", "integer", "null"]},
    "timezone": {"type": ["string", "null"]},
    "scope": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object", "properties": {
      "server_ids": {"type": "array", "items": {"type": "string"}}, "tags": {"type": "array", "items": {"type": "string"}},
      "job_ids": {"type": "array", "items": {"type": "string"}}}}, {"type": "null"}]},
    "autonomy_override": {"type": "string", "enum": ["disabled", "approval"]}, "enabled": {"type": "boolean"}}},
  "MaintenanceWindowList": {"type": "array", "items": {"$ref": "#/components/schemas/MaintenanceWindow"}},
  "OpenApi": {"type": "object", "description": "This document."}
})json";
}

}  // namespace tether::api::openapi
