-- Reading a user's disliked items must not scan the user's whole history:
-- a partial index holds only the (rare) net-negative pairs. Prisma's schema
-- language cannot express a partial index, so it lives here only.
CREATE INDEX user_items_disliked_idx ON user_items (user_id) WHERE weight_sum < 0;
