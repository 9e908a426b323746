#!/usr/bin/env bash
# CMTS failure drill: one standalone cmsd, two CMTS simulators (cmtssim) each serving one group of
# MTAs (mtasim bound to 127.0.0.11 and 127.0.0.12), calls placed in both groups, then CMTS B is
# cut (--cut drop: its COPS connection closed, the controller reconnects; --cut freeze: it stops
# answering for --cut-seconds, then drops the connection so the controller reconnects). Checks:
#   - calls of group A are unaffected (no failures);
#   - after B comes back, the controller audited its gates (cms_dqos_audits_total rises) and, once
#     every call has ended, neither simulator holds a gate (no leak);
# With --pcap FILE, COPS (both CMTSs) and MGCP are captured on lo (tshark: decode with
# -d tcp.port==A,cops -d tcp.port==B,cops; the ports are printed).
#
#   scripts/drill-cmts.sh [--cut drop|freeze] [--cut-seconds S] [--rate R] [--duration S] [--pcap FILE]
# Environment: BUILD_DIR (build-bench), BENCH_NO_BUILD=1.
set -uo pipefail
source "$(dirname "$0")/bench-lib.sh"

cut=drop; cut_s=5; rate=4; dur=30; mtas=5; lines=4; pcap=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cut) cut=$2; shift ;;
    --cut-seconds) cut_s=$2; shift ;;
    --rate) rate=$2; shift ;;
    --duration) dur=$2; shift ;;
    --pcap) pcap=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
case "$cut" in drop|freeze) ;; *) die "--cut drop|freeze" ;; esac

scratch=$(mktemp -d /tmp/drill-cmts.XXXXXX)
failures=0
bench_pids=()
trap 'bench_cleanup; bsay "logs in $scratch"' EXIT
if [ -z "${BENCH_NO_BUILD:-}" ] || [ ! -x "$BUILD_DIR/cmtssim" ]; then
  CMS_SKIP_DEPS=1 CMS_JOBS=${CMS_JOBS:-2} cms_build cmsd mtasim cmtssim || die "build failed"
fi

control() { # control PORT JSON: one request to a cmtssim control port; prints the answer
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
print(s.recv(65536).decode())
PY
}

declare -A cops ctl
for g in a b; do
  cops[$g]=$(free_port); ctl[$g]=$(free_port udp)
  "$BUILD_DIR/cmtssim" --port "${cops[$g]}" --control-port "${ctl[$g]}" --pep-id "cmts-$g" \
    --gate-id-seed "$([ $g = a ] && echo 4096 || echo 8192)" --report "$scratch/cmtssim-$g.json" \
    > "$scratch/cmtssim-$g.out" 2>&1 &
  bench_pids+=($!)
  wait_until 20 grep -q "cmtssim ready" "$scratch/cmtssim-$g.out" || die "cmtssim $g did not start"
done
bsay "CMTS A: COPS port ${cops[a]}, CMTS B: COPS port ${cops[b]}"

mkdir -p "$scratch/data"
NODE_MGCP=$(free_port udp); NODE_HTTP=$(free_port)
python3 - "$scratch/provisioning.toml" "$mtas" "$lines" "${cops[a]}" "${cops[b]}" <<'PY'
import sys
out, mtas, lines, pa, pb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
with open(out, "w") as f:
    for g, addr, port, dn in (("a", "127.0.0.11", pa, 5551001), ("b", "127.0.0.12", pb, 5552001)):
        f.write(f'[[cmts]]\nname = "cmts-{g}"\naddress = "127.0.0.1"\nport = {port}\n'
                f'subnets = ["{addr}"]\n\n')
        k = 0
        for m in range(1, mtas + 1):
            fqdn = f"mta-{g}{m:03d}.cable.example"
            for l in range(1, lines + 1):
                f.write(f'[[subscriber]]\ndirectory_number = "{dn + k}"\nendpoint_name = '
                        f'"aaln/{l}@{fqdn}"\nmta_fqdn = "{fqdn}"\nmta_address = "{addr}"\n'
                        f'mta_port = {21000 + (0 if g == "a" else 100) + m - 1}\n\n')
                k += 1
PY
"$BUILD_DIR/cmsd" --provision "$scratch/provisioning.toml" "$scratch/data/cms.db" \
  > "$scratch/provision.out" 2>&1 || die "provisioning failed; see $scratch/provision.out"
BENCH_EXTRA_CONFIG="[dqos]
reconnect_max_ms = 2000
keepalive_s = 2" node_config "$scratch/node.toml" drill-cmts "$scratch/data" "$NODE_MGCP" "$NODE_HTTP"

if [ -n "$pcap" ]; then
  tshark -i lo -w "$pcap" -f "tcp port ${cops[a]} or tcp port ${cops[b]} or udp port $NODE_MGCP" \
    > "$scratch/tshark.out" 2>&1 &
  bench_pids+=($!)
  sleep 1
fi
start_node "$scratch/node.toml" "$scratch/cmsd.out"
wait_line_actors "$NODE_HTTP" $(( 2 * mtas * lines ))
audits() { metric_sum "$NODE_HTTP" 'cms_dqos_audits_total{cmts="cmts-b"}'; }

for g in a b; do
  addr=127.0.0.11; base=21000; dn=5551001
  [ $g = b ] && { addr=127.0.0.12; base=21100; dn=5552001; }
  # shellcheck disable=SC2086
  "$BUILD_DIR/mtasim" --ca 127.0.0.1:"$NODE_MGCP" --bind "$addr" --mtas "$mtas" --lines "$lines" \
    --base-port "$base" --dn-base "$dn" --no-media --scenario calls --rate "$rate" --hold 2 \
    --duration "$dur" --digit-interval 0 --answer-delay 200 --hangup-delay 100 \
    --setup-timeout 5 --register-timeout 60 --report-file "$scratch/mtasim-$g.json" --json \
    > "$scratch/mtasim-$g.out" 2>&1 &
  bench_pids+=($!); eval "sim_$g=\$!"
done

sleep $(( dur / 3 ))
a0=$(audits); a0=${a0:-0}
bsay "cutting CMTS B ($cut)"
if [ "$cut" = freeze ]; then
  control "${ctl[b]}" '{"cmd":"freeze","on":true}' > /dev/null
  sleep "$cut_s"
  control "${ctl[b]}" '{"cmd":"freeze","on":false}' > /dev/null
fi
control "${ctl[b]}" '{"cmd":"drop"}' > /dev/null
wait_until 30 sh -c "[ \"\$(curl -s http://127.0.0.1:$NODE_HTTP/metrics | sed -n 's/^cms_dqos_audits_total{cmts=\"cmts-b\"} //p')\" -gt $a0 ]"
audit_ok=$?
objective "CMTS B audited after the cut" "$audit_ok" "audits before $a0, now $(audits)"
wait "$sim_a"; wait "$sim_b"
sleep 3
fa=$(report_field "$scratch/mtasim-a.json" "d['calls']['failed']")
fb=$(report_field "$scratch/mtasim-b.json" "d['calls']['failed']")
objective "group A unaffected" $(( ${fa:-1} != 0 )) "failed calls A=$fa B=$fb"
for g in a b; do
  left=$(control "${ctl[$g]}" '{"cmd":"gates"}' | python3 -c "import json,sys; print(len(json.load(sys.stdin)['gates']))")
  objective "no gate left on CMTS $(echo $g | tr a-z A-Z)" $(( ${left:-1} != 0 )) "$left gates"
done
[ -n "$pcap" ] && bsay "capture: $pcap (tshark -r $pcap -d tcp.port==${cops[a]},cops -d tcp.port==${cops[b]},cops)"
exit $(( failures > 0 ))
