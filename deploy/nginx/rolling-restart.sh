#!/usr/bin/env bash
# Rolling restart of two Gatehouse instances behind nginx, under a bounded load loop, all on
# loopback; counts failed requests (the target is zero). Rerun it with:
#
#   apt-get install -y nginx        # Debian's package; any nginx >= 1.15.3 (keepalive_timeout in upstream)
#   npx --yes pnpm@10.34.8 build    # from the repository root
#   deploy/nginx/rolling-restart.sh
#
# It runs nginx with deploy/nginx/gatehouse.conf (upstreams 127.0.0.1:8001 and :8002, front
# 127.0.0.1:8080), two `serve` processes (prefork, 2 workers each) with examples/hello, and
# deploy/nginx/load.mjs (4 keep-alive clients). Then, one instance at a time: SIGTERM (graceful
# stop), wait for it to exit, start it again, wait until it answers, and go on to the next.
# Environment: ENGINE (default: the built prefork engine), APP, WORKERS, ROUNDS (restarts of
# each instance, default 1), MAX_SECONDS (load bound, default 120), SITE (the nginx file to
# include, default deploy/nginx/gatehouse.conf: to try a variant of it).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SERVE="$REPO/packages/cli/bin/serve.js"
ENGINE=${ENGINE:-$REPO/packages/engine-prefork/dist/src/index.js}
APP=${APP:-$REPO/examples/hello/app.js}
WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-1}
MAX_SECONDS=${MAX_SECONDS:-120}
SITE=${SITE:-$REPO/deploy/nginx/gatehouse.conf}
PORTS=(8001 8002)
FRONT=8080

command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install -y nginx)" >&2; exit 2; }
[ -f "$REPO/packages/cli/dist/src/main.js" ] && [ -f "$ENGINE" ] || { echo "build first: npx --yes pnpm@10.34.8 build" >&2; exit 2; }
for port in "${PORTS[@]}" "$FRONT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "127.0.0.1:$port is in use" >&2; exit 2; fi
done

WORK=$(mktemp -d)
declare -A PIDS=()
NGINX_PID=
LOAD_PID=
cleanup() {
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start_instance() { # PORT
  node "$SERVE" "$APP" --engine "$ENGINE" --workers "$WORKERS" --bind "127.0.0.1:$1" \
    --graceful-timeout 10 --log-level warn 2>>"$WORK/instance-$1.log" &
  PIDS[$1]=$!
}

wait_ready() { # PORT: up to 20 s
  for _ in $(seq 200); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "127.0.0.1:$1 did not answer within 20 s" >&2
  cat "$WORK"/*.log >&2 || true
  exit 1
}

cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/client_body;
    proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi;
    scgi_temp_path $WORK/scgi;
    include $SITE;
}
CONF

for port in "${PORTS[@]}"; do start_instance "$port"; done
for port in "${PORTS[@]}"; do wait_ready "$port"; done
nginx -p "$WORK" -c "$WORK/nginx.conf" &
NGINX_PID=$!
wait_ready "$FRONT"

node "$REPO/deploy/nginx/load.mjs" "http://127.0.0.1:$FRONT/" "$WORK/stop" 4 1000000 "$MAX_SECONDS" >"$WORK/load.json" &
LOAD_PID=$!
sleep 2

restarts=0
for round in $(seq "$ROUNDS"); do
  for port in "${PORTS[@]}"; do
    echo "round $round: SIGTERM to the instance on :$port (pid ${PIDS[$port]})"
    kill -TERM "${PIDS[$port]}"
    wait "${PIDS[$port]}" || { echo "the instance on :$port exited with status $?" >&2; exit 1; }
    start_instance "$port"
    wait_ready "$port"
    restarts=$((restarts + 1))
    sleep 2 # let traffic return to it before the next one goes
  done
done

touch "$WORK/stop"
wait "$LOAD_PID"
LOAD_PID=
result=$(cat "$WORK/load.json")
retried=$(grep -c 'upstream' "$WORK/nginx-error.log" 2>/dev/null || true)
failed=$(node -e 'console.log(JSON.parse(process.argv[1]).failed)' "$result")
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //'), node: $(node -v), engine: $(basename "$(dirname "$(dirname "$(dirname "$ENGINE")")")"), workers per instance: $WORKERS"
echo "restarts: $restarts (rolling, one instance at a time)"
echo "load: $result"
echo "nginx error-log lines about upstreams (connections it retried elsewhere): $retried"
[ "$failed" = 0 ] || { echo "FAILED: $failed requests failed" >&2; exit 1; }
echo "OK: no request failed"
