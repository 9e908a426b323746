#!/usr/bin/env python3
# The cost of synchronous=FULL against NORMAL for a WAL group commit like the billing writer's, on the
# disk of DIR (default: the current directory). docs/persistence.md, "Durability".
#   scripts/bench-fsync.py [DIR]
import os
import sqlite3
import sys
import time

if len(sys.argv) > 1:
    os.chdir(sys.argv[1])


def run(sync, batch, commits=400):
    path = f"b-{sync}-{batch}.db"
    for suffix in ("", "-wal", "-shm"):
        try: os.remove(path + suffix)
        except FileNotFoundError: pass
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={sync}")
    db.execute("CREATE TABLE o(seq INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT UNIQUE, body TEXT)")
    body = "x" * 300
    n = 0
    t0 = time.perf_counter()
    for c in range(commits):
        db.execute("BEGIN IMMEDIATE")
        for i in range(batch):
            db.execute("INSERT INTO o(record_id, body) VALUES (?, ?)", (f"r{n}", body)); n += 1
        db.execute("COMMIT")
    dt = time.perf_counter() - t0
    db.close()
    for suffix in ("", "-wal", "-shm"):
        try: os.remove(path + suffix)
        except FileNotFoundError: pass
    return dt / commits * 1e6, dt / n * 1e6
for batch in (1, 10, 50):
    for sync in ("NORMAL", "FULL"):
        per_commit, per_record = run(sync, batch)
        print(f"batch={batch:3d} sync={sync:6s} {per_commit:9.1f} us/commit {per_record:8.1f} us/record")
