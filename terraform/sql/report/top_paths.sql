-- The 20 most requested paths in [since, until).
-- path, requests, bytes_served, status_4xx, status_5xx, bot_requests.
SELECT
  path,
  COUNT(*) AS requests,
  COALESCE(SUM(response_size), 0) AS bytes_served,
  COUNTIF(status BETWEEN 400 AND 499) AS status_4xx,
  COUNTIF(status BETWEEN 500 AND 599) AS status_5xx,
  COUNTIF(is_bot) AS bot_requests
FROM `${project}.${dataset}.${requests_view}`
WHERE timestamp >= since AND timestamp < until AND path IS NOT NULL
GROUP BY path
ORDER BY requests DESC, path
LIMIT 20
