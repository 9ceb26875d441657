-- wrk script: rotates the Authorization header over the tokens in the file given as the
-- first script argument (wrk ... -s wrk-tokens.lua URL -- tokens.txt), and prints one
-- machine-readable RESULT line at the end.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local tokens = {}
local idx = 0
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
  -- each thread starts at a different place in the pool
  idx = ((tid or 0) * 499) % #tokens
end

function request()
  idx = idx % #tokens + 1
  return wrk.format("GET", "/", { ["Authorization"] = tokens[idx] })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d sockerr=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50.0), latency:percentile(99.0), e.status,
    e.connect + e.read + e.write + e.timeout))
end
