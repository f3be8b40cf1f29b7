DROP TABLE practice_case_votes;
DROP TABLE practice_cases;
