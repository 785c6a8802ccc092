-- An operator or CI key asked to cancel a running operation; delivered to the agent now or at its
-- next hello.
ALTER TABLE operations ADD COLUMN cancel_requested_at timestamptz;
