#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""snapjson.py - reads `twinsnap --json` snapshot output for the lab tests
(tests/lab/lib.sh wraps it).  The JSON comes on stdin.

  rows                      the `snapshot list` rows, one canonical JSON
                            line each (keys sorted), sorted by id
  ids                       "ID STATE" per row, sorted by id
  state ID                  the row's state, or "absent"
  events ID [--after SEQ]   "SEQ KIND REASON" for the snapshot's events
                            (REASON "-" when empty); ID "*": every snapshot
  maxseq                    the highest event seq (0 without events)
  snapids --after SEQ       the snapshot ids named by events after SEQ
  orphans NODE PIECES       S3 on NODE: PIECES is a file of `twinsnap-lab
                            pieces NODE` lines; prints each problem,
                            exit 1 if any
"""

import json
import sys


def load():
    text = sys.stdin.read()
    try:
        return json.loads(text)
    except ValueError as e:
        sys.exit("snapjson: not JSON (%s): %.300s" % (e, text))


def rows(doc):
    return sorted(doc["snapshots"], key=lambda r: r["id"])


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd = argv[0]
    doc = load()
    if cmd == "rows":
        for r in rows(doc):
            print(json.dumps(r, sort_keys=True))
    elif cmd == "ids":
        for r in rows(doc):
            print(r["id"], r["state"])
    elif cmd == "state":
        found = [r["state"] for r in doc["snapshots"] if r["id"] == argv[1]]
        print(found[0] if found else "absent")
    elif cmd == "events":
        after = int(argv[3]) if len(argv) > 3 and argv[2] == "--after" else 0
        for e in doc["events"]:
            if (argv[1] == "*" or e["snapshot"] == argv[1]) and e["seq"] > after:
                print(e["seq"], e["kind"], e["reason"] or "-")
    elif cmd == "snapids":
        after = int(argv[2]) if len(argv) > 2 and argv[1] == "--after" else 0
        for sid in sorted({e["snapshot"] for e in doc["events"]
                           if e["seq"] > after and e["snapshot"]}):
            print(sid)
    elif cmd == "maxseq":
        print(max([e["seq"] for e in doc["events"]] or [0]))
    elif cmd == "orphans":
        node, pieces_file = argv[1], argv[2]
        pieces = set()
        with open(pieces_file, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    sid, vol, _ = line.split(" ", 2)
                    pieces.add((sid, vol))
        by_id = {r["id"]: r for r in doc["snapshots"]}
        bad = []
        for sid, vol in sorted(pieces):
            r = by_id.get(sid)
            if r is None:
                bad.append("%s: piece %s/%s belongs to no row" % (node, sid, vol))
            elif vol not in r["volumes"]:
                bad.append("%s: piece %s/%s is not a volume of its row (%s)"
                           % (node, sid, vol, ",".join(r["volumes"])))
        for r in rows(doc):
            if r["state"] != "normal":
                continue
            if node not in r["committed_on"]:
                bad.append("%s: normal row %s is not committed on %s (committed_on %s)"
                           % (node, r["id"], node, r["committed_on"]))
                continue
            for vol in r["volumes"]:
                if (r["id"], vol) not in pieces:
                    bad.append("%s: normal row %s has no piece %s here" % (node, r["id"], vol))
        for b in bad:
            print(b)
        return 1 if bad else 0
    else:
        sys.exit("snapjson: unknown command %s" % cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
