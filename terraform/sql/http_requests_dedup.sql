-- Generated from functions/views.py by `python -m functions schemas`: edit it there.
SELECT * EXCEPT (_delivery)
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY
        timestamp,
        log_name,
        insert_id,
        CASE WHEN insert_id IS NULL THEN COALESCE(message_id, GENERATE_UUID()) END
      ORDER BY publish_time, message_id
    ) AS _delivery
  FROM `${requests_table}`
)
WHERE _delivery = 1
