-- Search of available numbers at scale.
-- Contained digits are found through a trigram index rather than a scan; the two
-- backends differ here only: SQLite uses FTS5's trigram tokenizer (this file), PostgreSQL
-- pg_trgm (its own 0006).
create virtual table number_inventory_fts using fts5(
    phone_number, content = 'number_inventory', tokenize = 'trigram'
);
insert into number_inventory_fts (rowid, phone_number) select rowid, phone_number from number_inventory;
create trigger number_inventory_fts_insert after insert on number_inventory begin
    insert into number_inventory_fts (rowid, phone_number) values (new.rowid, new.phone_number);
end;
create trigger number_inventory_fts_delete after delete on number_inventory begin
    insert into number_inventory_fts (number_inventory_fts, rowid, phone_number)
        values ('delete', old.rowid, old.phone_number);
end;

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
