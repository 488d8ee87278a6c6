#!/usr/bin/env bash
# Saves a screenshot of the live operations dashboard to docs/img/dashboard.png (embedded in the README).
#
#   docs/screenshot-dashboard.sh            # runs the demo, waits until the page has data, photographs it, stops
#   docs/screenshot-dashboard.sh URL        # photographs a dashboard that is already running
#
# Needs headless Chromium (Debian: apt-get install -y chromium), curl and python3. Environment: CHROMIUM (browser binary),
# SETTLE_JOBS (finished jobs to wait for before the picture, default 400), OUT (output file).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/docs/img/dashboard.png}"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
[[ -x "$CHROMIUM" ]] || { echo "No Chromium found: apt-get install -y chromium, or set CHROMIUM" >&2; exit 1; }
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
# --virtual-time-budget lets the page receive its first event (the snapshot) and draw before the picture is taken.
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$workdir/profile" \
  --window-size=1400,1500 --virtual-time-budget=4000 --screenshot="$OUT" "$url" 2>"$workdir/chromium.log" \
  || { cat "$workdir/chromium.log" >&2; exit 1; }
echo "Saved $OUT"
