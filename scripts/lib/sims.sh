# shellcheck shell=bash
# The simulators around a node (sourced): mtasim (MTAs and trunking gateways) and the partner's
# far ends of the data links.
#   sim_ask HOST:PORT LINE         one request on an mtasim control port, its one-line answer
#   sim_wait_ready OUT [SECONDS]   waits for a started mtasim's "ready" line in OUT; prints its control port
#   sim_gateway_args NAME          the mtasim options playing provisioned gateway NAME (address,
#                                  port, spans and channels from the provisioning file $SIM_PROVISIONING)
#   sim_provisioned KIND           lines of the provisioning file: "mtas" -> count, first address,
#                                  port, lines per MTA; "gateways" -> one NAME per line

[ -n "${CMS_LIB_SIMS:-}" ] && return 0
CMS_LIB_SIMS=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
SIM_PROVISIONING=${SIM_PROVISIONING:-$cms_root/config/provisioning.toml}

sim_ask() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
host, _, port = sys.argv[1].rpartition(":")
s = socket.create_connection((host or "127.0.0.1", int(port)), timeout=3)
s.sendall((sys.argv[2] + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(1 << 20)
    if not chunk: break
    buf += chunk
print(buf.decode().strip())
PY
}

sim_wait_ready() {
  local end=$(( $(date +%s) + ${2:-20} ))
  until grep -q '^mtasim: ready' "$1" 2>/dev/null; do
    [ "$(date +%s)" -le "$end" ] || { echo "mtasim did not start: $(tail -5 "$1")" >&2; return 1; }
    sleep 0.1
  done
  sed -n 's/^mtasim: control [0-9.]*:\([0-9]*\).*/\1/p' "$1" | head -1
}

sim_provisioned() {
  python3 - "$SIM_PROVISIONING" "$1" <<'PY'
import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))
if sys.argv[2] == "mtas":
    subs = [s for s in p.get("subscriber", []) if s.get("status", "active") == "active"]
    mtas = sorted({(s["mta_address"], s["mta_port"], s["mta_fqdn"]) for s in subs})
    per = max(sum(1 for s in subs if s["mta_fqdn"] == m[2]) for m in mtas) if mtas else 0
    print(len(mtas), mtas[0][0] if mtas else "", mtas[0][1] if mtas else 0, per,
          min(int(s["directory_number"]) for s in subs) if subs else 0)
else:
    for g in p.get("gateway", []):
        print(g["name"], g["address"], g["port"], g.get("segment", ""), g.get("role", "active"))
PY
}

sim_gateway_args() {
  python3 - "$SIM_PROVISIONING" "$1" <<'PY'
import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))
g = next(g for g in p["gateway"] if g["name"] == sys.argv[2])
facs = p.get("facility", [])
# A cold spare may carry any facility of its segment: it needs every span and channel they use.
if g.get("role") == "cold_spare":
    seg = {x["name"]: x.get("segment") for x in p["gateway"]}
    mine = [f for f in facs if seg.get(f["gateway"]) == g.get("segment")]
else:
    mine = [f for f in facs if f["gateway"] == g["name"]]
spans = max([f["span"] for f in mine] or [1])
channels = max([f.get("channels", 24) for f in mine] or [24])
print(f"--gateway {g['name']}@{g['address']}:{g['port']} --spans {spans} --channels {channels}")
PY
}
