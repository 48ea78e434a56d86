-- The number inventory (what can be added), the documentation rules that decide
-- whether activating a number needs documents, and the numbers accounts hold.

-- Per country and type: activation needs documentation. Data, not code.
create table documentation_rule (
    country_code   text not null,
    number_type    text not null,
    required       boolean not null,
    primary key (country_code, number_type)
);

create table number_inventory (
    phone_number            text primary key,
    country_code            text not null,
    number_type             text not null,
    -- NANP area code, or the national destination code elsewhere ('' if none)
    area_code               text not null,
    documentation_required  boolean not null,
    -- the account holding the number; null while it is available
    held_by                 text
);
-- available numbers by the search's equality filters, in result order
create index number_inventory_available on number_inventory (country_code, number_type, area_code, phone_number)
    where held_by is null;
create index number_inventory_country on number_inventory (country_code, number_type, phone_number)
    where held_by is null;

create table phone_number (
    phone_number_id           text primary key,
    account_id                text not null references account (account_id) on delete cascade,
    phone_number              text not null,
    country_code              text not null,
    number_type               text not null,
    -- compared bytewise, as SQLite does, so both backends order lists alike
    display_name              text collate "C",
    is_calling_party_number   boolean,
    preferred_media_location  text,
    status                    text not null,
    status_message            text,
    -- the status to return to when an Administrator re-enables a disabled number
    status_before_disable     text,
    generation                bigint not null,
    created_at                bigint not null,
    updated_at                bigint not null
);
-- a number has one holder at a time: concurrent adds give exactly one 202
create unique index phone_number_number on phone_number (phone_number);
create index phone_number_account on phone_number (account_id, phone_number);
