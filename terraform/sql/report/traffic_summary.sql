-- The headline numbers of [since, until): one row.
-- requests, status_4xx, status_5xx, error_rate (share of 5xx), p50_ms/p95_ms/p99_ms latency,
-- bytes_served, bot_requests, bot_share, and error_rows: messages the pipeline could not read.
-- (A subquery around the WITH: local-bigquery 0.4.0 refuses a function body that starts with one.)
SELECT * FROM (
  WITH requests AS (
    SELECT
      COUNT(*) AS requests,
      COUNTIF(status BETWEEN 400 AND 499) AS status_4xx,
      COUNTIF(status BETWEEN 500 AND 599) AS status_5xx,
      ROUND(APPROX_QUANTILES(latency_seconds, 100)[OFFSET(50)] * 1000, 1) AS p50_ms,
      ROUND(APPROX_QUANTILES(latency_seconds, 100)[OFFSET(95)] * 1000, 1) AS p95_ms,
      ROUND(APPROX_QUANTILES(latency_seconds, 100)[OFFSET(99)] * 1000, 1) AS p99_ms,
      COALESCE(SUM(response_size), 0) AS bytes_served,
      COUNTIF(is_bot) AS bot_requests
    FROM `${project}.${dataset}.${requests_view}`
    WHERE timestamp >= since AND timestamp < until
  ),
  errors AS (
    SELECT COUNT(*) AS error_rows
    FROM `${project}.${dataset}.${errors_table}`
    WHERE error_timestamp >= since AND error_timestamp < until
  )
  SELECT
    requests,
    status_4xx,
    status_5xx,
    ROUND(SAFE_DIVIDE(status_5xx, requests), 4) AS error_rate,
    p50_ms,
    p95_ms,
    p99_ms,
    bytes_served,
    bot_requests,
    ROUND(SAFE_DIVIDE(bot_requests, requests), 4) AS bot_share,
    error_rows
  FROM requests CROSS JOIN errors
)
