#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks drbdsetup output against the real grammar, for the lab tests.

    e2grammar.py events2 FILE [--fixture F] [--statistics] [--timestamps] [--dump]
        every line of FILE follows the events2 grammar (GRAMMAR.md §2);
        identity keys come first in their order; with --fixture, the keys of
        each object type come in the same order as in the fixture's `exists`
        lines (keys the fixture lacks may only be appended); --statistics:
        the counters are there (absent without); --dump: FILE is an initial
        dump (exists lines in resource -> connection -> device -> peer-device
        order, ending with `exists -`).
    e2grammar.py status-json FILE FIXTURE
        FILE is JSON with the same key paths, in the same order, as FIXTURE
        (drbdsetup status --json).
Exit 0 when all holds; otherwise one line per problem on stderr, exit 1.
"""

import json
import re
import sys

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d"
VERBS = ("exists", "create", "change", "destroy", "call", "response")
IDENT = {
    "path": ["name", "peer-node-id", "conn-name", "local", "peer"],
    "helper": ["name"],
    "resource": ["name"],
    "connection": ["name", "peer-node-id", "conn-name"],
    "device": ["name", "volume", "minor"],
    "peer-device": ["name", "peer-node-id", "conn-name", "volume"],
}
STAT_KEYS = {"write-ordering", "congested", "ap-in-flight", "rs-in-flight", "size", "read",
             "written", "al-writes", "bm-writes", "upper-pending", "lower-pending",
             "al-suspended", "blocked", "received", "sent", "out-of-sync", "pending",
             "unacked", "dbdt1", "eta"}
KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
VALUE_RE = re.compile(r"^[\x21-\x7e]+$")


def parse(line, timestamps):
    """-> (verb, object, [(k, v)]) or raises ValueError."""
    toks = line.split(" ")
    if timestamps:
        if not toks or not re.fullmatch(TS, toks[0]):
            raise ValueError("no timestamp")
        toks = toks[1:]
    if toks == ["exists", "-"]:
        return "exists", "-", []
    if len(toks) < 3 or toks[0] not in VERBS or toks[1] not in IDENT:
        raise ValueError("bad verb/object")
    pairs = []
    for t in toks[2:]:
        k, sep, v = t.partition(":")
        if not sep or not KEY_RE.match(k) or not VALUE_RE.match(v):
            raise ValueError("bad token %r" % t)
        pairs.append((k, v))
    keys = [k for k, _ in pairs]
    ident = IDENT[toks[1]] if toks[0] != "destroy" or toks[1] != "device" else ["name", "volume"]
    if (toks[1] == "helper") != (toks[0] in ("call", "response")):
        raise ValueError("%s %s" % (toks[0], toks[1]))
    if keys[:len(ident)] != ident:
        raise ValueError("identity keys %s, expected %s first" % (keys[:len(ident)], ident))
    if toks[0] == "destroy" and len(keys) != len(ident):
        raise ValueError("destroy with more than identity keys")
    return toks[0], toks[1], pairs


def fixture_order(path):
    order = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            try:
                verb, obj, pairs = parse(line, bool(re.match(TS, line)))
            except ValueError:
                continue
            if verb == "exists" and obj != "-" and obj not in order:
                order[obj] = [k for k, _ in pairs]
    return order


def check_events2(args):
    path = args[0]
    fixture = args[args.index("--fixture") + 1] if "--fixture" in args else None
    stats, timestamps, dump = "--statistics" in args, "--timestamps" in args, "--dump" in args
    errors = []
    order = fixture_order(fixture) if fixture else {}
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        errors.append("no output")
    seq = []
    for i, line in enumerate(lines, 1):
        try:
            verb, obj, pairs = parse(line, timestamps)
        except ValueError as e:
            errors.append("line %d: %s: %s" % (i, e, line[:200]))
            continue
        seq.append((verb, obj, pairs))
        keys = [k for k, _ in pairs]
        if verb in ("exists", "create") and obj in order:
            want = [k for k in order[obj] if stats or k not in STAT_KEYS]
            if keys[:len(want)] != want:
                errors.append("line %d: %s keys %s, fixture order %s" % (i, obj, keys, want))
        if verb in ("exists", "create") and obj in ("resource", "connection", "device", "peer-device"):
            has_stats = any(k in STAT_KEYS for k in keys)
            if stats and obj != "-" and not has_stats:
                errors.append("line %d: no statistics" % i)
            if not stats and has_stats:
                errors.append("line %d: statistics without --statistics" % i)
    if dump:
        if not seq or seq[-1][:2] != ("exists", "-"):
            errors.append("dump does not end with 'exists -'")
        rank = {"resource": 0, "connection": 1, "device": 2, "peer-device": 3}
        last = None
        for verb, obj, pairs in seq[:-1]:
            if verb != "exists":
                errors.append("dump has a %s line" % verb)
                continue
            name = dict(pairs)["name"]
            if last and last[0] == name and rank[obj] < last[1]:
                errors.append("dump order: %s after rank %d for %s" % (obj, last[1], name))
            last = (name, rank[obj])
    return errors


def key_paths(doc, prefix=""):
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append(prefix + "/" + k)
            out += key_paths(v, prefix + "/" + k)
    elif isinstance(doc, list) and doc:
        out += key_paths(doc[0], prefix + "[]")
    return out


def check_status_json(args):
    errors = []
    try:
        doc = json.load(open(args[0], encoding="utf-8"))
    except ValueError as e:
        return ["not JSON: %s" % e]
    ref = json.load(open(args[1], encoding="utf-8"))
    if not isinstance(doc, list) or not doc:
        return ["not a non-empty JSON array"]
    got, want = key_paths(doc[0]), key_paths(ref[0])
    if got != want:
        errors.append("key paths differ from %s:\n  got  %s\n  want %s"
                      % (args[1], [p for p in got if p not in want], [p for p in want if p not in got])
                      if set(got) != set(want) else "key order differs from %s" % args[1])
    return errors


def main(argv):
    if len(argv) < 2 or argv[0] not in ("events2", "status-json"):
        sys.stderr.write(__doc__)
        return 2
    errors = (check_events2 if argv[0] == "events2" else check_status_json)(argv[1:])
    for e in errors:
        sys.stderr.write(e + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
