-- POST distinct signed Stripe events: BENCH_EVENTS is a file of `body<TAB>signature` lines
-- (signed by the benchmark just before the round, Stripe's real HMAC-SHA256 scheme); each
-- thread takes every Nth line from its own offset, so no two requests carry the same event
-- until the file is used up.
package.path = package.path .. ";" .. os.getenv("BENCH_WRK_DIR") .. "/?.lua"
local report = require("report")

local threads, counter = 0, 0
local events = {}

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(os.getenv("BENCH_EVENTS")) do
    local tab = line:find("\t", 1, true)
    events[#events + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
  counter = offset
  stride = tonumber(os.getenv("BENCH_THREADS") or "2")
end

function request()
  local event = events[(counter % #events) + 1]
  counter = counter + stride
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Stripe-Signature"] = event[2],
  }, event[1])
end

done = report.done
