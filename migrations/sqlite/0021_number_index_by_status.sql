-- The list's index for a status filter in the default order (issue #16): the numbers of
-- one status are then a range of it, where the number index had every entry before the
-- page tested. Page 50 of a rare status (4,000 of 100,000 numbers) skipped 60,000.
create index phone_number_by_status on phone_number
    (account_id, status, phone_number, country_code, number_type, phone_number_id, display_name);
