-- The display name lower-cased, kept by PostgreSQL itself (issue #16, contains-filters).
-- A name filter ignores case: `lower(display_name) like '%ta%'` called lower() on every
-- name the scan passed, 31 ms for 100,000 names where a plain `like` on a stored
-- lower-cased copy takes 9. SQLite's `like` already ignores (ASCII) case and needs no
-- copy. The order indexes carry it beside the name, so that a name filter in any order
-- is still an index-only scan.
alter table phone_number
    add column display_name_folded text generated always as (lower(display_name)) stored;
drop index phone_number_by_number;
create index phone_number_by_number on phone_number
    (account_id, phone_number)
    include (status, country_code, number_type, phone_number_id, display_name, display_name_folded);
drop index phone_number_by_name;
create index phone_number_by_name on phone_number
    (account_id, (coalesce(display_name, '')), phone_number)
    include (status, country_code, number_type, phone_number_id, display_name, display_name_folded);
drop index phone_number_by_country;
create index phone_number_by_country on phone_number
    (account_id, country_code, phone_number)
    include (status, number_type, phone_number_id, display_name, display_name_folded);
drop index phone_number_by_type;
create index phone_number_by_type on phone_number
    (account_id, number_type, phone_number)
    include (status, country_code, phone_number_id, display_name, display_name_folded);
