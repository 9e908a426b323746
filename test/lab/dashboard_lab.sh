#!/usr/bin/env bash
# The dashboard against the running lab (scripts/run-pair.sh), in headless Chromium: both nodes'
# pages must tell the deployment's story (the partner segment and the operator's head-end with
# both data links between them, the gateways per segment with their facilities, the pair with
# roles and epoch, the access segment with the MTAs registered, calls and billing moving), and a
# failure must show where it happens: a local gateway held down turns its box red on the active's
# page (the standby raises nothing of its own), the primary data link held down turns the link red
# and sends billing through the backup link. Screenshots of each step go to the output directory
# (default run/lab/dashboard-test); the lab is left as it was found.
#
# Usage: test/lab/dashboard_lab.sh [--state run/lab/state.env] [--out DIR] [--no-link]
#   --no-link  skip the data-link step (the lab's link-peers are root's when it runs the VPN)
set -uo pipefail # no -e: a check that fails is reported (objective), not the end of the test
root=$(cd "$(dirname "$0")/../.." && pwd)
state=$root/run/lab/state.env out=$root/run/lab/dashboard-test link_step=1
while [ $# -gt 0 ]; do
  case "$1" in
    --state) state=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-link) link_step=""; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "dashboard_lab: unknown option $1" >&2; exit 2 ;;
  esac
done
source "$root/scripts/lib/common.sh"
source "$root/scripts/lib/pair.sh"
scratch=$(mktemp -d /tmp/cms-dash-XXXXXX)
held=()
cleanup() {
  local h
  for h in "${held[@]}"; do lab_release "$h"; done
  rm -rf "$scratch"
}
trap cleanup EXIT
pair_attach "$state"
mkdir -p "$out"
rm -f "$out"/*.png
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "dashboard_lab: no chromium (apt-get install chromium)" >&2; exit 2; }

chromium_run() { # chromium_run PROFILE ARGS...: headless, no network beyond the lab, own profile
  # The page polls every 2 s: 7 s of virtual time is three polls (counters, events, call rates).
  timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --no-first-run --disable-quic --hide-scrollbars --user-data-dir="$scratch/$1" \
    --virtual-time-budget=7000 "${@:2}" 2>> "$scratch/chromium.err"
}
dom_of() { # dom_of I TAG: node I's page after it has loaded, as HTML (also kept in $out)
  chromium_run "dom-$1-$2" --dump-dom "$(url "$1" /)" > "$out/$2-${names[$1]}.html"
  cat "$out/$2-${names[$1]}.html"
}
shot() { # shot I NAME: screenshot of node I's page
  chromium_run "shot-$1-$2" --window-size=1400,1500 --screenshot="$out/$2-${names[$1]}.png" "$(url "$1" /)" > /dev/null 2>&1
  [ -s "$out/$2-${names[$1]}.png" ] && echo "  [INFO] screenshot $out/$2-${names[$1]}.png"
}
has() { grep -q -- "$2" <<< "$1"; }
check() { # check NAME DOM PATTERN [DETAIL]
  has "$2" "$3"; objective "$1" $? "${4:-}"
}
# Text of an element by id in a DOM dump ("" when absent).
text_of() { grep -o "id=\"$2\">[^<]*" <<< "$1" | head -1 | sed 's/^[^>]*>//'; }
epoch_of() { json_field "$(url "$1" /status)" epoch; }

a=$(active_node)
[ -n "$a" ] || { echo "dashboard_lab: no active node in the lab ($(roles))" >&2; exit 2; }
s=$((1 - a))
echo "dashboard_lab: ${names[$a]} active (epoch $(epoch_of "$a")), ${names[$s]} standby; screenshots in $out"

# --- 1. the story, on both nodes -------------------------------------------------------------
for i in "$a" "$s"; do
  r=$(role "$i") e=$(epoch_of "$i")
  dom=$(dom_of "$i" 1-steady)
  who="${names[$i]} ($r)"
  check "$who: page loaded from the API" "$dom" 'data-loaded="true"'
  check "$who: partner segment: its gateways" "$dom" 'data-gateway="tgw-p1.partner.example"'
  check "$who: local segment: its gateways and the cold spare" "$dom" 'data-gateway="tgw-l9.local.example"'
  check "$who: primary data link up" "$dom" 'id="net-link-primary-state">dl-primary up'
  check "$who: backup data link up" "$dom" 'id="net-link-backup-state">dl-backup up'
  check "$who: the pair: this node with its role and epoch" "$dom" \
    "id=\"net-this\"><b>${names[$i]}</b>.*role-$r\">$r</div><div>epoch $e<" "$r, epoch $e"
  check "$who: the pair: the peer with its role" "$dom" \
    "id=\"net-peer\"><b>${names[$((1 - i))]}</b>.*role-$([ "$r" = active ] && echo standby || echo active)\">"
  check "$who: facilities listed per gateway" "$dom" '<td>l1-pri-1</td><td>tgw-l1.local.example</td>'
  shot "$i" 1-steady
done

# The active's own figures: MTAs, calls, billing.
dom=$(cat "$out/1-steady-${names[$a]}.html")
mtas=$(text_of "$dom" net-mtas)
check "active: access segment: every MTA line registered" "$dom" 'id="net-mtas">20 / 20' "$mtas registered"
calls=$(text_of "$dom" net-calls)
objective "active: calls in progress shown" $([ "${calls:-0}" -gt 0 ] 2>/dev/null; echo $?) "${calls:-?} calls in progress"
sent=$(text_of "$dom" net-billing-sent)
objective "active: billing records delivered to the RKS" $([ "${sent:-0}" -gt 0 ] 2>/dev/null; echo $?) \
  "${sent:-?} records delivered, $(text_of "$dom" net-billing-pending) pending; RKS store: $(rks_records "$rks_db") records, $(rks_calls "$rks_db") calls"
check "active: billing flows over the primary link" "$dom" 'class="box state-box-up" id="net-rks"' \
  "billing via $(text_of "$dom" net-billing-path)"
for g in tgw-p1.partner.example tgw-p2.partner.example tgw-l1.local.example tgw-l2.local.example; do
  check "active: ${g%%.*} in service" "$dom" "class=\"box gw state-box-in_service\" data-gateway=\"$g\""
done
check "active: the cold spare carries nothing" "$dom" 'data-gateway="tgw-l9.local.example"><b>tgw-l9</b> <span class="muted">cold spare</span><div class="state-in_service">in_service</div><div class="muted">cold: carries nothing'
dom=$(cat "$out/1-steady-${names[$s]}.html")
check "standby: says the active watches the gateways" "$dom" 'watched by the active'

# --- 2. a local gateway dies: red where it is, on the active only ------------------------------
lab_hold gw-tgw-l1; held+=(gw-tgw-l1)
ok=1
for _ in $(seq 1 30); do
  dom=$(dom_of "$a" 2-gateway-failed)
  if has "$dom" 'state-box-failed" data-gateway="tgw-l1.local.example"'; then ok=0; break; fi
  sleep 1
done
objective "active: the failed gateway is red where it is" $ok ""
check "active: the event names the active as reporter" "$dom" \
  "<span class=\"who\">${names[$a]} (active)</span>[^<]*tgw-l1"
shot "$a" 2-gateway-failed
dom=$(dom_of "$s" 2-gateway-failed)
! has "$dom" "<span class=\"who\">${names[$s]} (standby)</span>[^<]*tgw-l1"
objective "standby: raised no alarm of its own for the gateway" $? ""
! has "$dom" 'state-box-failed" data-gateway='
objective "standby: shows no gateway red (it does not watch them)" $? ""
lab_release gw-tgw-l1; held=()
for _ in $(seq 1 30); do
  dom=$(dom_of "$a" 3-gateway-restored)
  has "$dom" 'state-box-in_service" data-gateway="tgw-l1.local.example"' && break
  sleep 1
done
check "active: the gateway is back in service" "$dom" 'state-box-in_service" data-gateway="tgw-l1.local.example"'
shot "$a" 3-gateway-restored

# --- 3. the primary data link goes down: the link red, billing through the backup ------------
if [ -n "$link_step" ]; then
  lab_hold link-primary; held+=(link-primary)
  ok=1
  for _ in $(seq 1 20); do
    dom=$(dom_of "$a" 4-link-down)
    if has "$dom" 'id="net-link-primary-state">dl-primary down' && has "$dom" 'id="net-billing-path">backup link'; then ok=0; break; fi
    sleep 1
  done
  objective "active: primary link down, billing via the backup link" $ok \
    "$(text_of "$dom" net-link-primary-state); billing via $(text_of "$dom" net-billing-path); $(text_of "$dom" net-offnet)"
  check "active: off-net calls go to the local segment first" "$dom" 'id="net-offnet">off-net calls: local segment first'
  shot "$a" 4-link-down
  dom=$(dom_of "$s" 4-link-down)
  unroled=$(grep -o '<span class="who">[^<]*</span>' <<< "$dom" | grep -vc ' ([a-z-]*)</span>')
  objective "standby: every event it shows names its reporter and that node's role (starting, standby, active)" \
    $([ "$unroled" = 0 ]; echo $?) "$unroled events without a role; $(grep -o "<span class=\"who\">${names[$s]} (standby)</span>[^<]*" <<< "$dom" | grep -c 'dl-primary') standby-reported dl-primary events (its own view, marked standby)"
  shot "$s" 4-link-down
  lab_release link-primary; held=()
  for _ in $(seq 1 30); do
    dom=$(dom_of "$a" 5-link-restored)
    has "$dom" 'id="net-link-primary-state">dl-primary up' && has "$dom" 'id="net-billing-path">primary link' && break
    sleep 1
  done
  check "active: primary link up again, billing back on it" "$dom" 'id="net-billing-path">primary link' \
    "$(text_of "$dom" net-link-primary-state)"
  shot "$a" 5-link-restored
fi

echo "screenshots in $out"
[ "$failures" -eq 0 ] && echo "dashboard_lab: PASSED" || echo "dashboard_lab: FAILED ($failures)"
exit $(( failures > 0 ))
