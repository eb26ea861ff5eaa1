-- The pipeline updates the rows of item_features, user_features,
-- user_items and user_categories on almost every batch. An update that
-- changes no indexed column and finds room on its page is heap-only (HOT):
-- no index entry is written, and the old version is pruned in place.
--
-- * item_features: the four popularity indexes held the very columns every
--   event changes, so each update wrote five index entries. Popular lists
--   are served from Redis; PostgreSQL answers them only when Redis lost
--   them (once, then Redis is filled again), by sorting one column of the
--   table, which is one row per item.
-- * Room on each page: new pages are filled to 80% (existing pages keep
--   what they hold until they are rewritten).
DROP INDEX item_features_pop_all_idx;
DROP INDEX item_features_log_day_idx;
DROP INDEX item_features_log_week_idx;
DROP INDEX item_features_log_month_idx;
ALTER TABLE item_features SET (fillfactor = 80);
ALTER TABLE user_features SET (fillfactor = 80);
ALTER TABLE user_items SET (fillfactor = 80);
ALTER TABLE user_categories SET (fillfactor = 80);
