# shellcheck shell=bash
# Small helpers every lab, drill, bench and soak script shares (sourced, never run).
#   say MSG...               timestamped line on stdout
#   objective NAME RC DETAIL [PASS]/[FAIL] line; counts failures in $failures
#   now_ms                   wall clock in milliseconds
#   free_ports N tcp|udp     N ports free on 127.0.0.1 a moment ago (one allocation: no repeats)
#   json_field URL FIELD     one top-level field of a JSON document ('' when unreachable)
#   json_path JSON a.b.c     an integer inside a JSON text (0 when absent)
#   wait_until SECONDS CMD.. polls CMD every 50 ms until it succeeds or time runs out
#   stop_pid PID [S]         SIGTERM, wait up to S (10) seconds, then SIGKILL: our own children only

[ -n "${CMS_LIB_COMMON:-}" ] && return 0
CMS_LIB_COMMON=1
cms_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
failures=${failures:-0}

say() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
objective() { # objective NAME OK(0/1) DETAIL
  if [ "$2" = 0 ]; then printf '  [PASS] %-52s %s\n' "$1" "$3"; else
    printf '  [FAIL] %-52s %s\n' "$1" "$3"; failures=$((failures + 1)); fi
}
now_ms() { date +%s%3N; }

free_ports() { # free_ports N KIND(tcp|udp): N ports that were free a moment ago on 127.0.0.1
  python3 - "$1" "$2" <<'PY'
import socket, sys
n, kind = int(sys.argv[1]), sys.argv[2]
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

json_field() {
  curl -s --max-time 1 "$1" 2>/dev/null | python3 -c "import sys,json
try: print(json.load(sys.stdin).get('$2',''))
except Exception: print('')"
}

json_path() {
  python3 -c "import sys,json
try:
  v = json.loads(sys.argv[1])
  for k in sys.argv[2].split('.'): v = v.get(k, 0) if isinstance(v, dict) else 0
  print(int(v) if isinstance(v, (int, float)) else 0)
except Exception: print(0)" "$1" "$2"
}

wait_until() { # wait_until SECONDS COMMAND...
  local end=$(( $(date +%s%3N) + $1 * 1000 )); shift
  until "$@"; do [ "$(date +%s%3N)" -le "$end" ] || return 1; sleep 0.05; done
}

stop_pid() { # stop_pid PID [SECONDS]
  local p=$1 tenths=$(( ${2:-10} * 10 )) _
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 1 "$tenths"); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null || true
}
