-- Who sends the requests of [since, until): the top 10 of each dimension.
-- dimension: 'device' (desktop, mobile, tablet, bot, other), 'browser' and 'os' (people
-- only: is_bot is false), 'bot' (automated clients by name: the browser family, else the
-- User-Agent's first 60 characters); value; requests. Requests without a User-Agent are
-- counted as device 'unknown'.
-- (A subquery around the WITH: local-bigquery 0.4.0 refuses a function body that starts with one.)
SELECT * FROM (
  WITH requests AS (
    SELECT ua_device, ua_browser, ua_os, is_bot, user_agent
    FROM `${project}.${dataset}.${requests_view}`
    WHERE timestamp >= since AND timestamp < until
  ),
  counted AS (
    SELECT 'device' AS dimension, COALESCE(ua_device, 'unknown') AS value, COUNT(*) AS requests
    FROM requests GROUP BY value
    UNION ALL
    SELECT 'browser', ua_browser, COUNT(*) FROM requests WHERE is_bot = FALSE GROUP BY ua_browser
    UNION ALL
    SELECT 'os', ua_os, COUNT(*) FROM requests WHERE is_bot = FALSE GROUP BY ua_os
    UNION ALL
    SELECT 'bot', IF(ua_browser = 'Other', SUBSTR(user_agent, 1, 60), ua_browser), COUNT(*)
    FROM requests WHERE is_bot GROUP BY 2
  )
  SELECT dimension, value, requests
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY dimension ORDER BY requests DESC, value) AS rank
    FROM counted
  )
  WHERE rank <= 10
)
