DROP FUNCTION IF EXISTS outreach_feed_horizon(integer, integer);
