DROP TRIGGER award_pool_entries_append_only ON award_pool_entries;
DROP FUNCTION award_pool_entries_append_only();
DROP TABLE award_pool_entries;
