"""The Runtime (sinks/runtime.py) with its real parts: what each entry point gets built, built
once, without touching the network (the Google clients connect on first use)."""

from __future__ import annotations

import pytest

from functions.config import ConfigError
from sinks.archive import Archiver
from sinks.batcher import MicroBatcher
from sinks.pubsub import Puller
from sinks.runtime import Runtime
from sinks.store import Store

ENV = {
    "GOOGLE_CLOUD_PROJECT": "blog-prod-123",
    "ARCHIVE_BUCKET": "blog-prod-123-logexport-archive",
    "DRAIN_SUBSCRIPTION": "projects/blog-prod-123/subscriptions/logexport-drain",
}


def test_drain_gets_a_puller_on_its_subscription_and_a_store_that_archives() -> None:
    runtime = Runtime.from_env(ENV)
    job = runtime.drain_job()
    assert isinstance(job.source, Puller) and job.source.subscription == ENV["DRAIN_SUBSCRIPTION"]
    store = job.deliver.__self__  # type: ignore[attr-defined]  # the bound Store.store
    assert isinstance(store, Store) and isinstance(store.archiver, Archiver) and store.bigquery is None
    assert (job.batch_size, job.budget_seconds) == (1000, 200.0)
    assert runtime.drain_job() is job  # built once per instance


def test_drain_writes_bigquery_too_when_asked() -> None:
    job = Runtime.from_env({**ENV, "DRAIN_WRITE_BIGQUERY": "true"}).drain_job()
    assert job.deliver.__self__.bigquery is not None  # type: ignore[attr-defined]


def test_ingest_shares_appends_through_the_micro_batcher_unless_the_wait_is_zero() -> None:
    batched = Runtime.from_env(ENV).ingest_submit()
    assert isinstance(batched.__self__, MicroBatcher)  # type: ignore[attr-defined]
    alone = Runtime.from_env({**ENV, "INGEST_BATCH_WAIT_MS": "0"})
    assert alone.ingest_submit() is alone.ingest_submit()
    assert not hasattr(alone.ingest_submit(), "__self__")


@pytest.mark.parametrize(
    ("env", "named"),
    [({"WRITE_BUDGET_SECONDS": "x"}, "WRITE_BUDGET_SECONDS"), ({"ARCHIVE_BUCKET": ""}, "ARCHIVE_BUCKET")],
)
def test_configuration_errors_are_raised_to_each_entry_point_not_at_import(env: dict[str, str], named: str) -> None:
    runtime = Runtime.from_env({**ENV, **env})  # never raises: every request reports the error
    with pytest.raises(ConfigError, match=named):
        runtime.drain_job()
