#!/usr/bin/env bash
# A rolling deploy of three Gatehouse instances behind haproxy, under a bounded load loop, all
# on loopback; counts failed requests (the target is zero). Not run in CI. Rerun it with:
#
#   apt-get install -y haproxy      # this script installs nothing itself
#   npx --yes pnpm@10.34.8 build    # from the repository root
#   deploy/haproxy/rolling-deploy.sh
#
# It starts three `serve` processes (127.0.0.1:8101-8103, prefork with 2 workers each,
# --health-path /healthz --stop-delay 2) serving a small app that says its version, haproxy
# with deploy/haproxy/haproxy.cfg on 127.0.0.1:8180 (health checks on /healthz), and
# deploy/nginx/load.mjs (keep-alive clients through haproxy). Then it deploys version 2, one
# instance at a time:
#   MODE=restart (default): SIGTERM, wait for the exit, start it again on the new code;
#   MODE=hup: SIGHUP (the instance reloads its workers onto the new code in place);
# and waits until the instance answers 200 on /healthz with the new version and haproxy has it
# back up before going on to the next. At the end every instance must serve version 2.
# Environment: MODE, CLIENTS (default 8), MAX_SECONDS (load bound, default 120), WORKERS,
# STOP_DELAY (--stop-delay of each instance, default 2; 0 shows what the delay is for),
# RETRIES (haproxy's retries, default 0; above 0 with retry-on conn-failure empty-response).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SERVE="$REPO/packages/cli/bin/serve.js"
MODE=${MODE:-restart}
STOP_DELAY=${STOP_DELAY:-2}
RETRIES=${RETRIES:-0}
CLIENTS=${CLIENTS:-8}
MAX_SECONDS=${MAX_SECONDS:-120}
WORKERS=${WORKERS:-2}
PORTS=(8101 8102 8103)
FRONT=8180

command -v haproxy >/dev/null || { echo "haproxy is not installed (apt-get install -y haproxy)" >&2; exit 2; }
[ -f "$REPO/packages/cli/dist/src/main.js" ] || { echo "build first: npx --yes pnpm@10.34.8 build" >&2; exit 2; }
case "$MODE" in restart|hup) ;; *) echo "MODE is restart or hup, not $MODE" >&2; exit 2 ;; esac
for port in "${PORTS[@]}" "$FRONT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "127.0.0.1:$port is in use" >&2; exit 2; fi
done

WORK=$(mktemp -d)
declare -A PIDS=()
HAPROXY_PID=
LOAD_PID=
cleanup() {
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true
  [ -n "$HAPROXY_PID" ] && kill "$HAPROXY_PID" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

write_app() { # VERSION
  cat >"$WORK/app.mjs.tmp" <<APP
export default () => ({ status: 200, headers: [['content-type', 'text/plain']], body: 'version $1\n' });
APP
  mv "$WORK/app.mjs.tmp" "$WORK/app.mjs"
}

start_instance() { # PORT
  node "$SERVE" "$WORK/app.mjs" --engine prefork --workers "$WORKERS" --bind "127.0.0.1:$1" \
    --health-path /healthz --stop-delay "$STOP_DELAY" --graceful-timeout 10 --log-level warn 2>>"$WORK/instance-$1.log" &
  PIDS[$1]=$!
}

wait_for() { # DESCRIPTION COMMAND...: up to 30 s
  local what=$1; shift
  for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
  echo "timed out after 30 s waiting for $what" >&2
  cat "$WORK"/*.log >&2 || true
  exit 1
}
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz")" = 200 ]; }
serves() { [ "$(curl -s "http://127.0.0.1:$1/")" = "version $2" ]; }
# haproxy's view of server gN, from its stats socket: UP or DOWN (plus transitions).
backend_up() {
  node -e 'const s = require("net").connect(process.argv[1]); let out = ""; s.on("data", (d) => out += d);
    s.on("end", () => process.exit(out.split("\n").some((l) => { const f = l.split(","); return f[0] === "gatehouse" && f[1] === process.argv[2] && f[17] === "UP"; }) ? 0 : 1));
    s.on("error", () => process.exit(1)); s.end("show stat\n");' "$WORK/haproxy.sock" "$1"
}

write_app 1
for port in "${PORTS[@]}"; do start_instance "$port"; done
for port in "${PORTS[@]}"; do wait_for "127.0.0.1:$port/healthz" healthy "$port"; done
retry_on=
[ "$RETRIES" -gt 0 ] && retry_on="\n    retry-on conn-failure empty-response"
sed -e "s|^global|global\n    stats socket $WORK/haproxy.sock mode 600 level admin|" \
    -e "s|^    retries 0|    retries $RETRIES$retry_on|" "$REPO/deploy/haproxy/haproxy.cfg" >"$WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy.cfg" 2>"$WORK/haproxy.log" &
HAPROXY_PID=$!
for i in 1 2 3; do wait_for "haproxy to see g$i up" backend_up "g$i"; done

started=$(date +%s.%N)
node "$REPO/deploy/nginx/load.mjs" "http://127.0.0.1:$FRONT/" "$WORK/stop" "$CLIENTS" 2000000 "$MAX_SECONDS" >"$WORK/load.json" &
LOAD_PID=$!
sleep 2

write_app 2
for i in 0 1 2; do
  port=${PORTS[$i]}
  if [ "$MODE" = restart ]; then
    echo "deploy: SIGTERM to the instance on :$port (pid ${PIDS[$port]}), start it on version 2"
    kill -TERM "${PIDS[$port]}"
    wait "${PIDS[$port]}" || { echo "the instance on :$port exited with status $?" >&2; exit 1; }
    start_instance "$port"
  else
    echo "deploy: SIGHUP to the instance on :$port (pid ${PIDS[$port]})"
    kill -HUP "${PIDS[$port]}"
  fi
  wait_for ":$port serving version 2" serves "$port" 2
  wait_for ":$port healthy" healthy "$port"
  wait_for "haproxy to see g$((i + 1)) up" backend_up "g$((i + 1))"
  sleep 1 # traffic returns to it before the next one goes
done

touch "$WORK/stop"
wait "$LOAD_PID"
LOAD_PID=
ended=$(date +%s.%N)
result=$(cat "$WORK/load.json")
failed=$(node -e 'console.log(JSON.parse(process.argv[1]).failed)' "$result")
for port in "${PORTS[@]}"; do serves "$port" 2 || { echo "FAILED: :$port does not serve version 2" >&2; exit 1; }; done
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "haproxy: $(haproxy -v | head -1 | awk '{print $3}'), node: $(node -v), engine: prefork, workers per instance: $WORKERS, mode: $MODE, --stop-delay $STOP_DELAY, haproxy retries $RETRIES"
echo "deployed: 3 instances, one at a time, under load for $(node -e "console.log((process.argv[2] - process.argv[1]).toFixed(1))" "$started" "$ended") s"
echo "load ($CLIENTS keep-alive clients through haproxy): $result"
echo "haproxy server state changes: $(grep -c 'is DOWN\|is UP' "$WORK/haproxy.log" || true)"
[ "$failed" = 0 ] || { echo "FAILED: $failed requests failed" >&2; exit 1; }
echo "OK: no request failed"
