#!/bin/sh
# Development certificates for the billing link (and any other mutually authenticated TLS link):
#   scripts/gen-certs.sh OUT_DIR [names...]     (default names: node-a node-b rks client)
# Creates OUT_DIR/ca.{crt,key}, a private CA, and for each name NAME.{key,crt} signed by it, with
# CN=NAME and subjectAltName DNS:NAME, DNS:localhost, IP:127.0.0.1, IP:::1. Also creates a separate
# rogue CA and rogue-client.{key,crt} signed by it, so tests can check that a certificate from
# another CA is refused. Also creates OUT_DIR/ha.key, the cluster key of the pair's UDP control
# plane ([peer] key_file of both nodes, cms-witness --key): 32 random bytes as 64 hex characters.
# Idempotent: an existing file is never overwritten.
# Not for production: keys are unencrypted and the CA key lies beside the certificates.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 OUT_DIR [names...]" >&2
  exit 2
fi
out=$1
shift
[ $# -gt 0 ] || set -- node-a node-b rks client
command -v openssl >/dev/null || { echo "$0: openssl not found" >&2; exit 1; }
mkdir -p "$out"
umask 077

# new_key FILE: a P-256 key (fast to generate, accepted by every TLS 1.2/1.3 stack).
new_key() {
  [ -e "$1" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# new_ca PREFIX CN: self-signed CA certificate PREFIX.crt for key PREFIX.key, valid 10 years.
new_ca() {
  new_key "$out/$1.key"
  [ -e "$out/$1.crt" ] || openssl req -x509 -new -key "$out/$1.key" -sha256 -days 3650 \
    -subj "/O=cms dev/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/$1.crt"
}

# new_leaf NAME CA_PREFIX: NAME.crt signed by CA_PREFIX, usable as TLS server and client.
new_leaf() {
  new_key "$out/$1.key"
  [ -e "$out/$1.crt" ] && return 0
  tmp=$(mktemp -d)
  openssl req -new -key "$out/$1.key" -subj "/O=cms dev/CN=$1" -out "$tmp/req.csr"
  cat >"$tmp/ext.cnf" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:$1,DNS:localhost,IP:127.0.0.1,IP:::1
EOF
  openssl x509 -req -in "$tmp/req.csr" -CA "$out/$2.crt" -CAkey "$out/$2.key" \
    -set_serial "0x$(openssl rand -hex 16)" -sha256 -days 825 -extfile "$tmp/ext.cnf" \
    -out "$out/$1.crt" 2>/dev/null
  rm -rf "$tmp"
}

new_ca ca "cms dev CA"
for name in "$@"; do
  case $name in
    ca|rogue-ca|rogue-client) echo "$0: '$name' is reserved" >&2; exit 2 ;;
  esac
  new_leaf "$name" ca
done
# The pair's control-plane key (docs/security.md): from the CSPRNG, private like the other keys.
[ -e "$out/ha.key" ] || openssl rand -hex 32 >"$out/ha.key"
# The RADIUS shared secret of the CMS and its RKS ([billing] secret_file, rks_start): private.
[ -e "$out/rks.secret" ] || openssl rand -hex 24 >"$out/rks.secret"
new_ca rogue-ca "rogue CA"
new_leaf rogue-client rogue-ca
# Certificates are public; only the keys stay private (umask 077 above).
chmod 644 "$out"/*.crt
