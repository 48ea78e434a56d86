-- The list's order indexes hold the display name too (issue #16, contains-filters), as
-- phone_number_by_name already does: a name filter in another order is then an
-- index-only scan instead of a visit to each row.
drop index phone_number_by_number;
create index phone_number_by_number on phone_number
    (account_id, phone_number) include (status, country_code, number_type, phone_number_id, display_name);
drop index phone_number_by_country;
create index phone_number_by_country on phone_number
    (account_id, country_code, phone_number) include (status, number_type, phone_number_id, display_name);
drop index phone_number_by_type;
create index phone_number_by_type on phone_number
    (account_id, number_type, phone_number) include (status, country_code, phone_number_id, display_name);
