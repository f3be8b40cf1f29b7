DROP TABLE sync_rejections;
DROP TABLE sync_resends;
