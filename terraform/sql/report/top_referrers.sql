-- The 20 hosts that referred the most requests in [since, until) (requests with a Referer).
-- referrer_host (the Referer's host, or the header itself when it has none), requests, paths.
SELECT
  COALESCE(NET.HOST(referer), referer) AS referrer_host,
  COUNT(*) AS requests,
  COUNT(DISTINCT path) AS paths
FROM `${project}.${dataset}.${requests_view}`
WHERE timestamp >= since AND timestamp < until AND referer IS NOT NULL
GROUP BY referrer_host
ORDER BY requests DESC, referrer_host
LIMIT 20
