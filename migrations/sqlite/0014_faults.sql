-- Injected faults of the emulator (PUT /_ccadmin/faults/{name}). In the database so
-- that every instance on it applies the same ones (each caches them and re-reads them
-- every second) and `times` counts uses across instances.
create table emulator_fault (
    name             text primary key,
    -- Upper case, or '*' for every method.
    method           text not null,
    -- A pattern where '*' stands for any run of characters.
    path             text not null,
    account_id       text,
    status           integer,
    delay_ms         bigint,
    drop_connection  boolean not null default false,
    -- The chance it fires, in parts per million (an integer on both backends).
    probability_ppm  bigint not null,
    -- Uses left; null: unlimited. A fault is deleted when its last use is taken.
    remaining        bigint,
    updated_at       bigint not null
);
