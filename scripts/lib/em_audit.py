#!/usr/bin/env python3
"""The RKS's Event Messages against the nodes' billing outboxes (scripts/lib/rks.sh rks_audit).

    em_audit.py RKS_DB [--prunable-before-ms MS] [OUTBOX_DB...]     prints one JSON object

How EMs map to outbox records (docs/billing.md): the EMs of the outbox record with sequence R
carry EM sequence numbers 8R + slot (slot 0..7), and the BCID of a call's half has the event
counter 2S (originating) or 2S + 1 (terminating), S = the sequence of the call's signaling_start
record. The RKS stores an EM once per (BCID, EM type, sequence), so "exactly once" at the RKS
means: every outbox record is there (missing = 0), the RKS holds no record the outbox does not
know (unknown = 0) and every EM it holds is one the outbox record of that number produces
(inconsistent = 0: a record renumbered by a second sender would show here or as unknown).

Figures:
  ems              EM rows at the RKS
  records          distinct records (EM sequence / 8) at the RKS
  calls_stopped    calls whose originating Signaling_Stop (slot 2) is stored (distinct BCIDs)
  answered_without_stop  originating BCIDs with a Call_Answer but no Signaling_Stop
  outboxes[i]      per OUTBOX_DB: records, signaling_stops, unsent, missing (outbox records
                   without EMs at the RKS), unknown (RKS records not in the outbox; with
                   --prunable-before-ms, records older than MS (epoch ms) are not counted: the
                   node may have pruned them), inconsistent (RKS records whose EMs do not fit
                   the outbox record of that number), and a few examples of each.
"""
import calendar
import json
import sqlite3
import sys
import time

SIGNALING_START, SIGNALING_STOP = 1, 2
INTERCONNECT_START, INTERCONNECT_STOP = 13, 14
CALL_ANSWER, CALL_DISCONNECT = 15, 16
STARTS = (SIGNALING_START, INTERCONNECT_START)
STOPS = (SIGNALING_STOP, INTERCONNECT_STOP)


def fits(event, slot, em_type):
    """Whether an outbox record of EVENT can produce EM_TYPE in SLOT (docs/billing.md table)."""
    if event == "signaling_start":
        return slot == 0 and em_type in STARTS
    if event == "call_answer":
        return (slot == 0 and em_type in STARTS) or (slot in (1, 2) and em_type == CALL_ANSWER)
    if event == "signaling_stop":
        return ((slot == 0 and em_type in STARTS + (CALL_DISCONNECT,))
                or (slot == 1 and em_type == CALL_DISCONNECT)
                or (slot in (2, 3) and em_type in STOPS))
    return False


def em_time_ms(event_time, received_at):
    """The EM's event time (yyyymmddhhmmss.mmm, UTC) in epoch ms; else when the RKS got it."""
    for text, fmt in ((event_time, "%Y%m%d%H%M%S"), (received_at, "%Y-%m-%dT%H:%M:%S")):
        try:
            whole, _, frac = (text or "").rstrip("Z").partition(".")
            t = calendar.timegm(time.strptime(whole, fmt))
            return t * 1000 + int((frac + "000")[:3] or 0)
        except ValueError:
            continue
    return 0


def connect(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    return con


def main(argv):
    prunable_before_ms = None
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--prunable-before-ms":
            prunable_before_ms = int(argv[i + 1])
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if not args:
        sys.exit(__doc__)
    rks_db, outbox_dbs = args[0], args[1:]

    rows = connect(rks_db).execute(
        "SELECT bcid, bcid_counter, em_type, sequence, event_time, received_at "
        "FROM event_message").fetchall()
    by_record = {}  # R -> [(slot, em_type, counter, time_ms)]
    stopped, answered = set(), set()
    for bcid, counter, em_type, seq, event_time, received_at in rows:
        r, slot = seq // 8, seq % 8
        by_record.setdefault(r, []).append((slot, em_type, counter, em_time_ms(event_time, received_at)))
        if slot == 2 and em_type in STOPS:
            stopped.add(bcid)
        if em_type == CALL_ANSWER and counter % 2 == 0:
            answered.add(bcid)
    out = {"ems": len(rows), "records": len(by_record), "calls_stopped": len(stopped),
           "answered_without_stop": len(answered - stopped), "outboxes": []}

    for path in outbox_dbs:
        con = connect(path)
        recs = {seq: (event, call_id, sent) for seq, event, call_id, sent in con.execute(
            "SELECT sequence, event, call_id, sent FROM billing_outbox")}
        call_start = {call_id: seq for seq, (event, call_id, _) in recs.items()
                      if event == "signaling_start"}
        missing = sorted(r for r in recs if r not in by_record)
        unknown, inconsistent = [], []
        for r, ems in sorted(by_record.items()):
            if r not in recs:
                if prunable_before_ms is None or max(e[3] for e in ems) >= prunable_before_ms:
                    unknown.append(r)
                continue
            event, call_id, _ = recs[r]
            s = call_start.get(call_id)  # None: the call's start was pruned (any counter fits)
            for slot, em_type, counter, _ in ems:
                if not fits(event, slot, em_type) or (s is not None and counter // 2 != s % 2**31):
                    inconsistent.append(r)
                    break
        out["outboxes"].append({
            "db": path, "records": len(recs),
            "signaling_stops": sum(1 for e, _, _ in recs.values() if e == "signaling_stop"),
            "unsent": sum(1 for _, _, sent in recs.values() if not sent),
            "missing": len(missing), "unknown": len(unknown), "inconsistent": len(inconsistent),
            "examples": {"missing": missing[:5], "unknown": unknown[:5],
                         "inconsistent": inconsistent[:5]}})
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
