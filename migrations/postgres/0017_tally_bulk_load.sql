-- State imports load phone_number in bulk (issue #16). Row by row, the tally trigger
-- updated the same few phone_number_tally rows once per number within one
-- transaction, so each update walked a longer chain of that transaction's own row
-- versions: 2,000 numbers took 3-4 s, 100,000 over two minutes. A load sets
-- ccadmin.bulk_load for its transaction (Tx::prepare_bulk_load), the trigger then
-- does nothing, and the load rebuilds the tally from phone_number at its end
-- (store::state::Load::finish). Outside a load the setting is unset: one lookup more.
create or replace function phone_number_tally() returns trigger language plpgsql as $$
begin
    if current_setting('ccadmin.bulk_load', true) = 'on' then
        return null;
    end if;
    if tg_op in ('UPDATE', 'DELETE') then
        -- A plain update: when the account itself is being deleted its rows may be
        -- gone first.
        update phone_number_tally set n = n - 1
            where account_id = old.account_id and status = old.status and country_code = old.country_code
              and number_type = old.number_type and slot = substr(old.phone_number_id, 1, 1);
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into phone_number_tally (account_id, status, country_code, number_type, slot, n)
            values (new.account_id, new.status, new.country_code, new.number_type, substr(new.phone_number_id, 1, 1), 1)
            on conflict (account_id, status, country_code, number_type, slot) do update set n = phone_number_tally.n + 1;
    end if;
    return null;
end
$$;
