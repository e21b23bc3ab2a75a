#!/usr/bin/env bash
# Access-log cost, drift-resistant: two `serve --engine single` processes of examples/hello up at
# once, one with --access-log FILE, one without; wrk -t1 -c32 -d2s alternates between them
# N times; report each median and the median of the per-pair ratios (file/off).
set -u
cd "$(dirname "$0")/../.."
N=${N:-9}
rm -f /tmp/bench-access.log
node packages/cli/bin/serve.js examples/hello/app.js --engine single -b 127.0.0.1:18791 --log-level warn & OFF=$!
node packages/cli/bin/serve.js examples/hello/app.js --engine single -b 127.0.0.1:18792 --log-level warn --access-log /tmp/bench-access.log & ON=$!
for p in 18791 18792; do for i in $(seq 1 50); do curl -s -o /dev/null 127.0.0.1:$p/ && break; sleep 0.1; done; wrk -t1 -c32 -d1s http://127.0.0.1:$p/ >/dev/null; done
rps() { wrk -t1 -c32 -d2s http://127.0.0.1:$1/ | awk '/Requests\/sec/ {print $2}'; }
for i in $(seq 1 $N); do
  if (( i % 2 )); then a=$(rps 18791); b=$(rps 18792); else b=$(rps 18792); a=$(rps 18791); fi
  echo "pair $i off=$a file=$b"
done | tee /tmp/pairs.txt
kill -TERM $OFF $ON; wait
echo "access.log lines: $(wc -l < /tmp/bench-access.log)"
python3 - <<'PY'
import re, statistics
rows=[tuple(map(float, re.findall(r'=(\S+)', l))) for l in open('/tmp/pairs.txt')]
off=[r[0] for r in rows]; on=[r[1] for r in rows]
print(f"median off={statistics.median(off):.0f} req/s, median file={statistics.median(on):.0f} req/s, median pair ratio file/off={statistics.median([b/a for a,b in rows]):.3f}")
PY
