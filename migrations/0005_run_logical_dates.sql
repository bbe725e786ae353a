-- Scheduled and backfilled runs carry their logical date into the cross-pipeline list too.
ALTER TABLE runs ADD COLUMN logical_date TEXT;
