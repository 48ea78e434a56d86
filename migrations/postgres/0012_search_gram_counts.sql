-- Available-number search at scale, second step (0011 made fragments index ranges).
--
-- 1. inventory_gram_count: the available numbers per country, type, three-character
--    string they contain and area code, kept in step by the statements that hold,
--    release, reset and import numbers, so that the exact total of a three-character
--    fragment is a few rows' sum (one with an area code) instead of a count of its
--    thousands of suffix rows.
-- 2. Inventory numbers compare bytewise (collation "C"), as SQLite compares them. A
--    fragment with a leading + can only match at the start of a number (E.164 has one +,
--    first), so it is a range of the inventory's own indexes, '+1212' <= n < '+1212:';
--    that holds only in an order that does not skip punctuation, as some collations do.
-- 3. number_suffix therefore drops the suffix starting with + (the whole number), a tenth
--    of its rows. Its columns compare bytewise too, so an index build over rows written
--    in key order (imports write them so) finds them sorted, and its rows are in key
--    order on disk: an index range's rows share few table pages, which index-only scans
--    check for visibility page by page.
alter table number_inventory alter column phone_number type text collate "C";

drop table number_suffix;
create table number_suffix (
    country_code  text collate "C" not null,
    number_type   text collate "C" not null,
    suffix        text collate "C" not null,
    phone_number  text collate "C" not null,
    area_code     text not null,
    first         boolean not null,
    constraint number_suffix_pkey
        primary key (country_code, number_type, suffix, phone_number) include (area_code, first)
);
-- Position 1 is the + of the E.164 number: suffixes start at 2.
insert into number_suffix (country_code, number_type, suffix, phone_number, area_code, first)
    select country_code, number_type, substr(phone_number, i), phone_number, area_code,
           strpos(phone_number, substr(phone_number, i, 3)) = i
    from number_inventory join gram_position on i between 2 and length(phone_number) - 2
    where held_by is null
    order by country_code collate "C", number_type collate "C", 3, 4;

create table inventory_gram_count (
    country_code  text not null,
    number_type   text not null,
    -- three consecutive characters of the number (the first three include its +)
    gram          text not null,
    area_code     text not null,
    available     bigint not null,
    primary key (country_code, number_type, gram, area_code)
);
-- A number counts once per string however often it contains it: at its first
-- occurrence.
insert into inventory_gram_count (country_code, number_type, gram, area_code, available)
    select country_code, number_type, substr(phone_number, i, 3), area_code, count(*)
    from number_inventory join gram_position on i <= length(phone_number) - 2
    where held_by is null and strpos(phone_number, substr(phone_number, i, 3)) = i
    group by 1, 2, 3, 4;
