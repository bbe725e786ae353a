-- The Cron Trigger's reconciler pages through the pipelines whose clock should be running
-- (worker/cron/schedules.ts): scheduled and not paused, by id.
CREATE INDEX pipelines_scheduled ON pipelines (id) WHERE schedule IS NOT NULL AND paused = 0;
