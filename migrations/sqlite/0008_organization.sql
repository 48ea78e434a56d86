-- Profiles (the user API's resource that accounts and nodes reference) and the
-- organization hierarchy of each account.

create table profile (
    account_id    text not null references account (account_id) on delete cascade,
    profile_id    text not null,
    profile_name  text not null,
    -- lower-cased name: unique within the account, ignoring case
    profile_key   text not null,
    description   text,
    created_at    bigint not null,
    updated_at    bigint not null,
    primary key (account_id, profile_id)
);
create unique index profile_profile_key on profile (account_id, profile_key);

-- Each node stores its parent only (null: directly under the account); paths are
-- derived when read, so renaming or moving a node changes every path below it with
-- no rewrite.
create table org_node (
    account_id    text not null references account (account_id) on delete cascade,
    node_id       text not null,
    name          text not null,
    -- lower-cased name: unique within the account, ignoring case
    name_key      text not null,
    parent_id     text,
    country_code  text,
    -- the node's latest operation: ADD or UPDATE, and where it stands
    action        text not null,
    status        text not null,
    message       text not null,
    generation    bigint not null,
    created_at    bigint not null,
    updated_at    bigint not null,
    primary key (account_id, node_id)
);
create unique index org_node_name_key on org_node (account_id, name_key);
create index org_node_parent on org_node (account_id, parent_id);

-- Which nodes reference which profiles (accounts' references are in account_profile).
create table org_node_profile (
    account_id  text not null,
    node_id     text not null,
    profile_id  text not null,
    position    integer not null,
    primary key (account_id, node_id, profile_id),
    foreign key (account_id, node_id) references org_node (account_id, node_id) on delete cascade
);
create index org_node_profile_profile on org_node_profile (account_id, profile_id);
