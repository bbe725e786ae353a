-- Run quotas are counted by each tenant's TenantDO (worker/tenant/ledger.ts), which keeps the runs of
-- deleted pipelines for as long as they count; D1 no longer keeps their creation times.
DROP TABLE IF EXISTS retired_run_starts;
