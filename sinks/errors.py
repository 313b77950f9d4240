"""The exceptions a sink raises when a batch is not (fully) written.

Both mean "do not ack": Pub/Sub redelivers the batch and, after the subscription's maximum
attempts, moves it to the dead-letter topic. Rows BigQuery rejects are not errors here: they
become `bq_rejected` rows in the errors table.
"""

from __future__ import annotations


class RetryableError(Exception):
    """A dependency failed (unavailable, throttled, timed out) for the whole write budget."""


class DestinationError(RetryableError):
    """The destination refuses the write (missing table or bucket, no permission, bad request).

    Retrying within the budget does not help, so it is raised at once; it stays a
    `RetryableError` because the messages must still not be acked: once the deployment is
    fixed, redelivery lands them.
    """
