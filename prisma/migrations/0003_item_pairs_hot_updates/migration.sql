-- Co-visitation weights change on almost every batch. Indexes that contain
-- the weight turned each change into three index writes; without them, and
-- with room left on each page, PostgreSQL updates the rows in place (HOT).
-- Neighbour reads (only on a Redis miss) now sort one item's pairs instead.
DROP INDEX item_pairs_item_a_weight_idx;
DROP INDEX item_pairs_item_b_weight_idx;
CREATE INDEX item_pairs_item_b_idx ON item_pairs (item_b);
ALTER TABLE item_pairs SET (fillfactor = 80);
