-- PostgreSQL raises "value out of range: underflow" for exp(x) below about
-- -745 instead of returning 0. Two decayed sums that far apart in log space
-- (a one-day half-life and events three years apart) made every later event
-- on the item fail. Past a gap of 40, ln(1 + e^-gap) is below 1e-17: the
-- smaller term no longer changes a float8, so it is simply dropped.
CREATE OR REPLACE FUNCTION recflow_logaddexp(a DOUBLE PRECISION, b DOUBLE PRECISION)
RETURNS DOUBLE PRECISION LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN a IS NULL THEN b
    WHEN b IS NULL THEN a
    WHEN abs(a - b) > 40 THEN greatest(a, b)
    ELSE greatest(a, b) + ln(1 + exp(-abs(a - b)))
  END
$$;
