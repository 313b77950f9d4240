"""Builds the Google Cloud clients, pointing them at the emulators when the environment says so.

`BIGQUERY_EMULATOR_HOST` (`host:port`) becomes the BigQuery client's api_endpoint with anonymous
credentials. The Storage Write API is gRPC on its own port, so the emulator's gRPC endpoint is a
separate variable, `BIGQUERY_STORAGE_EMULATOR_HOST` (`host:port`, plaintext). `STORAGE_EMULATOR_HOST`
(`http://host:port`) is the standard Cloud Storage one. All three come from `Settings`.
"""

from __future__ import annotations

import grpc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, bigquery_storage_v1, storage  # type: ignore[attr-defined]  # storage is untyped
from google.cloud.bigquery_storage_v1.services.big_query_write.transports import BigQueryWriteGrpcTransport

from functions.config import ConfigError, Settings

# An emulator restarted mid-run must be found again within a write budget, not after
# gRPC's default reconnect backoff of up to two minutes.
_EMULATOR_CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.max_send_message_length", 20 * 1024 * 1024),
)


def _emulator_project(settings: Settings) -> str:
    if not settings.project:
        raise ConfigError("GOOGLE_CLOUD_PROJECT must be set when using the emulators")
    return settings.project


def make_bigquery_client(settings: Settings) -> bigquery.Client:
    if settings.bigquery_emulator_host:
        return bigquery.Client(
            project=_emulator_project(settings),
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=f"http://{settings.bigquery_emulator_host}"),
        )
    return bigquery.Client(project=settings.project)


def make_write_client(settings: Settings) -> bigquery_storage_v1.BigQueryWriteClient:
    """The Storage Write API client; with the BigQuery emulator, a plaintext channel to its gRPC port."""
    endpoint = settings.bigquery_storage_emulator_host
    if endpoint:
        channel = grpc.insecure_channel(endpoint, options=_EMULATOR_CHANNEL_OPTIONS)
        transport = BigQueryWriteGrpcTransport(channel=channel)
        return bigquery_storage_v1.BigQueryWriteClient(transport=transport)  # type: ignore[no-untyped-call]
    if settings.bigquery_emulator_host:
        raise ConfigError(
            "BIGQUERY_EMULATOR_HOST is set but BIGQUERY_STORAGE_EMULATOR_HOST is not: the Storage Write API "
            "needs the emulator's gRPC host:port (or set BIGQUERY_WRITE_METHOD=insert_all)"
        )
    return bigquery_storage_v1.BigQueryWriteClient()  # type: ignore[no-untyped-call]


def make_storage_client(settings: Settings) -> storage.Client:
    endpoint = settings.storage_emulator_host
    if endpoint:
        return storage.Client(
            project=_emulator_project(settings),
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    return storage.Client(project=settings.project)
