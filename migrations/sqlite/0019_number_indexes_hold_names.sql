-- The list's order indexes hold the display name too (issue #16, contains-filters), as
-- phone_number_by_name already does. A name filter (`displayName:*ta*`) in another
-- order read each entry's row to test the name: 142 ms for page 100 of a
-- 100,000-number account, where the entries alone take a few.
drop index phone_number_by_number;
create index phone_number_by_number on phone_number
    (account_id, phone_number, status, country_code, number_type, phone_number_id, display_name);
drop index phone_number_by_country;
create index phone_number_by_country on phone_number
    (account_id, country_code, phone_number, status, number_type, phone_number_id, display_name);
drop index phone_number_by_type;
create index phone_number_by_type on phone_number
    (account_id, number_type, phone_number, status, country_code, phone_number_id, display_name);
