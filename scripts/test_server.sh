#!/usr/bin/env bash
# The server end to end, on loopback: builds mnist-serve in release, starts it with the test fixture's LeNet5,
# waits for /health, sends bad requests over a real socket (each must get its 4xx), draws a 7 on the page in
# headless Chromium (scripts/browser_test.py), load-tests POST /predict with wrk (scripts/wrk_predict.lua)
# and checks that no request failed and the server still answers, then runs scripts/stress_server.py --check
# (slow, silent and greedy clients, image bombs, SIGTERM with a stalled client).
#
# Needs Debian's chromium, chromium-driver and wrk, and Python's selenium; not part of `swift test`.
# Settings (environment): PORT (18080), WEIGHTS (the fixture), THREADS (2), CONNECTIONS (32), DURATION (10s),
# SCREENSHOT (a path to save the page's screenshot to, e.g. docs/serve.png; none by default).
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PORT:-18080}
weights=${WEIGHTS:-Tests/ServingTests/Fixtures/lenet5-3epochs.safetensors}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}
duration=${DURATION:-10s}
url="http://127.0.0.1:$port"

for tool in chromium chromedriver wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "test_server: $tool is missing (apt-get install -y chromium chromium-driver wrk curl)" >&2; exit 1; }
done
python3 -c "import selenium" 2>/dev/null || { echo "test_server: python's selenium is missing (pip install selenium)" >&2; exit 1; }

swift build -c release --product mnist-serve
server_binary="$(swift build -c release --show-bin-path)/mnist-serve"

work=$(mktemp -d)
"$server_binary" --weights "$weights" --host 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    curl -fsS "$url/health" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { echo "test_server: the server exited:" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
echo "health: $(curl -fsS "$url/health")"

# Bad requests over a real socket: status and JSON error each.
failures=0
expect_status() {
    local name=$1 expected=$2; shift 2
    local status
    status=$(curl -sS -o "$work/body" -w '%{http_code}' -X POST "$url/predict" "$@")
    if [ "$status" = "$expected" ] && grep -q '^{"error":' "$work/body"; then
        echo "ok   $name: $status $(cat "$work/body")"
    else
        echo "FAIL $name: expected $expected, got $status $(cat "$work/body")"
        failures=$((failures + 1))
    fi
}
expect_status "malformed JSON" 400 -H 'Content-Type: application/json' --data-binary '{"pixels": ['
expect_status "wrong length" 400 -H 'Content-Type: application/json' --data-binary '{"pixels": [0, 0, 0]}'
expect_status "wrong content type" 415 -H 'Content-Type: text/plain' --data-binary 'seven'
head -c 2000000 /dev/zero >"$work/large"
expect_status "body over 1 MB" 413 -H 'Content-Type: application/json' --data-binary "@$work/large"
expect_status "not a PNG" 422 -H 'Content-Type: image/png' --data-binary 'GIF89a'
expect_status "unknown method" 400 -X BREW
expect_status "OPTIONS on /predict" 405 -X OPTIONS
# Python's urllib sends a whole 20 MB body before reading: it must get the 413, not a reset or a hang.
status=$(python3 -c "
import urllib.request, urllib.error
request = urllib.request.Request('$url/predict', data=b' ' * (20 << 20), headers={'Content-Type': 'application/json'})
try:
    urllib.request.urlopen(request, timeout=30)
except urllib.error.HTTPError as error:
    print(error.code)
except OSError as error:
    print(error)
")
if [ "$status" = 413 ]; then echo "ok   20 MB body from urllib: 413"; else echo "FAIL 20 MB body from urllib: $status"; failures=$((failures + 1)); fi
head_headers=$(curl -sS -I "$url/health")
if grep -q "^HTTP/1.1 200" <<<"$head_headers" && grep -qi "^content-length: [1-9]" <<<"$head_headers"; then
    echo "ok   HEAD /health: 200 with GET's Content-Length"
else
    echo "FAIL HEAD /health: $head_headers"
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || { echo "test_server: $failures bad requests got the wrong answer" >&2; exit 1; }

python3 scripts/browser_test.py --url "$url/" ${SCREENSHOT:+--screenshot "$SCREENSHOT"}

scripts/mnist_digit.py --index 0 >"$work/seven.json"
echo "load before: $(uptime)"
PREDICT_BODY="$work/seven.json" wrk -t"$threads" -c"$connections" -d"$duration" --latency \
    -s scripts/wrk_predict.lua "$url/predict" | tee "$work/wrk.txt"
echo "load after: $(uptime)"

grep -q "^responses not 200: 0$" "$work/wrk.txt" || { echo "test_server: some responses were not 200" >&2; exit 1; }
grep -q "^responses naming another digit: 0$" "$work/wrk.txt" || { echo "test_server: some responses named another digit" >&2; exit 1; }
if grep -q -e "Socket errors" -e "Non-2xx" "$work/wrk.txt"; then
    echo "test_server: wrk saw socket errors or non-2xx responses" >&2
    exit 1
fi
curl -fsS "$url/health" >/dev/null || { echo "test_server: the server stopped answering after the load" >&2; exit 1; }

# Hostile clients, each against a fresh server: slow headers, idle connections, partial bodies, image bombs,
# a 20 MB body from urllib, SIGTERM with a stalled client (scripts/stress_server.py; a few minutes).
python3 scripts/stress_server.py --server "$server_binary" --weights "$weights" --port $((port + 1)) --check
echo "test_server: all passed"
