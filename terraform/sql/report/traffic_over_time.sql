-- Traffic of [since, until) per time bucket: one row per bucket with requests or error rows.
-- The bucket width follows the range, for at most ~360 points: 1 minute up to 6 hours,
-- 10 minutes up to 2 days, 1 hour up to 2 weeks, then 1 day (bucket_seconds says which).
-- time, bucket_seconds, requests, status_2xx .. status_5xx, status_other (1xx, none),
-- p50_ms/p95_ms/p99_ms latency, bytes_served, bot_requests, error_rows.
-- (A subquery around the WITH: local-bigquery 0.4.0 refuses a function body that starts with one.)
SELECT * FROM (
  WITH bucket AS (
    SELECT
      CASE
        WHEN TIMESTAMP_DIFF(until, since, MINUTE) <= 6 * 60 THEN 60
        WHEN TIMESTAMP_DIFF(until, since, MINUTE) <= 2 * 24 * 60 THEN 600
        WHEN TIMESTAMP_DIFF(until, since, MINUTE) <= 14 * 24 * 60 THEN 3600
        ELSE 86400
      END AS seconds
  ),
  requests AS (
    SELECT
      TIMESTAMP_SECONDS(DIV(UNIX_SECONDS(r.timestamp), b.seconds) * b.seconds) AS time,
      COUNT(*) AS requests,
      COUNTIF(r.status BETWEEN 200 AND 299) AS status_2xx,
      COUNTIF(r.status BETWEEN 300 AND 399) AS status_3xx,
      COUNTIF(r.status BETWEEN 400 AND 499) AS status_4xx,
      COUNTIF(r.status BETWEEN 500 AND 599) AS status_5xx,
      COUNTIF(r.status IS NULL OR r.status < 200 OR r.status > 599) AS status_other,
      ROUND(APPROX_QUANTILES(r.latency_seconds, 100)[OFFSET(50)] * 1000, 1) AS p50_ms,
      ROUND(APPROX_QUANTILES(r.latency_seconds, 100)[OFFSET(95)] * 1000, 1) AS p95_ms,
      ROUND(APPROX_QUANTILES(r.latency_seconds, 100)[OFFSET(99)] * 1000, 1) AS p99_ms,
      COALESCE(SUM(r.response_size), 0) AS bytes_served,
      COUNTIF(r.is_bot) AS bot_requests
    FROM `${project}.${dataset}.${requests_view}` AS r
    CROSS JOIN bucket AS b
    WHERE r.timestamp >= since AND r.timestamp < until
    GROUP BY time
  ),
  errors AS (
    SELECT
      TIMESTAMP_SECONDS(DIV(UNIX_SECONDS(e.error_timestamp), b.seconds) * b.seconds) AS time,
      COUNT(*) AS error_rows
    FROM `${project}.${dataset}.${errors_table}` AS e
    CROSS JOIN bucket AS b
    WHERE e.error_timestamp >= since AND e.error_timestamp < until
    GROUP BY time
  )
  SELECT
    COALESCE(requests.time, errors.time) AS time,
    (SELECT seconds FROM bucket) AS bucket_seconds,
    COALESCE(requests.requests, 0) AS requests,
    COALESCE(requests.status_2xx, 0) AS status_2xx,
    COALESCE(requests.status_3xx, 0) AS status_3xx,
    COALESCE(requests.status_4xx, 0) AS status_4xx,
    COALESCE(requests.status_5xx, 0) AS status_5xx,
    COALESCE(requests.status_other, 0) AS status_other,
    requests.p50_ms,
    requests.p95_ms,
    requests.p99_ms,
    COALESCE(requests.bytes_served, 0) AS bytes_served,
    COALESCE(requests.bot_requests, 0) AS bot_requests,
    COALESCE(errors.error_rows, 0) AS error_rows
  FROM requests
  FULL OUTER JOIN errors ON requests.time = errors.time
)
