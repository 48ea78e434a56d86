-- Search of available numbers at scale.
-- Contained digits are found through a trigram index rather than a scan; the two
-- backends differ here only: PostgreSQL uses pg_trgm (this file; `like '%...%'` uses
-- the index), SQLite FTS5's trigram tokenizer (its own 0006).
create extension if not exists pg_trgm;
create index number_inventory_trgm on number_inventory using gin (phone_number gin_trgm_ops)
    where held_by is null;

-- Available numbers per country, type and area code, kept in step by the statements
-- that hold, release and import numbers, so a page's exact total is a few rows' sum.
create table inventory_count (
    country_code  text not null,
    number_type   text not null,
    area_code     text not null,
    available     bigint not null,
    primary key (country_code, number_type, area_code)
);
insert into inventory_count (country_code, number_type, area_code, available)
    select country_code, number_type, area_code, count(*) from number_inventory
    where held_by is null group by country_code, number_type, area_code;
