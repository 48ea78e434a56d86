-- Search of available numbers by contained digits, at scale; replaces 0006's pg_trgm
-- index. A number contains a fragment exactly when one of its suffixes starts with it,
-- so each available number has a row per suffix of three or more characters, keyed so
-- that the numbers of a country and type containing a fragment are one index range (a
-- prefix range of `suffix`, compared bytewise: collation "C"), read by an index-only
-- scan. `first` marks the suffix where its leading three characters first occur in the
-- number: counting those rows counts each number containing a three-character fragment
-- once, without a sort. The trigram index found the matches but not the country, type,
-- order and count around them, which cost a heap visit per match.
drop index number_inventory_trgm;

-- 1..14: the start of every suffix of three or more characters of an E.164 string (at
-- most 16 characters with the +).
create table gram_position (i integer primary key);
insert into gram_position (i) select generate_series(1, 14);

create table number_suffix (
    country_code  text not null,
    number_type   text not null,
    suffix        text collate "C" not null,
    -- the inventory's collation, so that joining back to it uses its primary key
    phone_number  text not null,
    area_code     text not null,
    first         boolean not null,
    primary key (country_code, number_type, suffix, phone_number) include (area_code, first)
);

insert into number_suffix (country_code, number_type, suffix, phone_number, area_code, first)
    select country_code, number_type, substr(phone_number, i), phone_number, area_code,
           strpos(phone_number, substr(phone_number, i, 3)) = i
    from number_inventory join gram_position on i <= length(phone_number) - 2
    where held_by is null
    order by 1, 2, 3, 4;
