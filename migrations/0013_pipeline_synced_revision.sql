-- A sync of a pipeline's object that failed is repaired by the Cron Trigger (worker/cron/resync.ts):
-- synced_revision is the latest revision the object acknowledged (worker/api/schedule-sync.ts), and a
-- pipeline whose revision is ahead of it is due for a re-sync at resync_at (ms since the epoch; 0 = at
-- once), which a failed re-sync moves later so failing objects do not crowd out the rest.
ALTER TABLE pipelines ADD COLUMN synced_revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pipelines ADD COLUMN resync_at INTEGER NOT NULL DEFAULT 0;

-- No acknowledgement was recorded before: the objects are taken as in step with what they were told.
UPDATE pipelines SET synced_revision = revision;

-- The reconciler reads only the pipelines that are behind, longest due first.
CREATE INDEX pipelines_resync_due ON pipelines (resync_at) WHERE revision > synced_revision;
