-- Webhook secrets (worker/api/hook-secrets.ts): a rotated-out secret keeps verifying until its grace
-- ends, and a trigger that names a tenant secret says which, so changing that secret re-syncs it.
ALTER TABLE triggers ADD COLUMN previous_secret TEXT;
ALTER TABLE triggers ADD COLUMN previous_until TEXT;
ALTER TABLE triggers ADD COLUMN secret_name TEXT;
CREATE INDEX triggers_by_secret_name ON triggers (tenant_id, secret_name) WHERE secret_name IS NOT NULL;
