#!/usr/bin/env python3
"""Idle keep-alive clients for `bench/compare-proxies idle`.

usage: idle-clients.py HOST PORT COUNT HOLD_SECONDS

Opens COUNT TCP connections to HOST:PORT (at most 200 connecting at a time), sends one
`GET /` (HTTP/1.1, keep-alive) on each and reads the whole answer, then keeps every
connection open and silent. Prints, flushed, one line each:

    READY ok=N connect_failed=N request_failed=N bad_answer=N seconds=S [first_error=...]
    DONE held=N closed_by_server=N

READY comes once every connection has its answer; DONE comes HOLD_SECONDS later and counts
the connections the server closed meanwhile (it should be 0: the servers' keep-alive timeouts
are longer than the hold). Exit status 0 when every connection was answered with 200 and a
600-byte body and none was closed, 1 otherwise. SIGTERM/SIGINT end the hold early.
"""
import asyncio
import resource
import signal
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: idle-clients\r\nAccept: */*\r\n\r\n"
EXPECTED_BODY = 600
PARALLEL_CONNECTS = 200
TIMEOUT = 20.0


async def open_one(host, port, gate, held, stats):
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT)
        except Exception as error:  # noqa: BLE001 - counted and reported
            stats["connect_failed"] += 1
            stats.setdefault("first_error", f"connect: {error!r}")
            return
        try:
            writer.write(REQUEST)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await asyncio.wait_for(reader.readexactly(length), TIMEOUT)
        except Exception as error:  # noqa: BLE001
            stats["request_failed"] += 1
            stats.setdefault("first_error", f"request: {error!r}")
            writer.close()
            return
        if status != 200 or len(body) != EXPECTED_BODY:
            stats["bad_answer"] += 1
            stats.setdefault("first_error", f"answer: status {status}, body {len(body)} bytes")
        held.append((reader, writer))


async def main():
    host, port, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    stats = {"connect_failed": 0, "request_failed": 0, "bad_answer": 0}
    held = []
    gate = asyncio.Semaphore(PARALLEL_CONNECTS)
    started = time.monotonic()
    await asyncio.gather(*(open_one(host, port, gate, held, stats) for _ in range(count)))
    seconds = time.monotonic() - started
    extra = f" first_error={stats['first_error']!r}" if "first_error" in stats else ""
    print(
        f"READY ok={len(held) - stats['bad_answer']} connect_failed={stats['connect_failed']} "
        f"request_failed={stats['request_failed']} bad_answer={stats['bad_answer']} seconds={seconds:.1f}{extra}",
        flush=True,
    )
    try:
        await asyncio.wait_for(stop.wait(), hold)
    except asyncio.TimeoutError:
        pass
    await asyncio.sleep(0.2)  # let pending EOFs be read
    closed = sum(1 for reader, _ in held if reader.at_eof())
    print(f"DONE held={len(held)} closed_by_server={closed}", flush=True)
    for _, writer in held:
        writer.close()
    failed = stats["connect_failed"] + stats["request_failed"] + stats["bad_answer"] + closed
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
