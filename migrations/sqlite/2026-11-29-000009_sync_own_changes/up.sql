-- A phone's pull reads its account manager's own visits by change number: one index range on
-- (user_id, seq), instead of walking the scope's changes and dropping everyone else's (the
-- first sync cost 256 ms and grew with the table, not with the account manager's scope).
CREATE INDEX visits_user_seq ON visits (user_id, seq);
