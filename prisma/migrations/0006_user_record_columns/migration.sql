-- The pipeline keeps each user's whole record in user_features, so that a
-- batch never reads the user's history back to refresh the hot copy:
--
-- * `recent`: the latest 20 applied events, newest first, each as
--   [event_id, item_id, type, value, weight, occurred_at in ms]. The event id
--   breaks ties in time, so merging new events into it gives the same list in
--   any arrival order (src/domain/user-record.ts).
-- * `disliked`: the items whose net weight (user_items.weight_sum) is below
--   zero, in id order. The pipeline updates it from the user_items rows a
--   batch changes.
--
-- Existing users are filled from the events and user_items tables.
ALTER TABLE user_features
  ADD COLUMN recent   JSON   NOT NULL DEFAULT '[]',
  ADD COLUMN disliked TEXT[] NOT NULL DEFAULT '{}';

UPDATE user_features f SET
  recent = COALESCE((
    SELECT json_agg(json_build_array(r.event_id, r.item_id, r.type, r.value, r.weight,
                                     (extract(epoch FROM r.occurred_at) * 1000)::float8)
                    ORDER BY r.occurred_at DESC, r.event_id COLLATE "C" DESC)
    FROM (SELECT e.event_id, e.item_id, e.type, e.value, e.weight, e.occurred_at
          FROM events e WHERE e.user_id = f.user_id
          ORDER BY e.occurred_at DESC, e.event_id COLLATE "C" DESC
          LIMIT 20) r), '[]'::json),
  disliked = COALESCE((
    SELECT array_agg(ui.item_id ORDER BY ui.item_id COLLATE "C") FROM user_items ui
    WHERE ui.user_id = f.user_id AND ui.weight_sum < 0), '{}');

-- Nothing reads these any more. The partial index also kept every user_items
-- update from being a heap-only (HOT) update, as weight_sum is in its
-- predicate; events_item_id_idx cost one index insert per event.
DROP INDEX user_items_disliked_idx;
DROP INDEX events_item_id_idx;
