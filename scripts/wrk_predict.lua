-- wrk script: POST /predict with the JSON pixels of a real MNIST test digit, checking every answer.
-- The body is read from the file named by PREDICT_BODY (default /tmp/mnist-predict-body.json), written by
-- `scripts/mnist_digit.py > FILE`; PREDICT_DIGIT (default 7) is the digit every answer must name.
-- Usage: PREDICT_BODY=FILE wrk -t2 -c32 -d10s --latency -s scripts/wrk_predict.lua http://127.0.0.1:8080/predict
-- At the end it prints the answers that were not 200 or named another digit; both must be 0.

local path = os.getenv("PREDICT_BODY") or "/tmp/mnist-predict-body.json"
local file = assert(io.open(path, "rb"), "cannot open " .. path .. " (write it with scripts/mnist_digit.py)")
local body = file:read("*a")
file:close()
local expected = '"digit":' .. (os.getenv("PREDICT_DIGIT") or "7") .. ","

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(arguments)
  not_ok = 0
  wrong_digit = 0
end

function response(status, headers, response_body)
  if status ~= 200 then
    not_ok = not_ok + 1
  elseif not string.find(response_body, expected, 1, true) then
    wrong_digit = wrong_digit + 1
  end
end

function done(summary, latency, requests)
  local total_not_ok, total_wrong = 0, 0
  for _, thread in ipairs(threads) do
    total_not_ok = total_not_ok + thread:get("not_ok")
    total_wrong = total_wrong + thread:get("wrong_digit")
  end
  io.write(string.format("responses not 200: %d\n", total_not_ok))
  io.write(string.format("responses naming another digit: %d\n", total_wrong))
  io.write(string.format("requests: %d, socket errors: connect %d, read %d, write %d, timeout %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
