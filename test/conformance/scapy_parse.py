#!/usr/bin/env python3
"""Independent check of our MGCP wire format with scapy's MGCP layer (python3-scapy).

usage: scapy_parse.py DIR

DIR/manifest.txt lists the datagrams our codec produced, one per line:
    file|command|VERB|tid|endpoint|version
    file|response|code|tid
Each DIR/file is parsed with scapy.layers.mgcp.MGCP and its fields are compared with the manifest.
Then, the other way round, scapy builds one command of every verb into DIR/scapy-N.bin and lists
them in DIR/scapy-manifest.txt ("file|VERB|tid|endpoint") for the C++ side to decode.
Exit status 0 when everything matched; every mismatch is printed.
"""
import os
import sys

from scapy.layers.mgcp import MGCP


def field(pkt, name):
    value = getattr(pkt, name)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip()


def check(directory):
    failures = []
    checked = 0
    with open(os.path.join(directory, "manifest.txt"), encoding="ascii") as manifest:
        for line in manifest:
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("|")
            name, kind = parts[0], parts[1]
            with open(os.path.join(directory, name), "rb") as f:
                data = f.read()
            pkt = MGCP(data)
            checked += 1
            if kind == "command":
                verb, tid, endpoint, version = parts[2:6]
                got = (field(pkt, "verb"), field(pkt, "transaction_id"), field(pkt, "endpoint"),
                       field(pkt, "version"))
                if got != (verb, tid, endpoint, version):
                    failures.append(f"{name}: expected {(verb, tid, endpoint, version)}, scapy says {got}")
            else:
                code, tid = parts[2:4]
                got = (field(pkt, "verb"), field(pkt, "transaction_id"))
                if got != (code, tid):
                    failures.append(f"{name}: expected {(code, tid)}, scapy says {got}")
            # Rebuilding from scapy's fields must give back our first line.
            first_line = data.split(b"\r\n", 1)[0]
            rebuilt = bytes(pkt).split(b"\n", 1)[0].rstrip(b"\r")
            if rebuilt != first_line:
                failures.append(f"{name}: scapy rebuilt {rebuilt!r}, we sent {first_line!r}")
    return checked, failures


def build(directory):
    verbs = ["EPCF", "CRCX", "MDCX", "DLCX", "RQNT", "NTFY", "AUEP", "AUCX", "RSIP"]
    with open(os.path.join(directory, "scapy-manifest.txt"), "w", encoding="ascii") as manifest:
        for i, verb in enumerate(verbs):
            tid = str(31000 + i)
            endpoint = f"aaln/{i + 1}@mta-scapy.example"
            pkt = MGCP(verb=verb, transaction_id=tid, endpoint=endpoint, version="MGCP 1.0")
            name = f"scapy-{i}.bin"
            with open(os.path.join(directory, name), "wb") as f:
                f.write(bytes(pkt))
            manifest.write(f"{name}|{verb}|{tid}|{endpoint}\n")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    checked, failures = check(sys.argv[1])
    build(sys.argv[1])
    for f in failures:
        print("MISMATCH", f)
    print(f"scapy checked {checked} datagrams, {len(failures)} mismatches")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
