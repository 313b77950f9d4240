-- Latency percentiles of the 15 most requested paths in [since, until).
-- path, requests, p50_ms, p95_ms, p99_ms (requests without a latency are not in the percentiles).
SELECT
  path,
  COUNT(*) AS requests,
  ROUND(APPROX_QUANTILES(latency_seconds, 100)[OFFSET(50)] * 1000, 1) AS p50_ms,
  ROUND(APPROX_QUANTILES(latency_seconds, 100)[OFFSET(95)] * 1000, 1) AS p95_ms,
  ROUND(APPROX_QUANTILES(latency_seconds, 100)[OFFSET(99)] * 1000, 1) AS p99_ms
FROM `${project}.${dataset}.${requests_view}`
WHERE timestamp >= since AND timestamp < until AND path IS NOT NULL
GROUP BY path
ORDER BY requests DESC, path
LIMIT 15
