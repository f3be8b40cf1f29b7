DROP TRIGGER award_pool_entries_no_delete;
DROP TRIGGER award_pool_entries_no_update;
DROP TABLE award_pool_entries;
