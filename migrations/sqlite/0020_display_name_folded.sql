-- Nothing to do on SQLite: its `like` already ignores (ASCII) case, so a name filter
-- compares the name itself. PostgreSQL's migration 0020 keeps a lower-cased copy of the
-- name for its filters; the numbers stay the same on both backends.
select 1;
