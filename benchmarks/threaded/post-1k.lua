-- wrk script: every request is a POST with a 1 KiB body (for benchmarks/scenarios/echo.mjs
-- and its peer benchmarks/peers/node-http-echo.mjs).
wrk.method = "POST"
wrk.body = string.rep("a", 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
