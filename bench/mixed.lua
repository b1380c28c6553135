-- The mixed workload: every request is a random user's list, create or completion toggle.
--
-- Environment (bench/mixed.sh and bench/postgres.sh set these):
--   USERS_FILE   one line per user: "USER TOKEN TASK_ID TASK_ID ...", written by the seeding step
--   MIX          "LIST,CREATE,TOGGLE" percentages summing to 100 (default "80,10,10")
--   COUNTS_FILE  done() writes "created USER N" (201s per user) and "status CODE N" lines here
--
-- Every request is built once per thread in init(), so request() only draws random numbers.
-- response() counts 201s per user (read from the created task's body) so the script running wrk
-- can check that every user's total grew by exactly the creates it was answered 201 for.

local users_file = os.getenv("USERS_FILE")
local counts_file = os.getenv("COUNTS_FILE")
local mix = os.getenv("MIX") or "80,10,10"
if users_file == nil or users_file == "" or counts_file == nil or counts_file == "" then
  error("mixed.lua: set USERS_FILE and COUNTS_FILE (bench/mixed.sh does this)")
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local list_requests, create_requests, toggle_requests = {}, {}, {}
local list_cut, create_cut
local user_count = 0
-- Globals, so done() can read them from each thread with thread:get().
created = {}
statuses = {}
unparsed_201 = 0

function init(args)
  local list_pct, create_pct, toggle_pct = mix:match("^(%d+),(%d+),(%d+)$")
  if list_pct == nil or list_pct + create_pct + toggle_pct ~= 100 then
    error("mixed.lua: MIX must be three percentages summing to 100, not '" .. mix .. "'")
  end
  list_cut = tonumber(list_pct)
  create_cut = list_cut + tonumber(create_pct)
  -- Different threads must not draw the same sequence.
  math.randomseed(os.time() + 7919 * thread_number)

  local file = assert(io.open(users_file, "r"))
  for line in file:lines() do
    local fields = {}
    for field in line:gmatch("%S+") do
      table.insert(fields, field)
    end
    if #fields < 3 then
      error("mixed.lua: a line of " .. users_file .. " has no task ids: " .. line)
    end
    local user, token = fields[1], fields[2]
    local base = "/api/" .. user .. "/tasks"
    local auth = { ["Authorization"] = "Bearer " .. token }
    local json = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
    user_count = user_count + 1
    list_requests[user_count] = wrk.format("GET", base, auth)
    create_requests[user_count] =
      wrk.format("POST", base, json, '{"title":"mixed task","description":"created during the mixed workload"}')
    local toggles = {}
    for i = 3, #fields do
      table.insert(toggles, wrk.format("PATCH", base .. "/" .. fields[i] .. "/complete", auth))
    end
    toggle_requests[user_count] = toggles
  end
  file:close()
  if user_count == 0 then
    error("mixed.lua: " .. users_file .. " lists no users")
  end
end

function request()
  local u = math.random(user_count)
  local r = math.random(100)
  if r <= list_cut then
    return list_requests[u]
  elseif r <= create_cut then
    return create_requests[u]
  end
  local toggles = toggle_requests[u]
  return toggles[math.random(#toggles)]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    local user = body:match('"user_id":"([^"]*)"')
    if user then
      created[user] = (created[user] or 0) + 1
    else
      unparsed_201 = unparsed_201 + 1
    end
  end
end

function done(summary, latency, requests)
  local totals, codes, unparsed = {}, {}, 0
  for _, thread in ipairs(threads) do
    for user, n in pairs(thread:get("created")) do
      totals[user] = (totals[user] or 0) + n
    end
    for code, n in pairs(thread:get("statuses")) do
      codes[code] = (codes[code] or 0) + n
    end
    unparsed = unparsed + thread:get("unparsed_201")
  end
  local out = assert(io.open(counts_file, "w"))
  for user, n in pairs(totals) do
    out:write("created ", user, " ", n, "\n")
  end
  for code, n in pairs(codes) do
    out:write("status ", code, " ", n, "\n")
  end
  out:write("unparsed_201 ", unparsed, "\n")
  out:close()
end
