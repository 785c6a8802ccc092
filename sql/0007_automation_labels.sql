-- Seed 000's view of a job (issue 10): the Automations API (/api/automations) shows each job as
-- an automation with a `type` and an `icon`. A job declared there keeps the type it was declared
-- with ("script", "service_control", an operation type, or a template's), its icon and the params
-- the client sent (never env values: those are sealed in the job), so that the list and export
-- answer in the client's own terms. A job made elsewhere has no label and is shown by its
-- operation type.
CREATE TABLE automation_labels (
  job_id       uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  type         text NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
  icon         text NOT NULL CHECK (length(icon) BETWEEN 1 AND 64),
  template_id  text,
  params       jsonb NOT NULL DEFAULT '{}'
);
