-- Messages the pipeline could not turn into rows in [since, until), by reason and stage
-- (the errors table; README "Error rows" lists the reasons).
-- reason, stage, error_rows, first_seen, last_seen.
SELECT
  reason,
  stage,
  COUNT(*) AS error_rows,
  MIN(error_timestamp) AS first_seen,
  MAX(error_timestamp) AS last_seen
FROM `${project}.${dataset}.${errors_table}`
WHERE error_timestamp >= since AND error_timestamp < until
GROUP BY reason, stage
ORDER BY error_rows DESC, reason, stage
