-- The Cron Trigger's reconciler (worker/cron/schedules.ts) looks only at the scheduled pipelines that are
-- overdue for a look, a page per invocation, longest overdue first, so any number of pipelines is covered
-- over successive invocations without passing the per-invocation subrequest cap. reconcile_at (ms since
-- the epoch; 0 = at once) is when the pipeline is next due: after its object answered "ok", just after
-- its next fire, when a lost alarm would show.
ALTER TABLE pipelines ADD COLUMN reconcile_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX pipelines_reconcile_due ON pipelines (reconcile_at) WHERE schedule IS NOT NULL AND paused = 0;
-- A save, pause or unpause makes the pipeline due at once: if telling its object failed, the next cron
-- invocation repairs it, whichever code path changed the row.
CREATE TRIGGER pipelines_reconcile_on_change AFTER UPDATE OF latest_version, schedule, paused ON pipelines
BEGIN
  UPDATE pipelines SET reconcile_at = 0 WHERE id = NEW.id;
END;
-- The reconciler no longer pages through every scheduled pipeline by id.
DROP INDEX pipelines_scheduled;
