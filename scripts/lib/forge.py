#!/usr/bin/env python3
"""The forger of scripts/drill-forgery.sh: traffic a node must drop, from an address that is
neither node (FORGER, default 127.0.0.66) and, with raw sockets, with a spoofed source.

    forge.py PHASE CONFIG_JSON      prints one JSON line: what was sent (and received)

PHASE
  heartbeat   forged heartbeats to each node's UDP heartbeat port for config.duration seconds, one
              round every 100 ms: unsigned JSON (the old protocol), sealed with a wrong key, a
              captured genuine heartbeat replayed; each from FORGER and spoofed from the peer's own
              address:port; every forged body claims role active at epoch 2^64-1 (and 2^63-1)
  late        the captured genuine heartbeats and witness answers re-sent (from FORGER and
              spoofed) once they are older than the replay window
  witness     forged claims, releases and a claim with a lease of three years, sealed with a wrong
              key, and captured genuine requests replayed, to each witness (from FORGER and spoofed
              from the node's own address:port); captured witness answers replayed to the nodes
  mgcp        forged gateway RSIP `RSIP *@<gateway> ... RM: forced` and NTFY seizures to the
              active's MGCP port from FORGER (any answer is counted: there must be none)
  responses   forged MGCP responses (`200 <tid>` with an SDP) for the transaction ids the active
              is using: commands leaving its MGCP port are sniffed live and answered at once from
              FORGER, and the ids ahead of the newest are sprayed
  flood       malformed datagrams for config.duration seconds: spoofed from a provisioned MTA's
              address on a wrong port (scapy), and random garbage from FORGER

Captured datagrams come from a pcap (config.pcap, written by dumpcap on lo) read with scapy.
Nothing here knows the cluster key: every seal uses a wrong one.
"""
import hashlib
import hmac
import json
import os
import random
import socket
import sys
import time

from scapy.all import IP, UDP, Raw, rdpcap  # noqa: E402  (the drill checks scapy first)

WRONG_KEY = b"not-the-cluster-key-" + os.urandom(16).hex().encode()
MAGIC = b"CMA1"


def seal(key, body):
    return MAGIC + hmac.new(key, MAGIC + body, hashlib.sha256).digest() + body


def now_ms():
    return int(time.time() * 1000)


def now_us():
    return int(time.time() * 1_000_000)


class Raw4:
    """Spoofed-source UDP over a raw socket (IP_HDRINCL); packets built by scapy."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self.sent = 0

    def send(self, src, sport, dst, dport, payload):
        pkt = IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(load=payload)
        self.s.sendto(bytes(pkt), (dst, 0))
        self.sent += 1

    def send_bytes(self, dst, data):
        self.s.sendto(data, (dst, 0))
        self.sent += 1


def forger_socket(cfg, port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((cfg["forger"], port))
    s.setblocking(False)
    return s


def captured(cfg, src_port=None, dst_port=None, src=None, dst=None):
    """Payloads of captured UDP datagrams matching the ports/addresses, oldest first, with their
    (src, sport, dst, dport)."""
    out = []
    path = cfg.get("pcap")
    if not path or not os.path.exists(path):
        return out
    for p in rdpcap(path):
        if IP not in p or UDP not in p:
            continue
        ip, udp = p[IP], p[UDP]
        if src_port is not None and udp.sport != src_port:
            continue
        if dst_port is not None and udp.dport != dst_port:
            continue
        if src is not None and ip.src != src:
            continue
        if dst is not None and ip.dst != dst:
            continue
        out.append((bytes(udp.payload), ip.src, udp.sport, ip.dst, udp.dport))
    return out


def hb_body(cfg, sender, epoch, seq=None):
    return json.dumps({"t": "hb", "cluster": cfg["cluster"], "from": sender,
                       "seq": seq if seq is not None else now_us(), "ts": now_ms(),
                       "role": "active", "epoch": epoch, "prio": 1000, "applied": 2**63 - 1,
                       "ha_age_ms": 0}, separators=(",", ":")).encode()


def send_all(sock, data, addr, stats, key):
    try:
        sock.sendto(data, addr)
        stats[key] = stats.get(key, 0) + 1
    except BlockingIOError:
        stats["send_blocked"] = stats.get("send_blocked", 0) + 1


def drain(sock, stats, key="answers"):
    while True:
        try:
            data, src = sock.recvfrom(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # ICMP port unreachable from an earlier datagram
            continue
        stats[key] = stats.get(key, 0) + 1
        stats.setdefault(key + "_sample", data[:80].decode("latin-1"))


def phase_heartbeat(cfg):
    sock, raw, stats = forger_socket(cfg), Raw4(), {}
    targets = cfg["heartbeat"]
    for t in targets:
        genuine = captured(cfg, src_port=t["peer_port"], dst_port=t["port"])
        t["genuine"] = [g[0] for g in genuine[-5:]]
        stats["captured_" + t["node"]] = len(genuine)
    end = time.monotonic() + cfg.get("duration", 5)
    rounds = 0
    while time.monotonic() < end:
        for t in targets:
            dst = (t["address"], t["port"])
            for epoch in (2**64 - 1, 2**63 - 1):
                body = hb_body(cfg, t["peer_id"], epoch)
                # From the forger's own address: wrong_source, whatever the content.
                send_all(sock, body, dst, stats, "unsigned_from_forger")
                send_all(sock, seal(WRONG_KEY, body), dst, stats, "wrong_key_from_forger")
                # Spoofed from the peer's address:port: the MAC decides (malformed, bad_mac).
                raw.send(t["peer_address"], t["peer_port"], t["address"], t["port"], body)
                stats["unsigned_spoofed"] = stats.get("unsigned_spoofed", 0) + 1
                raw.send(t["peer_address"], t["peer_port"], t["address"], t["port"], seal(WRONG_KEY, body))
                stats["wrong_key_spoofed"] = stats.get("wrong_key_spoofed", 0) + 1
            for g in t["genuine"][:1]:
                send_all(sock, g, dst, stats, "replay_from_forger")
                raw.send(t["peer_address"], t["peer_port"], t["address"], t["port"], g)
                stats["replay_spoofed"] = stats.get("replay_spoofed", 0) + 1
        drain(sock, stats)
        rounds += 1
        time.sleep(0.1)
    time.sleep(0.3)
    drain(sock, stats)
    stats["rounds"] = rounds
    return stats


def phase_late(cfg):
    sock, raw, stats = forger_socket(cfg), Raw4(), {}
    for t in cfg["heartbeat"]:
        for g in captured(cfg, src_port=t["peer_port"], dst_port=t["port"])[:3]:
            send_all(sock, g[0], (t["address"], t["port"]), stats, "late_hb_from_forger")
            raw.send(t["peer_address"], t["peer_port"], t["address"], t["port"], g[0])
            stats["late_hb_spoofed"] = stats.get("late_hb_spoofed", 0) + 1
    for w in cfg["witnesses"]:
        for g in captured(cfg, src=w["address"], src_port=w["port"])[:3]:
            send_all(sock, g[0], (g[3], g[4]), stats, "late_answer_from_forger")
            raw.send(g[1], g[2], g[3], g[4], g[0])
            stats["late_answer_spoofed"] = stats.get("late_answer_spoofed", 0) + 1
    time.sleep(0.3)
    drain(sock, stats)
    return stats


def witness_body(cfg, kind, sender, epoch, lease_ms):
    return json.dumps({"t": kind, "cluster": cfg["cluster"], "from": sender, "seq": now_us(),
                       "ts": now_ms(), "id": random.getrandbits(64), "epoch": epoch,
                       "lease_ms": lease_ms}, separators=(",", ":")).encode()


def phase_witness(cfg):
    sock, raw, stats = forger_socket(cfg), Raw4(), {}
    years = 3 * 365 * 24 * 3600 * 1000
    epoch = int(cfg.get("epoch", 1))
    per_witness = int(cfg.get("per_witness", 1100))
    for w in cfg["witnesses"]:
        dst = (w["address"], w["port"])
        requests = captured(cfg, dst=w["address"], dst_port=w["port"])
        stats["captured_requests_" + str(w["port"])] = len(requests)
        n = 0
        while n < per_witness:
            for sender in cfg["node_ids"]:
                for kind, e, lease in (("claim", epoch + 1, 500), ("release", epoch, 0),
                                       ("claim", epoch + 1, years), ("renew", epoch, years),
                                       ("claim", 2**63 - 1, years)):
                    body = witness_body(cfg, kind, sender, e, lease)
                    send_all(sock, seal(WRONG_KEY, body), dst, stats, "wrong_key_from_forger")
                    n += 1
            for g in requests[:2]:
                send_all(sock, g[0], dst, stats, "replay_from_forger")
                n += 1
            if n % 200 < 12:
                time.sleep(0.02)  # the witness is a single thread: no need to bury it
        # Spoofed from the node's own address:port (the allowed source): the MAC and the replay
        # guard decide.
        for g in requests[:3]:
            raw.send(g[1], g[2], g[3], g[4], g[0])
            stats["replay_spoofed"] = stats.get("replay_spoofed", 0) + 1
            body = witness_body(cfg, "claim", cfg["node_ids"][0], epoch + 1, years)
            raw.send(g[1], g[2], g[3], g[4], seal(WRONG_KEY, body))
            stats["wrong_key_spoofed"] = stats.get("wrong_key_spoofed", 0) + 1
        # The witnesses' captured answers, replayed to the nodes' witness clients.
        answers = captured(cfg, src=w["address"], src_port=w["port"])
        stats["captured_answers_" + str(w["port"])] = len(answers)
        for g in answers[:3]:
            send_all(sock, g[0], (g[3], g[4]), stats, "answer_replay_from_forger")
            raw.send(g[1], g[2], g[3], g[4], g[0])
            stats["answer_replay_spoofed"] = stats.get("answer_replay_spoofed", 0) + 1
    time.sleep(0.5)
    drain(sock, stats)
    return stats


def phase_mgcp(cfg):
    # Port 2427 like a real gateway; another when something holds it on the forger's address.
    try:
        sock = forger_socket(cfg, 2427)
    except OSError:
        sock = forger_socket(cfg)
    stats = {"forger_port": sock.getsockname()[1]}
    dst = (cfg["active_address"], cfg["active_mgcp"])
    tid = random.randint(100000, 900000)
    for rnd in range(int(cfg.get("rounds", 20))):
        for gw in cfg["gateways"]:
            tid += 1
            rsip = (f"RSIP {tid} *@{gw} MGCP 1.0\r\nRM: forced\r\n").encode()
            send_all(sock, rsip, dst, stats, "rsip_forced")
            tid += 1
            ntfy = (f"NTFY {tid} ds/ds1-1/{rnd % 23 + 1}@{gw} MGCP 1.0\r\nX: {tid:x}\r\n"
                    f"O: MT/sup(addr(5551001))\r\n").encode()
            send_all(sock, ntfy, dst, stats, "ntfy_seizure")
        for mta in cfg.get("mta_endpoints", []):
            tid += 1
            ntfy = (f"NTFY {tid} {mta} MGCP 1.0\r\nX: {tid:x}\r\nO: L/hd\r\n").encode()
            send_all(sock, ntfy, dst, stats, "ntfy_offhook_mta")
        time.sleep(0.1)
        drain(sock, stats)
    time.sleep(1.0)
    drain(sock, stats)
    return stats


def phase_responses(cfg):
    from scapy.all import AsyncSniffer
    sock, stats = forger_socket(cfg), {"answered_live": 0}
    dst = (cfg["active_address"], cfg["active_mgcp"])
    sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.66\r\ns=-\r\nc=IN IP4 127.0.0.66\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 0\r\n")
    state = {"tids": set(), "newest": 0}

    def forged(tid):
        return (f"200 {tid} OK\r\nI: {random.getrandbits(32):X}\r\n\r\n{sdp}").encode()

    def on_packet(p):
        if IP not in p or UDP not in p:
            return
        data = bytes(p[UDP].payload)
        parts = data.split(b" ", 2)
        if len(parts) < 2 or not parts[0].isalpha() or not parts[1].isdigit():
            return
        tid = int(parts[1])
        state["tids"].add(tid)
        state["newest"] = max(state["newest"], tid)
        try:
            sock.sendto(forged(tid), dst)
            stats["answered_live"] += 1
        except BlockingIOError:
            pass

    port, addr = int(cfg["active_mgcp"]), cfg["active_address"]
    # lfilter, not a BPF filter: no tcpdump or libpcap needed to compile one.
    sniffer = AsyncSniffer(iface="lo", store=False, prn=on_packet,
                           lfilter=lambda p: IP in p and UDP in p and p[UDP].sport == port and p[IP].src == addr)
    sniffer.start()
    end = time.monotonic() + cfg.get("duration", 5)
    sprayed = 0
    while time.monotonic() < end:
        if state["newest"]:
            for tid in range(state["newest"] + 1, state["newest"] + 40):
                send_all(sock, forged(tid), dst, stats, "sprayed")
                sprayed += 1
        time.sleep(0.05)
        drain(sock, stats)
    sniffer.stop()
    drain(sock, stats)
    tids = sorted(state["tids"])
    stats["commands_sniffed"] = len(tids)
    stats["tid_range"] = [tids[0], tids[-1]] if tids else []
    stats["forger_port"] = sock.getsockname()[1]
    return stats


def phase_flood(cfg):
    raw, stats = Raw4(), {}
    sock = forger_socket(cfg)
    dst_addr, dport = cfg["active_address"], cfg["active_mgcp"]
    pps = int(cfg.get("pps", 3000))
    spoof_src, spoof_port = cfg["spoof_address"], int(cfg["spoof_port"])
    rng = random.Random(66)
    # Pre-built packets: garbage, half of it looking almost like MGCP.
    pool = []
    for i in range(256):
        if i % 2:
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400)))
        else:
            body = (f"NTFY {rng.randint(1, 10**9)} aaln/1@mta-0001.cable.example MGCP 1.0\r\n"
                    f"O: {'%' * rng.randint(1, 50)}\r\nX: \x00\r\n").encode()
        pool.append((body, bytes(IP(src=spoof_src, dst=dst_addr) / UDP(sport=spoof_port, dport=dport) / Raw(load=body))))
    end = time.monotonic() + cfg.get("duration", 4)
    tick, i = 0.01, 0
    per_tick = max(1, int(pps * tick / 2))
    while time.monotonic() < end:
        t0 = time.monotonic()
        for _ in range(per_tick):
            body, pkt = pool[i % len(pool)]
            raw.send_bytes(dst_addr, pkt)
            send_all(sock, pool[(i * 7) % len(pool)][0], (dst_addr, dport), stats, "garbage_from_forger")
            i += 1
        drain(sock, stats)
        rest = tick - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
    stats["spoofed_mta"] = raw.sent
    stats["forger_port"] = sock.getsockname()[1]
    time.sleep(0.3)
    drain(sock, stats)
    return stats


def main():
    phase, cfg = sys.argv[1], json.loads(sys.argv[2])
    cfg.setdefault("forger", "127.0.0.66")
    fn = {"heartbeat": phase_heartbeat, "late": phase_late, "witness": phase_witness,
          "mgcp": phase_mgcp, "responses": phase_responses, "flood": phase_flood}[phase]
    print(json.dumps(fn(cfg), sort_keys=True))


if __name__ == "__main__":
    main()
