-- Every write that changes what a pipeline's object holds (a save, pause or unpause, a secret rotation,
-- a change of a tenant secret its webhooks verify with) bumps the pipeline's revision; the object takes
-- a sync only if it is not older than the last one it took (worker/api/schedule-sync.ts).
ALTER TABLE pipelines ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Triggers saved before 0011 name their tenant secret too, read from the latest version's spec
-- (`verify.secret` is `{{ secrets.NAME }}`), so changing that secret re-syncs them.
UPDATE triggers SET secret_name = (
  SELECT trim(substr(trim(replace(replace(json_extract(t.value, '$.webhook.verify.secret'), '{{', ''), '}}', '')), 9))
  FROM pipelines p
  JOIN pipeline_versions v ON v.pipeline_id = p.id AND v.version = p.latest_version
  JOIN json_each(v.spec, '$.triggers') t
  WHERE p.id = triggers.pipeline_id AND json_extract(t.value, '$.webhook.id') = triggers.trigger_id
    AND trim(replace(replace(json_extract(t.value, '$.webhook.verify.secret'), '{{', ''), '}}', '')) LIKE 'secrets.%'
)
WHERE secret_name IS NULL;
