-- wrk script for bench/serve.py: POST one fixed JSON body, print a JSON summary at the end.
--
-- Environment: WRK_BODY_FILE (the request body), WRK_AUTH (optional "Authorization" value).
-- done() prints one line starting with "WRK_JSON " that bench/serve.py parses: requests,
-- seconds, errors by kind (non-2xx/3xx statuses included) and latency percentiles in ms.

local body_file = os.getenv("WRK_BODY_FILE")
local f = assert(io.open(body_file, "rb"), "cannot open WRK_BODY_FILE " .. tostring(body_file))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("WRK_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
  local ms = function(us) return us / 1000.0 end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.6f, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_ms": {"mean": %.4f, "p50": %.4f, "p90": %.4f, "p99": %.4f, "max": %.4f}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    ms(latency.mean), ms(latency:percentile(50)), ms(latency:percentile(90)),
    ms(latency:percentile(99)), ms(latency.max)
  ))
end
