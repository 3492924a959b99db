-- wrk script: GET wrk.path with an optional bearer token (env TOKEN); prints a RESULT line with p99.
local token = os.getenv("TOKEN")
if token and #token > 0 then wrk.headers["Authorization"] = "Bearer " .. token end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d p50_ms=%.3f p99_ms=%.3f rps=%.1f errors=%d\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
