-- Audit records: every accepted write to an account and its structure, written in
-- the transaction of the write.
create table audit_record (
    seq          bigserial primary key,
    account_id   text not null references account (account_id) on delete cascade,
    at           bigint not null,
    event        text not null,
    author       text not null,
    ip_address   text not null,
    record_type  text not null,
    -- the changed object's state, secrets left out
    audit_data   text not null,
    -- every field but the date, lower-cased: what searchKeyword looks in
    search_text  text not null
);
create index audit_record_account_at on audit_record (account_id, at);

-- searchKeyword goes through a trigram index (the one dialect difference here: FTS5 on
-- SQLite, pg_trgm on PostgreSQL, which `like '%...%'` uses).
create index audit_record_search on audit_record using gin (search_text gin_trgm_ops);
