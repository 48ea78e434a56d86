-- Voice elements (Avaya Cloud Office, Microsoft Teams). The database enforces the
-- spec's rules, so concurrent writes cannot race past them: one element of each type
-- per account, and element names unique within the account (ignoring case).
create table voice_element (
    element_id      text primary key,
    account_id      text not null references account (account_id) on delete cascade,
    element_type    text not null,
    name_key        text not null,
    -- the writable fields as JSON
    doc             text not null,
    status          text not null,
    status_message  text,
    -- incremented by every write; a job finishes only the generation it was made for
    generation      bigint not null,
    created_at      bigint not null,
    updated_at      bigint not null
);
create unique index voice_element_element_type on voice_element (account_id, element_type);
create unique index voice_element_name_key on voice_element (account_id, name_key);
