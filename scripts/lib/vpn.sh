# shellcheck shell=bash
# The lab's backup management link to the partner's Record Keeping Server as a real VPN: an
# IPsec tunnel keyed by IKEv2 (strongSwan charon + swanctl) between the root network namespace
# (the head-end, CMS side) and a namespace playing the partner (sourced, never run; needs root).
#
#   source scripts/lib/vpn.sh
#   vpn_up WORKDIR       namespace, underlay, certificates, two charons; waits for a ping through
#                        (refuses names it did not make, or a namespace another run still uses)
#   vpn_down WORKDIR     stops both charons, removes namespace, veths and routes that WORKDIR's
#                        vpn_up made, ending what still runs in the namespace (idempotent)
#   vpn_cut WORKDIR      takes the underlay down (both veth ends)
#   vpn_restore WORKDIR  brings it back; the head-end re-keys by itself (DPD, keyingtries = 0)
#   vpn_status WORKDIR   prints "up" (CHILD_SA installed and a ping through it works) or "down"
#   vpn_swanctl WORKDIR headend|partner ARGS...   swanctl against that side's charon
#   vpn_primary_up WORKDIR  after vpn_up: the primary point-to-point link into the same namespace
#                        (a plain veth, not through the tunnel; vpn_down removes it too)
#
# Topology:
#   root ns (head-end)                                   ns cms-rks (partner)
#   cms-vpn0 10.78.2.1/30 <------ veth: the underlay ------> cms-vpn0-in 10.78.2.2/30
#            (the "internet": carries only IKE (UDP 500) and ESP-in-UDP (UDP 4500))
#   ipsecN   10.78.3.1 peer 10.78.3.2 <== ESP tunnel ==>    ipsecN 10.78.3.2 peer 10.78.3.1
#   (TUN device of that side's charon)                      (TUN device of that side's charon)
#   cms-dlp  10.78.1.1/30 <------ veth: the primary link ---> cms-dlp-in 10.78.1.2/30  (vpn_primary_up)
#            (the partner's point-to-point link, in clear; the drills cut it with `ip link set cms-dlp down`)
# The inner addresses live on the TUN devices only, so they are reachable only through the tunnel;
# with no CHILD_SA, libipsec drops what enters the TUN, and an "unreachable" route with a worse
# metric catches the inner peer's address when no charon (hence no TUN) exists: no plaintext path.
#
# Why userspace ESP: lab hosts may lack kernel ESP (CONFIG_INET_ESP; XFRM states then fail with
# "Requested type not found"). kernel-libipsec does ESP inside charon over a TUN device and always
# encapsulates it in UDP 4500. A production head-end uses the kernel's ESP (kernel-netlink) instead.
#
# Each side's charon (charon-systemd, run in the foreground by us) reads its own strongswan.conf
# (STRONGSWAN_CONF) and has its own vici socket, log and pid file under WORKDIR/<side>; nothing in
# /etc/ipsec*, /etc/swanctl or a system charon is read or touched. Authentication: ECDSA P-384
# certificates from a throwaway CA made with openssl (its key is deleted once both are issued).
#
# Environment (optional): VPN_UP_TIMEOUT seconds for vpn_up's first ping (default 20).

[ -n "${CMS_LIB_VPN:-}" ] && return 0
CMS_LIB_VPN=1

VPN_NS=cms-rks
VPN_IF=cms-vpn0            # underlay, head-end end (root ns)
VPN_IF_IN=cms-vpn0-in      # underlay, partner end (ns cms-rks)
VPN_UNDER_HE=10.78.2.1 VPN_UNDER_RKS=10.78.2.2
VPN_INNER_HE=10.78.3.1 VPN_INNER_RKS=10.78.3.2
VPN_TABLE=7803             # charon's own routing table/rule priority: never the default 220
VPN_MARK="cms-vpn lab (scripts/lib/vpn.sh)"   # link alias "$VPN_MARK WORKDIR": what vpn_up made
VPN_CONN=rks-backup
VPN_PRIMARY_IF=cms-dlp VPN_PRIMARY_IF_IN=cms-dlp-in   # primary link (vpn_primary_up), root / partner end
VPN_PRIMARY_HE=10.78.1.1 VPN_PRIMARY_RKS=10.78.1.2

vpn__die() { echo "vpn: $*" >&2; return 1; }

# vpn__in SIDE CMD...: CMD in that side's namespace (exec'd, so `&` + $! is CMD's own pid).
vpn__in() {
  local side=$1; shift
  if [ "$side" = partner ]; then ip netns exec "$VPN_NS" "$@"; else "$@"; fi
}

# vpn__ours SIDE IFACE [WORKDIR]: the interface exists and carries the mark of a vpn_up (of the
# one for WORKDIR when given). The mark is the link's alias, the last thing `ip -o link` prints.
vpn__ours() {
  local alias
  alias=$(vpn__in "$1" ip -o link show dev "$2" 2>/dev/null | sed -n 's/.* alias //p')
  case "$alias" in
    "$VPN_MARK ${3:-}"*) [ -z "${3:-}" ] || [ "$alias" = "$VPN_MARK $3" ] ;;
    *) return 1 ;;
  esac
}

vpn__dir() { # vpn__dir WORKDIR [create]: absolute path (the vici URIs need one); only vpn_up creates
  [ -n "${1:-}" ] || { vpn__die "WORKDIR missing"; return 1; }
  if [ "${2:-}" = create ]; then mkdir -p "$1" || return 1; fi
  if [ -d "$1" ]; then (cd "$1" && pwd); else printf '%s\n' "$1"; fi
}

vpn_swanctl() { # vpn_swanctl WORKDIR SIDE ARGS...: swanctl with that side's config and socket
  local d=$1 side=$2; shift 2
  STRONGSWAN_CONF="$d/$side/strongswan.conf" \
    swanctl "$@" --uri "unix://$d/$side/charon.vici"
}

# vpn__pki WORKDIR: CA + one certificate per side (ECDSA P-384, SAN = the IKE identity).
vpn__pki() {
  local d=$1 side cn
  (
    umask 077
    set -e
    mkdir -p "$d/pki"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$d/pki/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$d/pki/ca.key" -subj "/O=cms lab/CN=cms-vpn lab CA" -days 3 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$d/pki/ca.pem" 2>/dev/null
    for side in headend partner; do
      cn=$side.cms-vpn.lab
      mkdir -p "$d/$side/swanctl/x509" "$d/$side/swanctl/x509ca" "$d/$side/swanctl/private"
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
        -out "$d/$side/swanctl/private/$side.key" 2>/dev/null
      openssl req -new -key "$d/$side/swanctl/private/$side.key" -subj "/O=cms lab/CN=$cn" \
        -out "$d/pki/$side.csr" 2>/dev/null
      printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n' "$cn" \
        >"$d/pki/$side.ext"
      openssl x509 -req -in "$d/pki/$side.csr" -CA "$d/pki/ca.pem" -CAkey "$d/pki/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 3 -extfile "$d/pki/$side.ext" \
        -out "$d/$side/swanctl/x509/$side.pem" 2>/dev/null
      cp "$d/pki/ca.pem" "$d/$side/swanctl/x509ca/ca.pem"
    done
    # Nothing else may ever be signed by this CA: its key goes now.
    rm -f "$d/pki/ca.key" "$d/pki/"*.csr "$d/pki/"*.ext
  ) || { vpn__die "certificate generation with openssl failed"; return 1; }
}

# vpn__conf WORKDIR SIDE: that side's strongswan.conf (daemon + swanctl) and swanctl.conf.
vpn__conf() {
  local d=$1 side=$2 me peer lu ru li ri ifc
  if [ "$side" = headend ]; then
    me=headend peer=partner lu=$VPN_UNDER_HE ru=$VPN_UNDER_RKS li=$VPN_INNER_HE ri=$VPN_INNER_RKS
    ifc=$VPN_IF
  else
    me=partner peer=headend lu=$VPN_UNDER_RKS ru=$VPN_UNDER_HE li=$VPN_INNER_RKS ri=$VPN_INNER_HE
    ifc=$VPN_IF_IN
  fi
  # Only the plugins the tunnel needs; kernel-libipsec before kernel-netlink, so libipsec is the
  # IPsec backend and kernel-netlink only does addresses and routes.
  cat >"$d/$side/strongswan.conf" <<EOF
# generated by scripts/lib/vpn.sh for the $side side; not /etc/strongswan.conf
charon-systemd {
  load = random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey constraints kernel-libipsec kernel-netlink socket-default vici
  port = 500
  port_nat_t = 4500
  # IKE only over the underlay
  interfaces_use = $ifc
  # our own table and rule, never the default 220 a system charon would use
  routing_table = $VPN_TABLE
  routing_table_prio = $VPN_TABLE
  # a dead underlay is given up on within ~9 s (1 + 1.3 + 1.7 + 2.2 + 2.9), and a new IKE_SA_INIT
  # is never more than ~3 s from being retransmitted once the underlay is back
  retransmit_timeout = 1.0
  retransmit_base = 1.3
  retransmit_tries = 4
  plugins {
    vici {
      socket = unix://$d/$side/charon.vici
    }
  }
  journal {
    default = -1
  }
  filelog {
    vpn {
      path = $d/$side/charon.log
      time_format = %H:%M:%S
      ike_name = yes
      flush_line = yes
      default = 1
      knl = 1
      ike = 1
    }
  }
}
swanctl {
  load = pem pkcs1 pkcs8 x509 openssl random
}
EOF
  # The head-end initiates and keeps the tunnel up (DPD restart, close -> start, endless tries);
  # the partner answers and replaces a stale IKE_SA when the head-end comes back.
  local act
  if [ "$side" = headend ]; then
    act="dpd_action = restart
        close_action = start"
  else
    act="dpd_action = clear"
  fi
  cat >"$d/$side/swanctl/swanctl.conf" <<EOF
# generated by scripts/lib/vpn.sh for the $side side
connections {
  $VPN_CONN {
    version = 2
    local_addrs = $lu
    remote_addrs = $ru
    proposals = aes256gcm16-prfsha384-ecp384
    dpd_delay = 1s
    keyingtries = 0
    unique = replace
    mobike = no
    rekey_time = 4h
    local {
      auth = pubkey
      certs = $me.pem
      id = $me.cms-vpn.lab
    }
    remote {
      auth = pubkey
      id = $peer.cms-vpn.lab
      cacerts = ca.pem
    }
    children {
      $VPN_CONN {
        mode = tunnel
        local_ts = $li/32
        remote_ts = $ri/32
        esp_proposals = aes256gcm16-ecp384
        rekey_time = 1h
        start_action = none
        $act
      }
    }
  }
}
EOF
}

# vpn__start WORKDIR SIDE: charon-systemd in that side's namespace; waits for its vici socket,
# then gives its TUN device the inner address (peer route = the only way to the far inner end).
vpn__start() {
  local d=$1 side=$2 pid tun li ri _
  if [ "$side" = headend ]; then li=$VPN_INNER_HE ri=$VPN_INNER_RKS; else li=$VPN_INNER_RKS ri=$VPN_INNER_HE; fi
  # Simple commands only: `&` on a function would make $! a subshell's pid, not charon's.
  if [ "$side" = partner ]; then
    ip netns exec "$VPN_NS" env STRONGSWAN_CONF="$d/$side/strongswan.conf" \
      /usr/sbin/charon-systemd >"$d/$side/stdout.log" 2>&1 </dev/null &
  else
    STRONGSWAN_CONF="$d/$side/strongswan.conf" \
      /usr/sbin/charon-systemd >"$d/$side/stdout.log" 2>&1 </dev/null &
  fi
  pid=$!
  echo "$pid" >"$d/$side/charon.pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { cat "$d/$side/stdout.log" "$d/$side/charon.log" >&2 2>/dev/null
      vpn__die "$side charon exited during start (see $d/$side/charon.log)"; return 1; }
    vpn_swanctl "$d" "$side" --stats >/dev/null 2>&1 && break
    sleep 0.1
  done
  vpn_swanctl "$d" "$side" --stats >/dev/null 2>&1 ||
    { vpn__die "$side charon: no vici socket within 10 s"; return 1; }
  # The TUN device kernel-libipsec opened is named in the fdinfo of its /dev/net/tun descriptor.
  tun=$(grep -h '^iff:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{print $2; exit}')
  [ -n "$tun" ] || { vpn__die "$side charon has no TUN device (kernel-libipsec not loaded?)"; return 1; }
  echo "$tun" >"$d/$side/tun"
  # IPv6 on the TUN would only send router solicitations for libipsec to drop.
  vpn__in "$side" sysctl -qw "net.ipv6.conf.$tun.disable_ipv6=1" 2>/dev/null
  vpn__in "$side" ip addr add "$li" peer "$ri" dev "$tun" &&
    vpn__in "$side" ip link set "$tun" up ||
    { vpn__die "cannot address $side TUN device $tun"; return 1; }
}

vpn__ping() { # vpn__ping: one ping from the head-end's inner address to the partner's
  ping -c 1 -W 1 -I "$VPN_INNER_HE" "$VPN_INNER_RKS" >/dev/null 2>&1
}

# vpn__sa_installed WORKDIR: the head-end lists an installed CHILD_SA for the connection.
vpn__sa_installed() {
  vpn_swanctl "$1" headend --list-sas --ike "$VPN_CONN" 2>/dev/null |
    grep -qE "^ +$VPN_CONN: #[0-9]+, reqid [0-9]+, INSTALLED"
}

vpn_status() { # vpn_status WORKDIR: prints up|down
  local d
  d=$(vpn__dir "$1") || return 1
  if [ -S "$d/headend/charon.vici" ] && vpn__sa_installed "$d" && vpn__ping; then echo up; else echo down; fi
}

# vpn__preflight: fail clearly if something that is not ours holds our names, addresses or ports.
vpn__preflight() {
  local r
  if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$VPN_NS"; then
    vpn__ours partner lo ||
      { vpn__die "namespace $VPN_NS exists and was not made by vpn_up; not touching it"; return 1; }
    r=$(ip netns pids "$VPN_NS" 2>/dev/null | tr '\n' ' ')
    [ -z "$r" ] || { vpn__die "namespace $VPN_NS is still in use (pids $r); run vpn_down first"; return 1; }
  fi
  if ip link show dev "$VPN_IF" >/dev/null 2>&1 && ! vpn__ours headend "$VPN_IF"; then
    vpn__die "interface $VPN_IF exists and was not made by vpn_up; not touching it"; return 1
  fi
  r=$(ip -4 route show to match "$VPN_UNDER_RKS" | grep -v '^default' | grep -v "dev $VPN_IF " || true)
  [ -z "$r" ] || { vpn__die "$VPN_UNDER_RKS is already routed here ($r); another lab owns 10.78.2.0/30?"; return 1; }
  r=$(ip -4 route show to match "$VPN_INNER_RKS" | grep -v '^default' | grep -v "unreachable $VPN_INNER_RKS " || true)
  [ -z "$r" ] || { vpn__die "$VPN_INNER_RKS is already routed here ($r)"; return 1; }
  if ss -Hunl 2>/dev/null | awk '{print $4}' | grep -qE ':(500|4500)$'; then
    vpn__die "UDP 500/4500 already bound in the root namespace (a system charon?)"; return 1
  fi
  for r in charon-systemd swanctl openssl ping; do
    command -v "$r" >/dev/null || [ -x "/usr/sbin/$r" ] ||
      { vpn__die "$r missing (scripts/install-deps.sh)"; return 1; }
  done
  [ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] ||
    { vpn__die "kernel-libipsec plugin missing (apt-get install libcharon-extra-plugins)"; return 1; }
}

# vpn__net: namespace (marked via its loopback's alias), veth underlay, kill-switch routes.
vpn__net() { # vpn__net WORKDIR
  local d=$1
  if ! ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$VPN_NS"; then
    ip netns add "$VPN_NS" || { vpn__die "cannot create namespace $VPN_NS"; return 1; }
  fi
  ip -n "$VPN_NS" link set lo alias "$VPN_MARK $d" up || { vpn__die "cannot mark namespace $VPN_NS"; return 1; }
  # A veth left by an earlier vpn_up (preflight checked the mark) is replaced, not reused.
  if ip link show dev "$VPN_IF" >/dev/null 2>&1; then ip link del "$VPN_IF"; fi
  ip link add "$VPN_IF" type veth peer name "$VPN_IF_IN" &&
    ip link set "$VPN_IF_IN" netns "$VPN_NS" &&
    ip link set "$VPN_IF" alias "$VPN_MARK $d" &&
    ip -n "$VPN_NS" link set "$VPN_IF_IN" alias "$VPN_MARK $d" || { vpn__die "cannot create veth $VPN_IF"; return 1; }
  # No IPv6 on the underlay: router solicitations and MLD would only blur the capture.
  sysctl -qw "net.ipv6.conf.$VPN_IF.disable_ipv6=1" 2>/dev/null
  ip netns exec "$VPN_NS" sysctl -qw "net.ipv6.conf.$VPN_IF_IN.disable_ipv6=1" 2>/dev/null
  ip addr add "$VPN_UNDER_HE/30" dev "$VPN_IF" && ip link set "$VPN_IF" up &&
    ip -n "$VPN_NS" addr add "$VPN_UNDER_RKS/30" dev "$VPN_IF_IN" &&
    ip -n "$VPN_NS" link set "$VPN_IF_IN" up || { vpn__die "cannot address the underlay"; return 1; }
  # Kill switch: without a TUN device (no charon), the far inner address is unreachable instead of
  # following the default route in plaintext. The TUN's peer route (metric 0) wins while it exists.
  ip route replace unreachable "$VPN_INNER_RKS/32" metric 4096 &&
    ip -n "$VPN_NS" route replace unreachable "$VPN_INNER_HE/32" metric 4096 ||
    { vpn__die "cannot install the kill-switch routes"; return 1; }
}

# vpn_up WORKDIR: everything from nothing to a working tunnel; on failure, tears down what it made.
vpn_up() {
  local d side t0
  [ "$(id -u)" -eq 0 ] || { vpn__die "vpn_up needs root (namespaces, veths, TUN)"; return 1; }
  d=$(vpn__dir "$1" create) || return 1
  [ ${#d} -lt 90 ] || { vpn__die "WORKDIR path too long for a unix socket: $d"; return 1; }
  vpn__preflight || return 1
  vpn__net "$d" || { vpn_down "$d"; return 1; }
  vpn__pki "$d" || { vpn_down "$d"; return 1; }
  for side in partner headend; do
    vpn__conf "$d" "$side" && vpn__start "$d" "$side" &&
      vpn_swanctl "$d" "$side" --load-all --noprompt --file "$d/$side/swanctl/swanctl.conf" \
        >"$d/$side/load.log" 2>&1 ||
      { cat "$d/$side/load.log" >&2 2>/dev/null; vpn__die "$side side failed to start"; vpn_down "$d"; return 1; }
  done
  vpn_swanctl "$d" headend --initiate --child "$VPN_CONN" --timeout 10 >"$d/headend/initiate.log" 2>&1 ||
    { cat "$d/headend/initiate.log" >&2; vpn__die "IKE/CHILD_SA initiation failed (see $d/*/charon.log)"
      vpn_down "$d"; return 1; }
  t0=$SECONDS
  until vpn__ping; do
    if ((SECONDS - t0 > ${VPN_UP_TIMEOUT:-20})); then
      vpn__die "tunnel established but no ping through it within ${VPN_UP_TIMEOUT:-20} s"
      vpn_down "$d"; return 1
    fi
    sleep 0.2
  done
}

# vpn_down WORKDIR: charons (by their pid files only), namespace, veth, routes, rules. Idempotent.
vpn_down() {
  local d side pid _
  d=$(vpn__dir "$1") || return 1
  for side in headend partner; do
    pid=$(cat "$d/$side/charon.pid" 2>/dev/null) || continue
    # Only a charon: a pid file left by a crashed run may name a recycled pid by now.
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = charon-systemd ]; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$d/$side/charon.pid" "$d/$side/charon.vici"
  done
  # Namespace and veths only when this WORKDIR's vpn_up made them: another lab's stay untouched
  # (a stale one, whose processes are gone, is taken over by the next vpn_up).
  vpn__ours headend "$VPN_PRIMARY_IF" "$d" && ip link del "$VPN_PRIMARY_IF" 2>/dev/null
  if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$VPN_NS" && vpn__ours partner lo "$d"; then
    # Whatever a caller started in there (the RKS) would keep the namespace's network alive.
    ip netns pids "$VPN_NS" 2>/dev/null | xargs -r kill -TERM 2>/dev/null
    for _ in $(seq 1 20); do [ -z "$(ip netns pids "$VPN_NS" 2>/dev/null)" ] && break; sleep 0.1; done
    ip netns pids "$VPN_NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$VPN_NS" 2>/dev/null
  fi
  vpn__ours headend "$VPN_IF" "$d" && ip link del "$VPN_IF" 2>/dev/null
  # The kill-switch route and charon's rule/table are shared names: they go once no underlay is left.
  ip link show dev "$VPN_IF" >/dev/null 2>&1 && return 0
  ip route del unreachable "$VPN_INNER_RKS/32" metric 4096 2>/dev/null
  # charon removes its rule when it stops; after a SIGKILL it would stay behind.
  for _ in 1 2 3; do ip rule del pref "$VPN_TABLE" table "$VPN_TABLE" 2>/dev/null || break; done
  ip route flush table "$VPN_TABLE" 2>/dev/null
  return 0
}

# vpn_primary_up WORKDIR: the partner's primary point-to-point link, beside the VPN: a veth from
# the root namespace (cms-dlp 10.78.1.1/30) into the namespace vpn_up WORKDIR made (cms-dlp-in
# 10.78.1.2/30). Plain IP, no tunnel: what the primary carries is in clear, as on a leased line.
# Marked like the underlay; vpn_down WORKDIR removes it.
vpn_primary_up() {
  local d r
  d=$(vpn__dir "$1") || return 1
  vpn__ours partner lo "$d" || { vpn__die "no namespace $VPN_NS from vpn_up $d: run vpn_up first"; return 1; }
  if ip link show dev "$VPN_PRIMARY_IF" >/dev/null 2>&1; then
    vpn__ours headend "$VPN_PRIMARY_IF" ||
      { vpn__die "interface $VPN_PRIMARY_IF exists and was not made by vpn_primary_up; not touching it"; return 1; }
    ip link del "$VPN_PRIMARY_IF" # an earlier run's (marked): replaced, not reused
  fi
  r=$(ip -4 route show to match "$VPN_PRIMARY_RKS" | grep -v '^default' || true)
  [ -z "$r" ] || { vpn__die "$VPN_PRIMARY_RKS is already routed here ($r); another lab owns 10.78.1.0/30?"; return 1; }
  if ! { ip link add "$VPN_PRIMARY_IF" type veth peer name "$VPN_PRIMARY_IF_IN" &&
         ip link set "$VPN_PRIMARY_IF_IN" netns "$VPN_NS" &&
         ip link set "$VPN_PRIMARY_IF" alias "$VPN_MARK $d" &&
         ip -n "$VPN_NS" link set "$VPN_PRIMARY_IF_IN" alias "$VPN_MARK $d"; }; then
    vpn__die "cannot create veth $VPN_PRIMARY_IF"; ip link del "$VPN_PRIMARY_IF" 2>/dev/null; return 1
  fi
  sysctl -qw "net.ipv6.conf.$VPN_PRIMARY_IF.disable_ipv6=1" 2>/dev/null
  ip netns exec "$VPN_NS" sysctl -qw "net.ipv6.conf.$VPN_PRIMARY_IF_IN.disable_ipv6=1" 2>/dev/null
  if ! { ip addr add "$VPN_PRIMARY_HE/30" dev "$VPN_PRIMARY_IF" && ip link set "$VPN_PRIMARY_IF" up &&
         ip -n "$VPN_NS" addr add "$VPN_PRIMARY_RKS/30" dev "$VPN_PRIMARY_IF_IN" &&
         ip -n "$VPN_NS" link set "$VPN_PRIMARY_IF_IN" up; }; then
    vpn__die "cannot address the primary link"; ip link del "$VPN_PRIMARY_IF" 2>/dev/null; return 1
  fi
}

vpn_cut() { # vpn_cut WORKDIR: the underlay fails (both ends: no carrier, no packets either way)
  ip link set "$VPN_IF" down && ip -n "$VPN_NS" link set "$VPN_IF_IN" down
}

vpn_restore() { # vpn_restore WORKDIR: the underlay is back; the head-end re-keys by itself
  ip -n "$VPN_NS" link set "$VPN_IF_IN" up && ip link set "$VPN_IF" up
}
