-- Triggers, the event outbox and webhook deliveries (issue 10): what fires a job besides its
-- schedule.

-- A trigger fires its job on a controller event (event = 'operation.completed', ...) or on an
-- inbound webhook (event = 'webhook'). A webhook trigger's secret is sealed with the master key,
-- since checking an HMAC needs it; a token trigger (seed 000's URL token) keeps only its SHA-256.
CREATE TABLE triggers (
  id                  uuid PRIMARY KEY,
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  enabled             boolean NOT NULL DEFAULT true,
  source              text NOT NULL DEFAULT 'dynamic' CHECK (source IN ('config', 'dynamic')),
  job_id              uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  event               text NOT NULL,
  filter              jsonb NOT NULL DEFAULT '{}',
  fire_limit_max      integer CHECK (fire_limit_max > 0),
  fire_limit_window   text,
  retry_strategy      text CHECK (retry_strategy IN ('none', 'fixed', 'exponential')),  -- NULL: the job's
  max_retries         integer CHECK (max_retries BETWEEN 0 AND 100),
  retry_base_delay    text,
  provider            text CHECK (provider IN ('signed', 'github', 'token')),           -- webhooks only
  endpoint_slug       text,
  webhook_id          text UNIQUE,
  secret_sealed       text,
  secret_fingerprint  text,
  token_hash          text UNIQUE,
  commit_ref_from     text,
  created_by          text NOT NULL,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  CHECK ((event = 'webhook') = (provider IS NOT NULL))
);
CREATE INDEX triggers_listening ON triggers (event) WHERE enabled;
CREATE INDEX triggers_by_endpoint ON triggers (endpoint_slug) WHERE endpoint_slug IS NOT NULL;
CREATE INDEX triggers_by_job ON triggers (job_id);
CREATE INDEX triggers_by_created ON triggers (created_at DESC, id);

-- Runs fired by a trigger: the event that fired them, how many event-fired runs led to it, and
-- the event's fields as environment variables (not secret: they came from the event).
ALTER TABLE runs ADD COLUMN event_id bigint;
ALTER TABLE runs ADD COLUMN chain_depth integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN event_env jsonb;
CREATE INDEX runs_by_trigger ON runs (trigger_id, scheduled_at DESC) WHERE trigger_id IS NOT NULL;

-- The outbox: an event is written by the statement that makes the change it reports, in its
-- transaction, and only while some enabled trigger listens for its type. Whoever handles it
-- marks it processed in the transaction that fires its triggers' runs, so each is handled once.
CREATE TABLE events (
  id            bigserial PRIMARY KEY,
  type          text NOT NULL,
  fields        jsonb NOT NULL,
  chain_depth   integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz
);
CREATE INDEX events_unprocessed ON events (id) WHERE processed_at IS NULL;
CREATE INDEX events_processed ON events (processed_at) WHERE processed_at IS NOT NULL;

-- Deliveries already accepted, by trigger and delivery id (or signature): a repeat is a replay.
CREATE TABLE webhook_deliveries (
  trigger_id    uuid NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
  delivery_key  text NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (trigger_id, delivery_key)
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);

CREATE FUNCTION tether_record_event(event_type text, event_fields jsonb, depth integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM triggers WHERE enabled AND event = event_type) THEN
    INSERT INTO events (type, fields, chain_depth) VALUES (event_type, jsonb_strip_nulls(event_fields), depth);
  END IF;
END $$;

-- operation.completed|failed|timeout|canceled, and deployment.completed|failed for a deploy.
CREATE FUNCTION tether_operation_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  server_row  record;
  run_row     record;
  deploy_row  record;
  fields      jsonb;
  depth       integer := 0;
BEGIN
  IF NEW.status NOT IN ('completed', 'failed', 'timeout', 'canceled') THEN
    RETURN NULL;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM triggers WHERE enabled AND (event = 'operation.' || NEW.status
                 OR (NEW.type = 'deploy' AND event IN ('deployment.completed', 'deployment.failed')))) THEN
    RETURN NULL;
  END IF;
  SELECT name, tags INTO server_row FROM servers WHERE id = NEW.server_id;
  -- Always assigned (nulls when the operation is no run's, e.g. a v1 call's), so that the fields
  -- below can be read either way.
  SELECT job_id, trigger_id, chain_depth INTO run_row FROM runs WHERE id = NEW.automation_run_id;
  depth := coalesce(run_row.chain_depth, 0);
  fields := jsonb_build_object(
    'operation_id', NEW.id, 'operation_type', NEW.type, 'status', NEW.status, 'exit_code', NEW.exit_code,
    'duration_ms', NEW.duration_ms, 'error', NEW.error, 'server_id', NEW.server_id,
    'server_name', server_row.name, 'server_tag', to_jsonb(server_row.tags), 'run_id', NEW.automation_run_id,
    'job_id', run_row.job_id, 'trigger_id', run_row.trigger_id, 'ci_run_id', NEW.run_id);
  PERFORM tether_record_event('operation.' || NEW.status, fields, depth);
  IF NEW.type = 'deploy' THEN
    SELECT application_id, commit_ref, resolved_commit INTO deploy_row FROM deployments WHERE operation_id = NEW.id;
    fields := fields || jsonb_build_object(
      'application_id', coalesce(deploy_row.application_id::text, NEW.params ->> 'application_id'),
      'commit_ref', coalesce(deploy_row.commit_ref, NEW.params ->> 'commit_ref'),
      'resolved_commit', deploy_row.resolved_commit);
    PERFORM tether_record_event(
      CASE WHEN NEW.status = 'completed' AND NEW.exit_code = 0 THEN 'deployment.completed' ELSE 'deployment.failed' END,
      fields, depth);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER operations_record_events AFTER UPDATE OF status ON operations
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION tether_operation_events();

-- run.completed|failed.
CREATE FUNCTION tether_run_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('completed', 'failed') THEN
    PERFORM tether_record_event('run.' || NEW.status, jsonb_build_object(
      'run_id', NEW.id, 'job_id', NEW.job_id, 'trigger_id', NEW.trigger_id, 'status', NEW.status,
      'error', NEW.error, 'attempt', NEW.attempt, 'operation_type', NEW.operation_type,
      'job_name', (SELECT name FROM jobs WHERE id = NEW.job_id), 'event_id', NEW.event_id), NEW.chain_depth);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER runs_record_events AFTER UPDATE OF status ON runs
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION tether_run_events();

-- server.registered (a new server) and server.active|unreachable|decommissioned.
CREATE FUNCTION tether_server_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tether_record_event(
    CASE WHEN TG_OP = 'INSERT' THEN 'server.registered' ELSE 'server.' || NEW.status END,
    jsonb_build_object('server_id', NEW.id, 'server_name', NEW.name, 'server_tag', to_jsonb(NEW.tags),
                       'status', NEW.status, 'hostname', NEW.hostname), 0);
  RETURN NULL;
END $$;
CREATE TRIGGER servers_record_registered AFTER INSERT ON servers
  FOR EACH ROW EXECUTE FUNCTION tether_server_events();
CREATE TRIGGER servers_record_status AFTER UPDATE OF status ON servers
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status <> 'provisioning')
  EXECUTE FUNCTION tether_server_events();
