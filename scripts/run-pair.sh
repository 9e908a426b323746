#!/usr/bin/env bash
# Sets up and runs the active/standby pair on this machine: installs packages, builds, creates
# development TLS certificates (never committed), provisions both nodes' databases from
# config/provisioning.toml and starts node A (127.0.0.1) and node B (127.0.0.2). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/install-deps.sh
build=${BUILD_DIR:-build-release}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMS_BUILD_TESTS=OFF \
  -DCMS_BUILD_BENCH=OFF
cmake --build "$build" -j "$(nproc)"
cmsd=$(cd "$build" && pwd)/cmsd

mkdir -p run/certs run/node-a run/node-b
scripts/gen-certs.sh run/certs node-a node-b rks client >/dev/null

for n in a b; do
  "$cmsd" --check-config "config/node-$n.toml"
  "$cmsd" --provision config/provisioning.toml "run/node-$n/cms.db"
done

pids=()
stop() {
  trap - INT TERM
  echo
  echo "run-pair: stopping both nodes"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  exit 0
}
trap stop INT TERM

"$cmsd" --config config/node-a.toml > run/node-a/cmsd.out 2>&1 &
pids+=($!)
"$cmsd" --config config/node-b.toml > run/node-b/cmsd.out 2>&1 &
pids+=($!)

http_a=$(sed -n '/^\[http\]/,/^\[/p' config/node-a.toml | awk -F'= *' '/^port/{print $2}')
http_b=$(sed -n '/^\[http\]/,/^\[/p' config/node-b.toml | awk -F'= *' '/^port/{print $2}')
cat <<INFO
run-pair: node A pid ${pids[0]}, node B pid ${pids[1]}
  dashboard   http://127.0.0.1:${http_a}/      http://127.0.0.1:${http_b}/
  status      curl -s http://127.0.0.1:${http_a}/status
  metrics     curl -s http://127.0.0.1:${http_a}/metrics
  logs        run/node-a/cmsd.out  run/node-b/cmsd.out
  databases   run/node-a/cms.db    run/node-b/cms.db
Ctrl-C stops both nodes.
INFO

while true; do
  for p in "${pids[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then
      echo "run-pair: node pid $p exited; see run/node-*/cmsd.out"
      stop
    fi
  done
  sleep 1
done
