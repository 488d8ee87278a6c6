#!/usr/bin/env bash
# Saves a screenshot of the live operations dashboard to docs/img/dashboard.png (embedded in the README).
#
#   docs/screenshot-dashboard.sh            # runs the demo, waits until the page has data, photographs it, stops
#   docs/screenshot-dashboard.sh URL        # photographs a dashboard that is already running
#
# Needs Chromium and chromedriver (Debian: apt-get install -y chromium chromium-driver), curl and python3. Environment:
# CHROMIUM, CHROMEDRIVER (binaries), SETTLE_JOBS (finished jobs to wait for before the picture, default 400), OUT.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/docs/img/dashboard.png}"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || true)}"
[[ -x "$CHROMIUM" && -x "$CHROMEDRIVER" ]] \
  || { echo "Needs chromium and chromedriver: apt-get install -y chromium chromium-driver (or set CHROMIUM, CHROMEDRIVER)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

url="${1:-}"
workdir="$(mktemp -d)"
demo=""
cleanup() {
  if [[ -n "$demo" ]] && kill -0 "$demo" 2>/dev/null; then
    kill -TERM "$demo" 2>/dev/null || true    # the demo shuts down cleanly (a background job ignores SIGINT)
    wait "$demo" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# Polls a command until it succeeds, or gives up after $1 seconds.
wait_for() {
  local timeout="$1"; shift
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    (( SECONDS < deadline )) || return 1
    sleep 1
  done
}

if [[ -z "$url" ]]; then
  echo "Starting the demo (bin/horizons demo) ..."
  "$ROOT/bin/horizons" demo --duration 15m --rate 1500 > "$workdir/demo.log" 2>&1 &
  demo=$!
  dashboard_url() { grep -m1 -o 'Dashboard: http[^ ]*' "$workdir/demo.log" | cut -d' ' -f2; }
  wait_for 300 bash -c "grep -q 'Dashboard: http' '$workdir/demo.log'" \
    || { echo "The demo did not print the dashboard URL:" >&2; cat "$workdir/demo.log" >&2; exit 1; }
  url="$(dashboard_url)"
  echo "Dashboard at $url; waiting for ${SETTLE_JOBS:-400} finished jobs ..."
  finished() {
    curl -fsS "${url%/}/api/snapshot" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
done = sum(c["completed"] + c["failed"] + c["cancelled"] for c in s["counts"]["systems"])
sys.exit(0 if done >= int(sys.argv[1]) and s["series"]["times"] and s["notifications"] else 1)' "${SETTLE_JOBS:-400}"
  }
  wait_for 300 finished || { echo "The dashboard got no data in time:" >&2; tail -30 "$workdir/demo.log" >&2; exit 1; }
fi

mkdir -p "$(dirname "$OUT")"
# The page never finishes loading (its event stream stays open), so a plain `chromium --screenshot` would photograph it
# before the first event arrives. chromedriver's W3C API lets the script wait until the page has drawn its data.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$CHROMEDRIVER" --port="$port" > "$workdir/chromedriver.log" 2>&1 &
driver=$!
trap 'kill "$driver" 2>/dev/null || true; cleanup' EXIT
wait_for 30 curl -fs "http://127.0.0.1:$port/status" -o /dev/null
webdriver() {
  local request=(-fsS -X "$1" -H 'Content-Type: application/json' "http://127.0.0.1:$port$2")
  if [[ $# -ge 3 ]]; then request+=(-d "$3"); fi
  curl "${request[@]}"
}
session="$(webdriver POST /session "$(python3 -c '
import json, sys
print(json.dumps({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
    "binary": sys.argv[1],
    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
             "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + sys.argv[2], "--window-size=1400,1400"]}}}}))' "$CHROMIUM" "$workdir/profile")" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["value"]["sessionId"])')"
webdriver POST "/session/$session/url" "{\"url\": \"$url\"}" > /dev/null
drawn() {
  webdriver POST "/session/$session/execute/sync" '{"args": [], "script": "return !!document.body.getAttribute(\"data-snapshots\") && document.querySelectorAll(\"#chart-depth canvas, #chart-wait canvas\").length === 2 && document.querySelectorAll(\"#notifications li\").length > 0;"}' \
    | grep -q '"value":true'
}
wait_for 30 drawn || { echo "The page did not draw its data within 30 s" >&2; exit 1; }
# The whole page, not only the first screen: make the window as tall as the page (plus the window's frame).
height="$(webdriver POST "/session/$session/execute/sync" '{"args": [], "script": "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["value"])')"
webdriver POST "/session/$session/window/rect" "{\"width\": 1400, \"height\": $height}" > /dev/null
sleep 2   # the charts follow the new size, and one more round of live updates arrives
webdriver GET "/session/$session/screenshot" | python3 -c '
import base64, json, sys
open(sys.argv[1], "wb").write(base64.b64decode(json.load(sys.stdin)["value"]))' "$OUT"
webdriver DELETE "/session/$session" > /dev/null || true
echo "Saved $OUT"
