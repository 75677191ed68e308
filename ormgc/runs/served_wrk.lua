-- An open-model load for wrk 4 (Debian's, LuaJIT): requests at a fixed rate, each latency
-- measured from the time the request was due to be sent, not from when wrk got round to
-- sending it (wrk2's correction of coordinated omission, done here in wrk's Lua hooks).
--
-- Request k of the whole run is due at start + k / rate. This client sends k = offset,
-- offset + stride, ... (several clients share one schedule), stops after `count` of them,
-- and names k in the URL (?slot=k); the server echoes it in X-Ormgc-Slot, so each answer is
-- matched to its due time whichever connection carried it. Endpoints repeat in the order of
-- the `mix` argument (list, detail, write). At the end, one line per answer goes to the file
-- $ORMGC_WRK_OUT: slot due_us sent_us done_us status gc_us gc_n pid (CLOCK_MONOTONIC, the
-- clock of Python's time.monotonic_ns, so the driver can line them up with the workers').
-- When every answer is in, it writes $ORMGC_WRK_OUT.done.
--
-- wrk -t1 -c C -d SECONDS --timeout 10s -s served_wrk.lua URL -- RATE COUNT STRIDE OFFSET
--     START_US MIX   (MIX: endpoint kinds joined by commas, e.g. list,list,detail,write)
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } ormgc_timespec;
int clock_gettime(int clk_id, ormgc_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("ormgc_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  rate, count = tonumber(args[1]), tonumber(args[2])
  stride, offset, start_us = tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  mix = {}
  for kind in string.gmatch(args[6], "[a-z]+") do
    table.insert(mix, kind)
  end
  issued, answered = 0, 0
  queue, head, tail = {}, 1, 0 -- slots given a due time by delay(), not yet sent
  due, sent = {}, {}
  lines = {}
  probed = false
end

local function next_slot()
  local slot = offset + issued * stride
  issued = issued + 1
  due[slot] = start_us + math.floor(slot * 1000000 / rate)
  return slot
end

function delay()
  if issued >= count then
    return 3600000 -- this client's share is sent: idle until wrk's duration ends
  end
  local slot = next_slot()
  tail = tail + 1
  queue[tail] = slot
  local wait_ms = math.ceil((due[slot] - now_us()) / 1000)
  return wait_ms > 0 and wait_ms or 0
end

function request()
  if not probed then
    -- wrk asks each thread for one request before it starts and never sends it (seen with
    -- one connection: two requests built before the first answer). Give it one that takes no
    -- slot; were it ever sent, the app would answer 400 and it would count as an error.
    probed = true
    return wrk.format("GET", "/list?slot=probe", nil, "")
  end
  local slot
  if head <= tail then
    slot = queue[head]
    queue[head] = nil
    head = head + 1
  else -- a connection's first request comes without delay(): give it the next slot
    slot = next_slot()
  end
  sent[slot] = now_us()
  local kind = mix[(slot % #mix) + 1]
  local method = kind == "write" and "POST" or "GET"
  return wrk.format(method, "/" .. kind .. "?slot=" .. slot, nil, "")
end

function response(status, headers, body)
  local done_us = now_us()
  local slot = tonumber(headers["X-Ormgc-Slot"] or headers["x-ormgc-slot"] or "")
  if slot ~= nil and due[slot] ~= nil then
    table.insert(lines, string.format("%d %d %d %d %d %s %s %s", slot, due[slot], sent[slot],
      done_us, status, headers["X-Ormgc-Gc-Us"] or "-", headers["X-Ormgc-Gc-N"] or "-",
      headers["X-Ormgc-Pid"] or "-"))
  else
    table.insert(lines, string.format("- - - %d %d - - -", done_us, status))
  end
  answered = answered + 1
  if answered >= count then
    -- wrk itself sleeps out its whole -d: this file tells the driver to end it now (SIGINT,
    -- after which wrk reports and calls done() as at the end of -d)
    wrk.thread:stop()
    assert(io.open(os.getenv("ORMGC_WRK_OUT") .. ".done", "w")):close()
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("ORMGC_WRK_OUT"), "w"))
  local e = summary.errors
  out:write(string.format("# errors connect=%d read=%d write=%d status=%d timeout=%d\n",
    e.connect, e.read, e.write, e.status, e.timeout))
  for _, thread in ipairs(threads) do
    for _, line in ipairs(thread:get("lines")) do
      out:write(line, "\n")
    end
  end
  out:close()
end
