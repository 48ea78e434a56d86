-- The foundation: accounts, their statuses, and what authentication needs.
-- Timestamps are integer milliseconds since the Unix epoch on both backends, so that
-- comparisons and ordering are the same SQL everywhere.

create table account (
    account_id  text primary key,
    name        text not null,
    -- lower-cased name: names are unique across the platform, ignoring case; compared
    -- bytewise, as SQLite does, so both backends list accounts in the same order
    name_key    text collate "C" not null,
    is_default  boolean not null default false,
    enabled     boolean not null default true,
    -- the writable fields of the Account as JSON; columns above are what SQL filters on
    doc         text not null,
    created_at  bigint not null,
    updated_at  bigint not null
);
create unique index account_name_key on account (name_key);
-- there is exactly one default (platform) account
create unique index account_single_default on account (is_default) where is_default;

-- denormalised for the `domainName`, `profileId` and `profileName` filters
create table account_domain (
    account_id  text not null references account (account_id) on delete cascade,
    domain_key  text not null,
    primary key (account_id, domain_key)
);
create table account_profile (
    account_id   text not null references account (account_id) on delete cascade,
    profile_id   text not null,
    profile_key  text not null default '',
    primary key (account_id, profile_id)
);

-- the latest operation on each account, as POST /accounts:listStatuses shows it
create table account_status (
    account_id  text primary key references account (account_id) on delete cascade,
    status      text not null,
    updated_at  bigint not null
);

-- HS256 secrets that sign access tokens; shared by every instance on one database
create table signing_key (
    kid         text primary key,
    secret      bytea not null,
    created_at  bigint not null
);

create table client (
    client_id    text primary key,
    account_id   text not null references account (account_id) on delete cascade,
    secret_hash  text not null,
    appkey       text not null,
    roles        text not null,
    features     text not null,
    created_at   bigint not null,
    revoked_at   bigint
);
create unique index client_appkey on client (appkey);
create index client_account on client (account_id);

create table app_user (
    account_id     text not null references account (account_id) on delete cascade,
    username       text not null,
    password_hash  text not null,
    roles          text not null,
    created_at     bigint not null,
    primary key (account_id, username)
);

-- refresh tokens are opaque; only their SHA-256 is stored
create table refresh_token (
    token_hash  text primary key,
    client_id   text not null references client (client_id) on delete cascade,
    username    text,
    expires_at  bigint not null,
    revoked_at  bigint,
    created_at  bigint not null
);
create index refresh_token_client on refresh_token (client_id);
