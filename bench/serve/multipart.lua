-- wrk script: POST one multipart upload (a session or location field and a photo) with a bearer token.
-- env: PHOTO (path), FIELD (session|location), VALUE, TOKEN, PATH_ (request path)
local photo_path = os.getenv("PHOTO")
local f = assert(io.open(photo_path, "rb"))
local photo = f:read("*a")
f:close()
local boundary = "----facecrowd-bench-boundary"
local body = "--" .. boundary .. "\r\n" ..
  "Content-Disposition: form-data; name=\"" .. os.getenv("FIELD") .. "\"\r\n\r\n" .. os.getenv("VALUE") .. "\r\n" ..
  "--" .. boundary .. "\r\n" ..
  "Content-Disposition: form-data; name=\"photo\"; filename=\"photo.jpg\"\r\n" ..
  "Content-Type: image/jpeg\r\n\r\n" .. photo .. "\r\n" ..
  "--" .. boundary .. "--\r\n"
wrk.method = "POST"
wrk.path = os.getenv("PATH_")
wrk.body = body
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local non2xx = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d p50_ms=%.1f p99_ms=%.1f rps=%.3f errors=%d\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
