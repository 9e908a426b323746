#!/usr/bin/env bash
# The backup management link as a real VPN (scripts/lib/vpn.sh): IKEv2 + ESP between the root
# namespace (head-end) and ns cms-rks (partner), with the real RKS (FreeRADIUS, scripts/lib/rks.sh)
# behind the tunnel on 10.78.3.2. Checks, each with packets captured on the wire:
#   1. a RADIUS Status-Server from the head-end is answered through the tunnel; the underlay
#      (cms-vpn0) carries only IKE and ESP-in-UDP, the RADIUS is seen in clear only on the
#      partner's TUN device (inside the tunnel);
#   2. underlay cut: no answer, and the request leaves by no interface but the TUN (no plaintext
#      on the default route either);
#   3. the cut lasts until DPD gives the SAs up; once the underlay is restored the head-end re-keys
#      by itself within a few seconds and the request is answered again;
#   4. IKE_SA torn down while the underlay is up: no answer, nothing plaintext on the underlay;
#   5. vpn_down leaves no namespace, veth, TUN, rule or charon behind.
# Needs root, /dev/net/tun, strongSwan (charon-systemd, swanctl, libcharon-extra-plugins),
# freeradius + freeradius-utils, tshark (scripts/install-deps.sh). Exit 0 pass, 1 fail,
# 77 skipped (not root, no TUN device); a missing package fails. Logs of a failed run are kept and named.
#
# Usage: test/lab/vpn_test.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/lib/common.sh"
source "$root/scripts/lib/vpn.sh"

skip() { echo "vpn_test: SKIPPED: $*"; exit 77; }
# A missing package is a broken setup, not a reason to skip: scripts/install-deps.sh installs them.
missing() { echo "vpn_test: FAIL: $* (scripts/install-deps.sh)"; exit 1; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veths, TUN)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for t in /usr/sbin/charon-systemd swanctl radclient freeradius dumpcap tshark ping sqlite3; do
  command -v "$t" >/dev/null || missing "$t missing"
done
[ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] ||
  missing "kernel-libipsec missing (libcharon-extra-plugins)"

port=1813 # the RKS's accounting port; inside its own namespace, so the well-known one is free
work=$(mktemp -d /tmp/cms-vpn-XXXXXX)
caps=() # dumpcap pids still running

cleanup() {
  local p
  for p in "${caps[@]}"; do stop_pid "$p" 5; done
  if [ -f "$work/rks/pid" ]; then
    ip netns exec "$VPN_NS" bash -c '. "$1/scripts/lib/rks.sh"; rks_stop "$2"' _ "$root" "$work/rks" 2>/dev/null
  fi
  vpn_down "$work"
  if [ "$failures" -eq 0 ]; then rm -rf "$work"; else echo "vpn_test: logs kept in $work"; fi
}
trap cleanup EXIT
trap 'failures=$((failures + 1)); exit 1' INT TERM

# ask: one Status-Server from the head-end to the RKS through the tunnel (1 try, 2 s).
ask() {
  echo "Message-Authenticator = 0x00" |
    radclient -q -r 1 -t 2 -S "$work/secret" "$VPN_INNER_RKS:$port" status >/dev/null 2>&1
}

# cap_start NAME IFACE [NETNS] [CAPTURE-FILTER]: dumpcap on IFACE into $work/NAME.pcapng; returns
# once it captures.
cap_start() {
  local name=$1 ifc=$2 ns=${3:-} filter=${4:-} pid
  local args=(-q -i "$ifc" -w "$work/$name.pcapng")
  [ -z "$filter" ] || args+=(-f "$filter")
  if [ -n "$ns" ]; then
    ip netns exec "$ns" dumpcap "${args[@]}" >"$work/$name.dumpcap.log" 2>&1 &
  else
    dumpcap "${args[@]}" >"$work/$name.dumpcap.log" 2>&1 &
  fi
  pid=$!; caps+=("$pid"); eval "cap_$name=$pid"
  # dumpcap says "Capturing on ..." once the socket is open; anything sent after that is seen.
  wait_until 5 grep -q "Capturing on" "$work/$name.dumpcap.log" ||
    { cat "$work/$name.dumpcap.log"; return 1; }
}

cap_stop() { # cap_stop NAME: SIGINT lets dumpcap flush the file
  local v="cap_$1" p
  kill -INT "${!v}" 2>/dev/null; wait "${!v}" 2>/dev/null
  local keep=(); for p in "${caps[@]}"; do [ "$p" = "${!v}" ] || keep+=("$p"); done; caps=("${keep[@]}")
}

count() { # count NAME DISPLAY-FILTER: packets in NAME's capture that match
  tshark -r "$work/$1.pcapng" -Y "$2" 2>/dev/null | wc -l
}

plain="udp.port == $port || radius"           # RADIUS in clear, whatever the dissector thinks
allowed="esp || udp.port == 500 || udp.port == 4500 || arp"

# underlay_clean NAME WHAT: the underlay capture holds IKE/ESP(-in-UDP)/ARP only, no RADIUS.
underlay_clean() {
  local r o
  r=$(count "$1" "$plain"); o=$(count "$1" "!($allowed)")
  objective "$2: no plaintext RADIUS on $VPN_IF" "$([ "$r" -eq 0 ] && [ "$o" -eq 0 ]; echo $?)" \
    "$r RADIUS, $o other non-IKE/ESP packets of $(count "$1" frame)"
}

echo "vpn_test: work dir $work"
t_start=$SECONDS

# --- up ---------------------------------------------------------------------------------------
say "vpn_up"
t0=$(now_ms); vpn_up "$work"; rc=$?
objective "tunnel up (IKEv2, ping through it)" "$rc" "$(( $(now_ms) - t0 )) ms"
[ "$rc" -eq 0 ] || exit 1
objective "vpn_status says up" "$([ "$(vpn_status "$work")" = up ]; echo $?)" ""
sa=$(vpn_swanctl "$work" headend --list-sas 2>/dev/null)
objective "IKE_SA uses the configured strong proposals" \
  "$(grep -q 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384' <<<"$sa" && grep -q 'ESP:AES_GCM_16-256' <<<"$sa"; echo $?)" \
  "$(grep -oE 'ESP:[A-Z_0-9-]+' <<<"$sa" | head -1)"
objective "route to $VPN_INNER_RKS goes via the TUN device only" \
  "$(ip route get "$VPN_INNER_RKS" | grep -q "dev $(cat "$work/headend/tun") "; echo $?)" \
  "$(ip route get "$VPN_INNER_RKS" | head -1)"

# --- the real RKS behind the tunnel --------------------------------------------------------------
(umask 077; openssl rand -hex 24 >"$work/secret")
say "starting the RKS (FreeRADIUS) in $VPN_NS on $VPN_INNER_RKS:$port"
# Clients: the head-end's inner address, and the RKS's own one (rks_start's readiness probe).
RKS_CLIENTS="$VPN_INNER_HE $VPN_INNER_RKS" ip netns exec "$VPN_NS" bash -c \
  '. "$1/scripts/lib/rks.sh"; rks_start "$2" "$3" "$4" "$5" "$6"' _ \
  "$root" "$work/rks" "$VPN_INNER_RKS" "$port" "$work/secret" "$work/rks/em.db" >"$work/rks-start.log" 2>&1
rc=$?
objective "RKS started inside $VPN_NS" "$rc" "$(tail -1 "$work/rks-start.log")"
[ "$rc" -eq 0 ] || exit 1

# --- 1. through the tunnel -----------------------------------------------------------------------
cap_start under1 "$VPN_IF" && cap_start inner1 "$(cat "$work/partner/tun")" "$VPN_NS" || exit 1
ask; rc=$?
sleep 0.3; cap_stop under1; cap_stop inner1
objective "RADIUS Status-Server answered through the tunnel" "$rc" ""
e=$(count under1 esp)
objective "the exchange crossed the underlay as ESP" "$([ "$e" -ge 2 ]; echo $?)" "$e ESP packets"
underlay_clean under1 "tunnel up"
i=$(count inner1 "udp.port == $port")
objective "RADIUS in clear only inside the tunnel (partner TUN)" "$([ "$i" -ge 2 ]; echo $?)" \
  "$i RADIUS packets on $(cat "$work/partner/tun")"

# --- 2. underlay cut -----------------------------------------------------------------------------
# The underlay capture would end when its link goes down: watch every root-ns interface instead
# (the host's own too, where a leak would take the default route), for the RADIUS port only.
cap_start any2 any "" "udp port $port" || exit 1
say "vpn_cut"
vpn_cut "$work"; t_cut=$(now_ms)
ask; rc=$?
sleep 0.3; cap_stop any2
objective "underlay cut: RADIUS not answered" "$([ "$rc" -ne 0 ]; echo $?)" "radclient rc $rc"
tun_idx=$(cat "/sys/class/net/$(cat "$work/headend/tun")/ifindex")
sent=$(count any2 "udp.dstport == $port")
leak=$(count any2 "($plain) && sll.ifindex != $tun_idx")
objective "underlay cut: request went to the TUN and nowhere else" \
  "$([ "$sent" -ge 1 ] && [ "$leak" -eq 0 ]; echo $?)" "$sent on the TUN, $leak elsewhere"
objective "vpn_status says down" "$([ "$(vpn_status "$work")" = down ]; echo $?)" ""
# Long enough for the head-end to give the IKE_SA up (DPD 1 s + ~9 s of retransmits), so the
# restore below tests a re-key from scratch, not SAs that merely survived a short outage.
gone() { ! vpn__sa_installed "$work"; }
wait_until 20 gone; rc=$?
objective "DPD declared the tunnel dead during the cut" "$rc" "$(( $(now_ms) - t_cut )) ms after the cut"

# --- 3. restored: back by itself ---------------------------------------------------------------------
say "vpn_restore"
vpn_restore "$work"
t0=$(now_ms)
back() { vpn__sa_installed "$work" && vpn__ping; }
wait_until 20 back; rc=$?; t1=$(now_ms)
# The head-end retransmits its IKE_SA_INIT at most ~3 s apart: a few seconds is the budget.
objective "tunnel re-established by itself within 8 s of the restore" \
  "$([ "$rc" -eq 0 ] && [ $((t1 - t0)) -le 8000 ]; echo $?)" "$((t1 - t0)) ms"
cap_start under3 "$VPN_IF" || exit 1
ask; rc=$?
sleep 0.3; cap_stop under3
objective "RADIUS answered again after the restore" "$rc" ""
underlay_clean under3 "restored"

# --- 4. IKE_SA gone, underlay up ---------------------------------------------------------------------
vpn_swanctl "$work" headend --terminate --ike "$VPN_CONN" --timeout 5 >/dev/null 2>&1
wait_until 5 gone; objective "IKE_SA terminated (underlay still up)" $? ""
cap_start under4 "$VPN_IF" || exit 1
ask; rc=$?
sleep 0.3; cap_stop under4
objective "no SA: RADIUS not answered" "$([ "$rc" -ne 0 ]; echo $?)" "radclient rc $rc"
underlay_clean under4 "no SA"
vpn_swanctl "$work" headend --initiate --child "$VPN_CONN" --timeout 10 >/dev/null 2>&1
ask; objective "re-initiated: RADIUS answered" $? ""

# --- 5. down --------------------------------------------------------------------------------------
ip netns exec "$VPN_NS" bash -c '. "$1/scripts/lib/rks.sh"; rks_stop "$2"' _ "$root" "$work/rks"
hp=$(cat "$work/headend/charon.pid") pp=$(cat "$work/partner/charon.pid")
say "vpn_down"
vpn_down "$work"
left=""
ip netns list | awk '{print $1}' | grep -qx "$VPN_NS" && left+=" namespace"
ip link show dev "$VPN_IF" >/dev/null 2>&1 && left+=" $VPN_IF"
ip -o link show | grep -qF "$VPN_MARK" && left+=" marked-link"
ip link show dev "$(cat "$work/headend/tun")" >/dev/null 2>&1 && left+=" tun"
{ kill -0 "$hp" || kill -0 "$pp"; } 2>/dev/null && left+=" charon"
ip rule | grep -q "lookup $VPN_TABLE" && left+=" rule"
ip route | grep -q "10\.78\.[23]\." && left+=" routes"
objective "vpn_down leaves nothing behind" "$([ -z "$left" ]; echo $?)" "${left:-clean}"
vpn_down "$work"; objective "vpn_down is idempotent" $? ""

echo
if [ "$failures" -eq 0 ]; then echo "vpn_test: PASSED in $((SECONDS - t_start)) s"; exit 0; fi
echo "vpn_test: FAILED ($failures objectives missed)"; exit 1
