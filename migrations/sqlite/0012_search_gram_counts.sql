-- Available-number search at scale, second step (0011 made fragments index ranges).
--
-- 1. inventory_gram_count: the available numbers per country, type, three-character
--    string they contain and area code, kept in step by the statements that hold,
--    release, reset and import numbers, so that the exact total of a three-character
--    fragment is a few rows' sum (one with an area code) instead of a count of its
--    thousands of suffix rows.
-- 2. A fragment with a leading + can only match at the start of a number (E.164 has one
--    +, first), so it is a range of the inventory's own indexes ('+1212' <= n < '+1212:',
--    SQLite compares text bytewise), and number_suffix drops the suffix starting with +
--    (the whole number), a tenth of its rows.
delete from number_suffix where substr(suffix, 1, 1) = '+';

create table inventory_gram_count (
    country_code  text not null,
    number_type   text not null,
    -- three consecutive characters of the number (the first three include its +)
    gram          text not null,
    area_code     text not null,
    available     bigint not null,
    primary key (country_code, number_type, gram, area_code)
) without rowid;
-- A number counts once per string however often it contains it: at its first
-- occurrence.
insert into inventory_gram_count (country_code, number_type, gram, area_code, available)
    select country_code, number_type, substr(phone_number, i, 3), area_code, count(*)
    from number_inventory join gram_position on i <= length(phone_number) - 2
    where held_by is null and instr(phone_number, substr(phone_number, i, 3)) = i
    group by 1, 2, 3, 4;
