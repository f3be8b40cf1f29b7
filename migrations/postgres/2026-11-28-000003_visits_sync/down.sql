DROP TABLE sync_tombstones;
DROP TABLE visit_photos;
DROP TABLE visits;
DROP INDEX partners_path_seq;
ALTER TABLE partners DROP COLUMN created_seq;
ALTER TABLE partners DROP COLUMN seq;
DROP TABLE sync_counter;
