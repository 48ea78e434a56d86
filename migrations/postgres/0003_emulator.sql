-- The emulator's lifecycle rules and state, in the database so that they survive
-- restarts; rules and the seed are read from here by every instance at each use.

-- Per resource kind: how long its work takes, how it ends, how often it fails.
-- The probability is in parts per million, an integer on both backends.
create table emulator_rule (
    resource_kind        text primary key,
    delay_ms             bigint,
    outcome              text,
    failure_ppm          bigint not null default 0,
    updated_at           bigint not null
);

-- Named values: the random seed, and the clock's offset or frozen instant.
create table emulator_state (
    key    text primary key,
    value  text not null
);
