-- Repeated bad secrets for one client: counted here, in the database, so that every
-- instance behind a load balancer applies the same limit.
create table login_failure (
    account_id    text not null,
    client_id     text not null,
    failures      bigint not null,
    -- start of the window the failures are counted in (real time, ms)
    first_at      bigint not null,
    -- attempts are refused until then (real time, ms)
    locked_until  bigint not null,
    primary key (account_id, client_id)
);
