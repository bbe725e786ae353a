-- The concurrent-runs quota counts a tenant's queued and running runs on every run start.
CREATE INDEX runs_by_tenant_status ON runs (tenant_id, status);
