-- Phone-number list pages from indexes (issue #16, "Lists").
--
-- 1. One index per orderBy field, each led by the account and ending with the number
--    (the tie-break) and then every column an equality filter or the page's second step
--    reads (status, country, type, id): a page is a range of one index in the asked
--    order, filters are checked on its entries, and the ids of the page are read
--    without touching a row (a covering scan); only the page's own rows are read
--    after. They replace phone_number_account and phone_number_kind (0013), which were
--    prefixes of two of them.
-- 2. phone_number_tally: how many numbers each account holds per status, country and
--    type, kept in step by triggers (every statement that adds, changes, deletes or
--    cascades a number), so that the exact total of an unfiltered or equality-filtered
--    list is the sum of a few rows instead of a count of up to every number. Each count
--    is split over 16 slots (the first character of the number's id), so that
--    concurrent adds to one account do not all wait for one row on PostgreSQL.
drop index phone_number_account;
drop index phone_number_kind;
create index phone_number_by_number on phone_number
    (account_id, phone_number, status, country_code, number_type, phone_number_id);
-- Missing display names sort as empty ones (the list's `order by` says the same). The
-- name itself comes last: SQLite takes an index as covering only if it holds every
-- column the query names, and the expression does not count as display_name.
create index phone_number_by_name on phone_number
    (account_id, coalesce(display_name, ''), phone_number, status, country_code, number_type, phone_number_id,
     display_name);
create index phone_number_by_country on phone_number
    (account_id, country_code, phone_number, status, number_type, phone_number_id);
create index phone_number_by_type on phone_number
    (account_id, number_type, phone_number, status, country_code, phone_number_id);

create table phone_number_tally (
    account_id    text not null references account (account_id) on delete cascade,
    status        text not null,
    country_code  text not null,
    number_type   text not null,
    slot          text not null,
    n             bigint not null,
    primary key (account_id, status, country_code, number_type, slot)
) without rowid;
insert into phone_number_tally (account_id, status, country_code, number_type, slot, n)
    select account_id, status, country_code, number_type, substr(phone_number_id, 1, 1), count(*)
    from phone_number group by 1, 2, 3, 4, 5;

create trigger phone_number_tally_insert after insert on phone_number begin
    insert into phone_number_tally (account_id, status, country_code, number_type, slot, n)
        values (new.account_id, new.status, new.country_code, new.number_type, substr(new.phone_number_id, 1, 1), 1)
        on conflict (account_id, status, country_code, number_type, slot) do update set n = n + 1;
end;
-- A plain update: when the account itself is being deleted its rows may be gone first.
create trigger phone_number_tally_delete after delete on phone_number begin
    update phone_number_tally set n = n - 1
        where account_id = old.account_id and status = old.status and country_code = old.country_code
          and number_type = old.number_type and slot = substr(old.phone_number_id, 1, 1);
end;
create trigger phone_number_tally_update
    after update of account_id, status, country_code, number_type, phone_number_id on phone_number begin
    update phone_number_tally set n = n - 1
        where account_id = old.account_id and status = old.status and country_code = old.country_code
          and number_type = old.number_type and slot = substr(old.phone_number_id, 1, 1);
    insert into phone_number_tally (account_id, status, country_code, number_type, slot, n)
        values (new.account_id, new.status, new.country_code, new.number_type, substr(new.phone_number_id, 1, 1), 1)
        on conflict (account_id, status, country_code, number_type, slot) do update set n = n + 1;
end;
