"""Fault injection for the local pipeline: a delaying TCP proxy on loopback.

`DelayProxy` sits between the function servers and one emulator port. With `delay` at 0 it
passes bytes through untouched; with a delay, every chunk the emulator sends back reaches the
client that many seconds late, in order, while requests still reach the emulator at once. So
the emulator does the work (the row or the object is written) and the caller sees a slow
dependency: exactly the case where a caller times out, fails the delivery, and Pub/Sub
redelivers something that was already stored.

It is bounded: at most `max_connections` open at once, at most `MAX_QUEUED_CHUNKS` chunks held
per connection, and it stops itself after `lifetime_seconds` even if nobody calls `stop()`.
It listens on 127.0.0.1 only and speaks no protocol, so HTTP/1.1 (Cloud Storage, BigQuery REST)
and HTTP/2 (the Storage Write API's gRPC) both pass through.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from types import TracebackType

from local.emulators import LOOPBACK, free_port

CHUNK_BYTES = 64 * 1024
MAX_QUEUED_CHUNKS = 1024  # 64 MiB per connection at most
DEFAULT_LIFETIME_SECONDS = 3600.0


class DelayProxy:
    def __init__(
        self, upstream_port: int, *, max_connections: int = 128, lifetime_seconds: float = DEFAULT_LIFETIME_SECONDS
    ) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.delay = 0.0  # seconds added to every upstream -> client chunk
        self.max_connections = max_connections
        self.lifetime_seconds = lifetime_seconds
        self.connections = 0  # accepted so far
        self.delayed_chunks = 0
        self._open = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"delay-proxy-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"delay proxy on {self.host} did not start: {self._error!r}")

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended on its own meanwhile
                loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None

    def __enter__(self) -> DelayProxy:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @contextlib.contextmanager
    def slowed(self, seconds: float) -> Iterator[None]:
        """Responses are `seconds` late inside the block (chunks already queued stay late)."""
        previous, self.delay = self.delay, seconds
        try:
            yield
        finally:
            self.delay = previous

    # -- the loop -----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as e:  # reported to start(); the thread must not die silently
            self._error = e
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._handle, LOOPBACK, self.port)
        self._ready.set()
        try:
            await asyncio.wait_for(self._stopped.wait(), timeout=self.lifetime_seconds)
        except TimeoutError:
            pass  # stops itself
        finally:
            server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._open >= self.max_connections:
            client_writer.close()
            return
        self._open += 1
        self.connections += 1
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(LOOPBACK, self.upstream_port)
            except OSError:
                return  # the emulator is down: the client sees its connection closed
            queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(MAX_QUEUED_CHUNKS)
            tasks = [
                asyncio.create_task(self._forward(client_reader, upstream_writer)),
                asyncio.create_task(self._receive(upstream_reader, queue)),
                asyncio.create_task(self._deliver(queue, client_writer)),
            ]
            # Ends when the client hangs up, or when the upstream's last chunk was delivered.
            _, pending = await asyncio.wait([tasks[0], tasks[2]], return_when=asyncio.FIRST_COMPLETED)
            for task in (*pending, tasks[1]):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._open -= 1
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    writer.close()

    @staticmethod
    async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Client -> upstream, at once."""
        with contextlib.suppress(OSError):
            while chunk := await reader.read(CHUNK_BYTES):
                writer.write(chunk)
                await writer.drain()

    async def _receive(self, reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes] | None]) -> None:
        """Upstream -> queue, each chunk stamped with when it may reach the client."""
        try:
            while chunk := await reader.read(CHUNK_BYTES):
                if self.delay > 0:
                    self.delayed_chunks += 1
                await queue.put((time.monotonic() + self.delay, chunk))
        except OSError:
            pass
        await queue.put(None)

    @staticmethod
    async def _deliver(queue: asyncio.Queue[tuple[float, bytes] | None], writer: asyncio.StreamWriter) -> None:
        """Queue -> client, in order, each chunk not before its time."""
        with contextlib.suppress(OSError):
            while (item := await queue.get()) is not None:
                due, chunk = item
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(chunk)
                await writer.drain()
