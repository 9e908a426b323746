#!/usr/bin/env bash
# Installs every Debian 12 package the project needs to build, run, test and drill.
# Idempotent: apt is only called when something is missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git ccache
  # libraries (CAF 0.17.6, Boost 1.81 with JSON, SQLite, OpenSSL 3, toml11, spdlog, net-snmp)
  libcaf-dev libboost1.81-dev libboost-json1.81-dev libsqlite3-dev sqlite3 libssl-dev openssl
  libtoml11-dev libspdlog-dev libsnmp-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev clang libclang-rt-14-dev
  # real peers and tools the tests and drills drive
  snmpd snmp snmptrapd smitools osmo-mgw tshark python3 python3-scapy chromium wrk
  iproute2 iptables procps psmisc spin curl
  # fault tests: wall-clock jumps for one process (test/integration/faults)
  faketime
  # the partner's Record Keeping Server (RADIUS Event Messages) and its client tools
  freeradius freeradius-utils
  # the backup management link as a real IPsec VPN (IKEv2; scripts/lib/vpn.sh): userspace ESP
  # (kernel-libipsec, in libcharon-extra-plugins) for hosts without kernel ESP, the openssl/kdf
  # crypto plugins (libstrongswan-standard-plugins), ping for its liveness check
  strongswan-swanctl charon-systemd libcharon-extra-plugins libstrongswan-standard-plugins
  iputils-ping
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
