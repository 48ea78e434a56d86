-- gram_position (migration 0011: 14 constant rows) never reaches autovacuum's analyze
-- threshold (50 changed rows), so PostgreSQL planned it at a guessed ~850 rows. For the
-- gram-count update of every add and release (`gram in (select substr(..) from
-- gram_position ..)`) it then chose a hash join over a sequential scan of
-- inventory_gram_count: 60 ms an add on a 200,000-number inventory, instead of about
-- ten primary-key lookups (1 ms). Its real statistics fix the plan.
analyze gram_position;
