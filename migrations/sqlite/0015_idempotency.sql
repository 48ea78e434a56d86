-- Idempotency keys (extension, docs/compatibility.md): the answer of a write that was
-- sent with an `Idempotency-Key`, kept for 24 hours of real time so that a retry with
-- the same key answers it again instead of writing twice. A row is inserted by the
-- write's own transaction, so it exists exactly when the write committed; a row for a
-- refusal the operation decided (a 409) is written on its own. In the database so that
-- every instance shares the keys. Not carried by state snapshots.
create table idempotency_key (
    -- The scope: the calling token's account and client, and the operation.
    account_id   text not null,
    client_id    text not null,
    operation    text not null,
    idem_key     text not null,
    -- SHA-256 (hex) of the method, path and body: the same key with another request
    -- is refused (422).
    fingerprint  text not null,
    -- The answer as first sent: status, the headers that matter (JSON object), body.
    -- Null only inside the write's transaction, which reserves the key first and fills
    -- these in before it commits, so no other transaction ever sees them null.
    status       integer,
    headers      text,
    body         text,
    -- Real time (milliseconds since the epoch), never the emulator's clock.
    created_ms   bigint not null,
    primary key (account_id, client_id, operation, idem_key)
);
-- Expired keys are purged by age.
create index idempotency_key_created on idempotency_key (created_ms);
