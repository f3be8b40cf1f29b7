DROP TABLE coaching_reviews;
DROP TABLE coaching_plans;
