DROP INDEX visits_user_seq;
