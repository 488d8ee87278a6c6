#!/usr/bin/env bash
# Saves a screenshot of the Flink Web UI with the pipeline jobs running, taken with headless Chromium, to
# docs/img/webui.png (and a running job's graph to docs/img/webui-job.png). Not part of CI.
#
#   docs/screenshot-webui.sh                 # a cluster already runs (bin/horizons cluster start; submit all)
#   FLINK_REST_URL=http://host:8081 docs/screenshot-webui.sh
#
# Needs chromium (Debian: apt-get install -y chromium). Waits until /overview reports running jobs, so that the
# picture shows them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
URL="${FLINK_REST_URL:-http://localhost:8081}"
OUT="$ROOT/docs/img"
CHROMIUM="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$CHROMIUM" ]]; then
  echo "No Chromium found: apt-get install -y chromium" >&2
  exit 1
fi

running=0
for _ in $(seq 1 60); do
  running="$(curl -fsS "$URL/overview" 2>/dev/null | sed -n 's/.*"jobs-running":\([0-9]*\).*/\1/p' || true)"
  [[ -n "$running" && "$running" -gt 0 ]] && break
  sleep 1
done
if [[ -z "$running" || "$running" -eq 0 ]]; then
  echo "No running jobs at $URL (bin/horizons cluster start && bin/horizons submit all)" >&2
  exit 1
fi

mkdir -p "$OUT"
shot() { # <file> <url>
  # A throwaway profile and no background traffic. --virtual-time-budget lets the Web UI (an Angular app) fetch its
  # data before the picture is taken; `timeout` guards against a browser that never settles.
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking \
    --disable-extensions --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$(mktemp -d)" \
    --window-size=1600,1000 --virtual-time-budget=8000 --run-all-compositor-stages-before-draw \
    --screenshot="$1" "$2" >/dev/null 2>&1
  [[ -s "$1" ]] && echo "saved $1"
}
shot "$OUT/webui.png" "$URL/#/overview"
# The job graph of the first running job (the lifecycle job, when it runs).
jobs="$(curl -fsS "$URL/jobs/overview")"
job="$(echo "$jobs" | grep -o '"jid":"[0-9a-f]*","name":"horizons-lifecycle"' | head -1 | sed 's/"jid":"\([0-9a-f]*\)".*/\1/')"
[[ -z "$job" ]] && job="$(echo "$jobs" | grep -o '"jid":"[0-9a-f]*"' | head -1 | sed 's/"jid":"\([0-9a-f]*\)"/\1/')"
shot "$OUT/webui-job.png" "$URL/#/job/running/$job/overview"
