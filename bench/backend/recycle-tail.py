#!/usr/bin/env python3
"""Where a recycling run's slow requests are: bench/backend-load STACK=1 ACCESS_LOG=on leaves
the edge's access log (access.log) and the supervisor's log (backend.log) in its results
directory; this puts every request slower than the run's p99 next to the nearest worker event.

usage: bench/backend/recycle-tail.py RESULTS_DIR [--skip SECONDS]

For each slow request (edge duration above the p99 of the requests measured), by its start
(the log line's time minus its duration): how far it started from the nearest `worker_ready`
(a replacement took over: the old worker drains and the edge's connections to it move) and
from the nearest `worker_started` (a replacement is starting: its start-up CPU), in 10 ms bins.
A tail made by the hand-over piles up just after `ready`; one made by start-up CPU spreads over
the 50-100 ms after `spawn`. The first SECONDS (default 1.5: wrk's warm-up pass) are skipped.
"""
import bisect, json, signal, sys
from datetime import datetime


def stamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # piped into head: stop quietly
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = sys.argv[1]
    skip = float(sys.argv[sys.argv.index("--skip") + 1]) if "--skip" in sys.argv else 1.5
    requests = []
    try:
        for line in open(f"{results}/access.log"):
            entry = json.loads(line)
            if entry["method"] != "GET" or "/health" in entry["path"]:
                continue
            requests.append((stamp(entry["time"]) - entry["duration"], entry["duration"] * 1000))
    except FileNotFoundError:
        sys.exit(f"no {results}/access.log: run bench/backend-load with STACK=1 ACCESS_LOG=on")
    events = {"worker_ready": [], "worker_started": []}
    for line in open(f"{results}/backend.log"):
        if '"backend.supervisor"' not in line:
            continue
        entry = json.loads(line)
        if entry.get("event") in events:
            events[entry["event"]].append(stamp(entry["time"]))
    if not requests:
        sys.exit("no proxied GET requests in the access log")
    requests.sort()
    first, last = requests[0][0] + skip, requests[-1][0]
    requests = [r for r in requests if first <= r[0] <= last]
    durations = sorted(d for _, d in requests)
    p99 = durations[int(len(durations) * 0.99)]
    slow = [t for t, d in requests if d > p99]
    print(f"{len(requests)} requests, edge p50 {durations[len(durations) // 2]:.2f} ms, p99 {p99:.2f} ms; "
          f"{len(slow)} slower than p99")
    for name, label in (("worker_ready", "ready"), ("worker_started", "spawn")):
        times = sorted(e for e in events[name] if first < e < last)
        if not times:
            print(f"no {name} events in the measured time")
            continue
        bins = {}
        for t in slow:
            i = bisect.bisect_left(times, t)
            nearest = min((times[k] for k in (i - 1, i) if 0 <= k < len(times)), key=lambda e: abs(t - e))
            key = int((t - nearest) * 1000 // 10) * 10
            bins[key] = bins.get(key, 0) + 1
        shown = [(k, n) for k, n in sorted(bins.items()) if n >= len(slow) * 0.02]
        print(f"slow requests by start, ms from the nearest {label} ({len(times)} events; bins with >= 2 %):")
        print("  " + "  ".join(f"{k:+d}:{n}" for k, n in shown))


if __name__ == "__main__":
    main()
