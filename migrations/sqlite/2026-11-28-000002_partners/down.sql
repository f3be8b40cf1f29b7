DROP TABLE audit_log;
DROP TABLE partner_status_changes;
DROP TABLE partners;
