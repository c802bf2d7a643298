-- Shared by the mixes: prints one machine-readable line (requests/s, p50/p95/p99 in ms, socket
-- errors, non-2xx answers) that bench/backend-load collects.
done = function(summary, latency, requests)
  local rps = summary.requests / (summary.duration / 1e6)
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("RESULT rps=%.0f p50=%.2f p95=%.2f p99=%.2f socket_errors=%d non2xx=%d requests=%d\n",
    rps, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    socket_errors, summary.errors.status, summary.requests))
end
