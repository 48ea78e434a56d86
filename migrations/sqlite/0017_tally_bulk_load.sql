-- PostgreSQL's 0017 lets state imports skip the tally trigger (its row versions made
-- each update slower within one transaction). SQLite updates the tally rows in place,
-- so its triggers stay; this keeps both backends at the same schema version, which
-- snapshots carry.
select 1;
