-- The 20 paths answered 404 most often in [since, until): broken links and scanners.
-- path, requests, bot_requests, referrers (distinct Referer headers), last_seen.
SELECT
  path,
  COUNT(*) AS requests,
  COUNTIF(is_bot) AS bot_requests,
  COUNT(DISTINCT referer) AS referrers,
  MAX(timestamp) AS last_seen
FROM `${project}.${dataset}.${requests_view}`
WHERE timestamp >= since AND timestamp < until AND status = 404
GROUP BY path
ORDER BY requests DESC, path
LIMIT 20
