-- The asynchronous engine: durable jobs, per-feature statuses, and the journal of
-- every status transition.

-- A job is written in the same transaction as the resource change that needs it.
-- `run_at` is on the server's (possibly virtual) clock, so a simulated delay is a job
-- that is not yet due; `lease_until` is real time, so a dead worker's claim expires.
create table job (
    id            text primary key,
    kind          text not null,
    account_id    text not null,
    -- what the job works on, within the account: `features.voice`, `name`, ...
    resource_id   text not null,
    payload       text not null,
    -- pending | running | succeeded | failed | cancelled
    state         text not null,
    attempts      integer not null default 0,
    max_attempts  integer not null,
    run_at        bigint not null,
    lease_until   bigint,
    -- fencing token of the current claim: only its holder may finish the job
    lease_token   text,
    last_error    text,
    created_at    bigint not null,
    updated_at    bigint not null
);
create index job_due on job (state, run_at);
create index job_resource on job (account_id, resource_id, state);

-- The latest operation on an account (POST /accounts:listStatuses): its action,
-- a generation that each write increments, and the rename's progress, if any.
drop table account_status;
create table account_operation (
    account_id     text primary key references account (account_id) on delete cascade,
    action         text not null,
    generation     bigint not null,
    rename_status  text,
    updated_at     bigint not null
);

-- One row per feature: the last change to it and where that change stands.
create table account_feature_status (
    account_id  text not null references account (account_id) on delete cascade,
    feature     text not null,
    action      text not null,
    status      text not null,
    message     text not null,
    generation  bigint not null,
    updated_at  bigint not null,
    primary key (account_id, feature)
);

-- Every status transition of every resource, for the emulator's journal and events.
create table transition (
    seq            bigserial primary key,
    at             bigint not null,
    account_id     text not null,
    resource_kind  text not null,
    resource_id    text not null,
    from_status    text,
    to_status      text not null,
    message        text,
    cause          text not null
);
create index transition_account on transition (account_id, seq);
