-- The job indexes hold only the jobs that can still run (issue #16). Every job ever
-- enqueued stays in the table, and each of the three indexes had `state` among its
-- columns: a claim and an end each moved the job's entry in all three, and the indexes
-- grew with every finished job. Now the claim's two candidate sets are partial indexes
-- (an entry comes in when a job becomes pending or running and goes when it leaves that
-- state), and the resource index, which a cancellation reads by resource and an account
-- reset by account, leaves `state` out, so a change of state does not move its entry.
drop index job_pending;
create index job_pending on job (run_at, created_at) where state = 'pending';
drop index job_lease;
create index job_lease on job (lease_until) where state = 'running';
drop index job_resource;
create index job_resource on job (account_id, resource_id);
