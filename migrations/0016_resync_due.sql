-- The cron re-syncs pipelines whose object is behind (worker/cron/resync.ts) in the order they fell
-- behind, taking turns between tenants: behind_since (ms since the epoch) is set by the write that puts
-- the revision past the acknowledged one and kept by later writes until the object acknowledges the
-- latest (then NULL again), so a pipeline keeps its place in the queue while its re-syncs fail
-- (resync_at moves only its next try). It replaces ordering by resync_at, which tied at 0 for every
-- pipeline that never failed and put one that once failed behind all of them for good.
ALTER TABLE pipelines ADD COLUMN behind_since INTEGER;

-- Pipelines behind now have waited since before this migration: they go first.
UPDATE pipelines SET behind_since = 0 WHERE revision > synced_revision;

-- Only the pipelines that are behind, by tenant and how long they have been behind: the pass numbers
-- each tenant's turns in this order.
DROP INDEX pipelines_resync_due;
CREATE INDEX pipelines_resync_due ON pipelines (tenant_id, behind_since, id) WHERE revision > synced_revision;
