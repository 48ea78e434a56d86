-- Nothing to do on SQLite: its planner takes the primary key for the gram-count update
-- without statistics. PostgreSQL's migration 0018 analyzes gram_position; the numbers
-- stay the same on both backends.
select 1;
