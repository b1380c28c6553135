-- W-list: GET /api/bench-user/tasks with a bearer token taken from $TOKEN.
-- The URL (and so the path) comes from the wrk command line.
local token = os.getenv("TOKEN")
if token == nil or token == "" then
  error("list.lua: set TOKEN to a bearer token (bench/run.sh does this)")
end
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. token
