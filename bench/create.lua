-- W-create: POST /api/bench-user/tasks with a fixed JSON body and a bearer token from $TOKEN.
-- The request is built once (no request() hook), so Lua stays off the per-request path.
local token = os.getenv("TOKEN")
if token == nil or token == "" then
  error("create.lua: set TOKEN to a bearer token (bench/run.sh does this)")
end
wrk.method = "POST"
wrk.body = '{"title":"bench task","description":"created by wrk during W-create"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
