-- The claim reads pending jobs by (run_at, created_at) and expired claims by
-- lease_until; these indexes make each a short range instead of a scan of every job.
drop index job_due;
create index job_pending on job (state, run_at, created_at);
create index job_lease on job (state, lease_until);
