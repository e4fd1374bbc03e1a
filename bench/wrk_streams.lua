-- wrk script for bench/harness.py's run_streams: one connection per wrk thread (wrk -tN -cN), each cycling through
-- its own stream of prebuilt requests. BENCH_WRK_CONFIG names a Lua file, written by the harness, that sets
--
--   bench = {stop_at = <epoch ms>, period_ms = <ms>, count_responses = <bool>,
--            streams = {{{kind=, method=, path=, headers={}, body=}, ...}, ...}}   -- one stream per thread
--
-- * Pacing (period_ms > 0): each connection sends one request every period_ms (connections / target rate), through
--   wrk's delay() hook: the delay before a request is the time left until the connection's next slot, or none if
--   the slot has passed (a slow answer is caught up by sending the next requests back to back, so the mean rate holds
--   while the server keeps up). A connection more than a second behind its schedule (the server cannot keep up)
--   starts its schedule again from now instead. The first slot of each connection is a random part of the period,
--   so connections do not fire together. period_ms = 0: closed loop, every request as soon as the last is answered.
-- * Exact accounting: from stop_at on, no new request is sent (delay() parks the connection for an hour); the
--   harness runs wrk a little longer than that, so every request sent gets its answer counted before wrk stops.
-- * With count_responses, answers are counted per "kind status", and their latencies (from the request's sending to
--   its answer, in ms) kept per kind; since a thread has one connection, the answer that arrives is always the one
--   to the thread's last request.
-- done() prints "BENCH-START thread <epoch ms>" (when the thread started), "BENCH-COUNT thread kind status n" and
-- "BENCH-LATENCY thread kind ms,ms,...".

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")

local function clock_ms(clock_id)  -- 0: CLOCK_REALTIME (comparable with Python's time.time()), 1: CLOCK_MONOTONIC
   ffi.C.clock_gettime(clock_id, timespec)
   return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

dofile(os.getenv("BENCH_WRK_CONFIG"))

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function init(args)
   local stream = bench.streams[(tid - 1) % #bench.streams + 1]
   requests, kinds = {}, {}
   for i, r in ipairs(stream) do
      requests[i] = wrk.format(r.method, r.path, r.headers, r.body)
      kinds[i] = r.kind
   end
   math.randomseed(tid * 7919 + os.time())
   sent, sent_at, last, counts, latencies = 0, 0, nil, {}, {}  -- counts: "kind status" -> n
   started = clock_ms(0)
   next_slot = clock_ms(1) + math.random() * bench.period_ms
end

function request()
   sent_at = clock_ms(1)
   sent = sent + 1
   local i = (sent - 1) % #requests + 1
   last = kinds[i]
   return requests[i]
end

function delay()
   if clock_ms(0) >= bench.stop_at then
      return 3600000
   end
   local period = bench.period_ms
   if period <= 0 then
      return 0
   end
   local now = clock_ms(1)
   if next_slot < now - 1000 then
      next_slot = now
   end
   local wait = next_slot - now
   next_slot = next_slot + period
   if wait <= 0 then
      return 0
   end
   return math.floor(wait + math.random())  -- wrk takes whole ms: dither so that the mean is right
end

if bench.count_responses then
   function response(status, headers, body)
      local key = last .. " " .. status
      counts[key] = (counts[key] or 0) + 1
      -- flat: wrk's thread:get() crashes copying nested tables
      latencies[#latencies + 1] = string.format("%s %.2f", last, clock_ms(1) - sent_at)
   end
end

function done(summary, latency, requests)
   for _, thread in ipairs(threads) do
      local id = thread:get("tid")
      io.write(string.format("BENCH-START %d %.3f\n", id, thread:get("started")))
      for key, n in pairs(thread:get("counts") or {}) do
         io.write(string.format("BENCH-COUNT %d %s %d\n", id, key, n))
      end
      local by_kind = {}
      for _, entry in ipairs(thread:get("latencies") or {}) do
         local kind, ms = entry:match("^(%S+) (%S+)$")
         by_kind[kind] = by_kind[kind] or {}
         table.insert(by_kind[kind], ms)
      end
      for kind, values in pairs(by_kind) do
         io.write(string.format("BENCH-LATENCY %d %s %s\n", id, kind, table.concat(values, ",")))
      end
   end
end
