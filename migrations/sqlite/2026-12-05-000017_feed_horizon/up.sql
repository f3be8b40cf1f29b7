-- Issue 22's feed horizon is PostgreSQL's (SQLite numbers changes under its one writer);
-- this keeps the two backends' migration versions alike.
SELECT 1;
