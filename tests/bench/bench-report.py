#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench-report.py WORKDIR RESULTS_JSON — the statistics of make bench.

Reads the raw figures tests/bench/run-bench left in WORKDIR, writes
RESULTS_JSON (the keys of issue 5, then the breakdown and the raw component
figures under extra keys) and prints the table.  A figure that could not be
measured is null, with the reason under "notes".  Percentiles are
nearest-rank, as the C programs compute them (bench_util.c).
"""
import json
import math
import os
import re
import sys

TIMING = re.compile(r"snapshot ([0-9a-f]{32}): timing total_ms=([0-9.]+) precheck_ms=([0-9.]+) "
                    r"quiesce_ms=([0-9.]+) pieces_ms=([0-9.]+) commit_ms=([0-9.]+)")
HOLD = re.compile(r"snapshot ([0-9a-f]{32}): hold prepare_ms=([0-9.]+) suspend_ms=([0-9.]+) "
                  r"drain_ms=([0-9.]+) frozen_ms=([0-9.]+) release_ms=([0-9.]+) resume_ms=([0-9.]+)")
HOLD_PARTS = ("prepare", "suspend", "drain", "frozen", "release", "resume")
RESUMED = re.compile(r"snapshot ([0-9a-f]{32}): I/O of \S+ resumed after ([0-9]+) ms")
PHASES = ("total", "precheck", "quiesce", "pieces", "commit")

# issue 5's targets: key, comparison, value
TARGETS = {
    "ratio_p50": ("<=", 2),
    "snapshot_latency_ms.p99": ("<=", 20),
    "freeze_ms.p99": ("<=", 10),
    "throughput_100vm_s": ("<=", 2),
    "list_100k_ms": ("<=", 200),
    "rss_mib": ("<=", 64),
    "restart_ms": ("<=", 1000),
}


def rank(sorted_v, pct):
    k = (pct * len(sorted_v) + 99) // 100
    return sorted_v[max(k, 1) - 1]


def stats(values):
    """{n, min, p50, p90, p99, max, mean} in ms, or None without values."""
    v = sorted(values)
    if not v:
        return None
    r = lambda x: round(x, 3)
    return {"n": len(v), "min": r(v[0]), "p50": r(rank(v, 50)), "p90": r(rank(v, 90)),
            "p99": r(rank(v, 99)), "max": r(v[-1]), "mean": r(sum(v) / len(v))}


def from_c(s):
    """bench_util's {n, min_ms, ...} as stats()'s keys."""
    return {k[:-3] if k.endswith("_ms") else k: v for k, v in s.items()} if s else None


class Work:
    def __init__(self, d):
        self.d = d
        self.notes = []

    def path(self, name):
        return os.path.join(self.d, name)

    def exists(self, name):
        return os.path.exists(self.path(name))

    def lines(self, name):
        try:
            with open(self.path(name), encoding="utf-8", errors="replace") as f:
                return [l.rstrip("\n") for l in f if l.strip()]
        except OSError:
            return []

    def json(self, name):
        try:
            with open(self.path(name), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def kv(self, name):
        out = {}
        for l in self.lines(name):
            k, _, v = l.partition(" ")
            out[k] = v
        return out


def timed(w, name):
    """START END RC ... lines: (ms, rc, rest) each."""
    out = []
    for l in w.lines(name):
        f = l.split()
        out.append(((float(f[1]) - float(f[0])) * 1000, int(f[2]), f[3:]))
    return out


def agent_timings(w, tag, ids):
    """Per PM, per phase: the stats of the agents' timing lines for ids."""
    res, found = {}, 0
    for node in ("pm1", "pm2"):
        per = {p: [] for p in PHASES}
        for l in w.lines("%s-%s.log" % (tag, node)):
            m = TIMING.search(l)
            if m and (ids is None or m.group(1) in ids):
                for p, v in zip(PHASES, m.groups()[1:]):
                    per[p].append(float(v))
        found += len(per["total"])
        res[node] = {p + "_ms": stats(v) for p, v in per.items()}
    return res if found else None


def hold_parts(w, tag, ids):
    """The primary's (pm1's) 'hold' lines for ids: the stats of each part."""
    per = {p: [] for p in HOLD_PARTS}
    for l in w.lines("%s-pm1.log" % tag):
        m = HOLD.search(l)
        if m and (ids is None or m.group(1) in ids):
            for p, v in zip(HOLD_PARTS, m.groups()[1:]):
                per[p].append(float(v))
    return {p + "_ms": stats(v) for p, v in per.items()} if per["prepare"] else None


def agent_holds(w, tag, ids):
    v = []
    for l in w.lines("%s-pm1.log" % tag):
        m = RESUMED.search(l)
        if m and m.group(1) in ids:
            v.append(float(m.group(2)))
    return stats(v)


def freeze_windows(w, tag, node="pm1", vm="vm1"):
    """holds.log (END NODE RES HELD_MS BY): one window per snapshot on the
    primary, from the first resource's suspend-io to the last's resume-io.
    Snapshots run one after another, so a resource seen again starts the
    next window."""
    windows, per_res, cur = [], [], {}

    def close():
        if cur:
            windows.append((max(e for e, _ in cur.values())
                            - min(e - h / 1000.0 for e, h in cur.values())) * 1000)
    for l in w.lines("%s-holds.log" % tag):
        f = l.split()
        if len(f) < 5 or f[1] != node or not f[2].startswith(vm + "-"):
            continue
        end, held = float(f[0]), float(f[3])
        per_res.append(held)
        if f[2] in cur:
            close()
            cur = {}
        cur[f[2]] = (end, held)
    close()
    return stats(windows), stats(per_res)


def outside_agent(w, tag, rows):
    """Per snapshot: end to end minus the origin agent's (pm1's) own total,
    i.e. the CLI's start and IPC, the origin's preparation (libvirt, store
    sizes) and the CREATE's delivery."""
    total = {}
    for l in w.lines("%s-pm1.log" % tag):
        m = TIMING.search(l)
        if m:
            total[m.group(1)] = float(m.group(2))
    return stats([ms - total[rest[0]] for ms, rc, rest in rows
                  if rc == 0 and rest and rest[0] in total])


def series(w, tag):
    """A create series: end-to-end stats, failures, the ids made."""
    rows = timed(w, "%s.tsv" % tag)
    ok = [ms for ms, rc, rest in rows if rc == 0]
    ids = {rest[0] for ms, rc, rest in rows if rc == 0 and rest and rest[0] != "-"}
    failed = {}
    for ms, rc, rest in rows:
        if rc != 0:
            code = rest[1] if len(rest) > 1 else "-"
            failed["%d %s" % (rc, code)] = failed.get("%d %s" % (rc, code), 0) + 1
    return {"requested": len(rows), "normal": len(ok), "failed": failed,
            "end_to_end_ms": stats(ok), "outside_agent_ms": outside_agent(w, tag, rows)}, ids


def main(workdir, out_path):
    w = Work(workdir)
    parts = (w.lines("parts") or [""])[0].split()
    mach = w.kv("machine.txt")
    r = {
        "floor_ms": {"p50": None, "p99": None},
        "snapshot_latency_ms": {"p50": None, "p99": None, "max": None},
        "ratio_p50": None,
        "freeze_ms": {"p50": None, "p99": None},
        "throughput_100vm_s": None,
        "list_100k_ms": None,
        "rss_mib": None,
        "restart_ms": None,
        "machine": {"cores": int(mach["cores"]) if mach.get("cores") else None,
                    "kernel": mach.get("kernel")},
    }
    extra = {"machine": {k: mach.get(k) for k in ("cpu", "mem_mib", "load_start", "load_end",
                                                   "other_netns", "date", "commit")},
             "parts": parts}
    data = w.kv("data.txt")
    if data:
        extra["vm1_data"] = {"mib": int(data["data_mib"]),
                             "extents": int(data["data_extents"]) if data.get("data_extents") else None}

    # -- floor
    if "floor" in parts:
        rtt = w.json("cpg_rtt.json")
        loc = w.json("floor_local.json")
        comp = {"cpg_rtt": dict(from_c(rtt["rtt"]), size=rtt["size"]) if rtt else None,
                "local": {k: from_c(loc[k]) for k in ("round", "store", "catalog")} if loc else None}
        drbd = [ms for ms, rc, _ in timed(w, "drbdsetup.tsv") if rc == 0]
        cli = [ms for ms, rc, _ in timed(w, "cli_status.tsv") if rc == 0]
        comp["lab_drbdsetup_call_ms"] = stats(drbd)
        comp["cli_status_roundtrip_ms"] = stats(cli)
        extra["floor"] = comp
        if rtt and loc:
            r["floor_ms"] = {"p50": round(comp["cpg_rtt"]["p50"] + comp["local"]["round"]["p50"], 3),
                             "p99": round(comp["cpg_rtt"]["p99"] + comp["local"]["round"]["p99"], 3)}
        else:
            w.notes.append("floor: %s failed (see cpg_rtt.err, floor_local.err)"
                           % ("cpg_rtt" if not rtt else "floor_local"))

    # -- latency
    if "latency" in parts:
        s, ids = series(w, "latency")
        s["phases"] = agent_timings(w, "latency", ids)
        s["hold_parts"] = hold_parts(w, "latency", ids)
        s["agent_io_hold_ms"] = agent_holds(w, "latency", ids)
        win, per_res = freeze_windows(w, "latency")
        s["freeze_window_idle_ms"] = win
        if s["phases"] is None:
            w.notes.append("latency: the agents logged no 'timing' lines: no per-phase breakdown")
        extra["latency"] = s
        e = s["end_to_end_ms"]
        if e:
            r["snapshot_latency_ms"] = {"p50": e["p50"], "p99": e["p99"], "max": e["max"]}
            if r["floor_ms"]["p50"]:
                r["ratio_p50"] = round(e["p50"] / r["floor_ms"]["p50"], 2)
        drbd = extra.get("floor", {}).get("lab_drbdsetup_call_ms")
        if e and drbd:
            # What the lab's drbdsetup (a python stand-in) adds at least, for
            # the agent as it is: suspend-io of the minors at once, one drain
            # read, resume-io of the minors at once -- three calls one after
            # another on the primary (a real drbdsetup costs ~1 ms a call).
            calls = 3
            s["lab_drbdsetup_estimate"] = {
                "serial_calls_per_snapshot": calls,
                "ms_at_p50_call": round(calls * drbd["p50"], 1),
                "end_to_end_p50_minus_it_ms": round(e["p50"] - calls * drbd["p50"], 1)}

    # -- freeze
    if "freeze" in parts:
        s, ids = series(w, "freeze")
        win, per_res = freeze_windows(w, "freeze")
        s["freeze_window_ms"] = win
        s["hold_per_resource_ms"] = per_res
        s["agent_io_hold_ms"] = agent_holds(w, "freeze", ids)
        s["phases"] = agent_timings(w, "freeze", ids)
        s["hold_parts"] = hold_parts(w, "freeze", ids)
        extra["freeze"] = s
        if win:
            r["freeze_ms"] = {"p50": win["p50"], "p99": win["p99"]}
        elif w.lines("freeze-holds.log") == []:
            w.notes.append("freeze: $LAB/drbd/holds.log has no holds (stand-in without hold "
                           "logging?): freeze_ms from the agents' 'I/O resumed after' lines instead"
                           if s["agent_io_hold_ms"] else "freeze: no hold measured")
            if s["agent_io_hold_ms"]:
                a = s["agent_io_hold_ms"]
                r["freeze_ms"] = {"p50": a["p50"], "p99": a["p99"]}

    # -- scale
    if "scale" in parts:
        sc = {}
        for l in w.lines("ready.txt"):
            tag, ms, status_ms, running_ms, probe = l.split()
            n = lambda v: None if v == "-1" else int(v)
            sc[tag] = {"ready_ms": n(ms), "status_answers_ms": n(status_ms),
                       "both_running_ms": n(running_ms), "probe_refusal": probe}
        lists = []
        for l in w.lines("list.tsv"):
            f = l.split()
            li = {"node": f[3], "ms": round((float(f[1]) - float(f[0])) * 1000, 1),
                  "exit": int(f[2]), "bytes": int(f[4]), "rows": int(f[5])}
            if li["exit"] != 0:
                k = f[6] if len(f) > 6 else "?"
                li["stderr"] = " ".join(w.lines("list-%s.err" % k))[:300]
                li["stdout_head"] = " ".join(w.lines("list-%s.head" % k))[:300]
            lists.append(li)
        sc["list"] = lists
        rss = {}
        for l in w.lines("rss.txt"):
            f = l.split()
            if len(f) == 4:
                rss.setdefault(f[0], {})[f[1]] = {"rss_mib": round(int(f[2]) / 1024, 1),
                                                  "hwm_mib": round(int(f[3]) / 1024, 1)}
        sc["rss"] = rss
        sc["fill"] = [l for n in ("pm1", "pm2") for l in w.lines("fill-%s.log" % n)]
        m = re.match(r"(\d+) rows", sc["fill"][0]) if sc["fill"] else None
        sc["rows"] = int(m.group(1)) if m else None
        cr = timed(w, "scale-create.tsv")
        if cr:
            out = " ".join(w.lines("scale-create.out"))
            code = re.search(r'"code":"([a-z_]+)"', out)
            sc["create_after"] = {"ms": round(cr[0][0], 1), "exit": cr[0][1],
                                  "code": code.group(1) if code else None}
        probs = []
        for n in ("pm1", "pm2"):
            for l in w.lines("scale-%s.log" % n):
                if re.search(r" (warning|err|error|crit|alert|emerg) ", l) and len(probs) < 40:
                    probs.append("%s: %s" % (n, l[:300]))
        sc["agent_log_problems"] = probs
        extra["scale"] = sc
        ok_lists = [li["ms"] for li in lists if li["exit"] == 0 and li["node"] == "pm1"]
        if ok_lists:
            r["list_100k_ms"] = stats(ok_lists)["p50"]
        else:
            w.notes.append("scale: `snapshot list` failed on %s rows (extra.scale.list)" % sc["rows"])
        full = rss.get("full") or rss.get("after_create")
        if full:
            r["rss_mib"] = max(v["rss_mib"] for v in full.values())
            sc["rss_peak_mib"] = max(v["hwm_mib"] for v in full.values())
        rf = sc.get("restart_full", {}).get("ready_ms")
        r["restart_ms"] = rf
        if rf is None:
            w.notes.append("scale: pm1's agent was not ready after its restart (extra.scale)")

    for tag in ("latency", "freeze"):
        f = extra.get(tag, {}).get("failed")
        if f:
            w.notes.append("%s: creates that did not end normal: %s (the agents' logs: %s-pm1.log)"
                           % (tag, ", ".join("%d x exit %s" % (k, e) for e, k in sorted(f.items())), tag))
    sc = extra.get("scale", {})
    for tag in ("restart_full", "start_both"):
        p = sc.get(tag, {}).get("probe_refusal")
        if p and p not in ("uefi_firmware", "-"):
            w.notes.append("scale: %s: the readiness probe was refused with %s, not uefi_firmware"
                           % (tag, p))

    # -- throughput
    if "throughput" in parts:
        th = {}
        acc = w.lines("storm-accepted.tsv")
        nor = w.lines("storm-normal.tsv")
        sd = w.path("storm")
        attempts, refused, failed, ids = [], {}, {}, set()
        if os.path.isdir(sd):
            for name in sorted(os.listdir(sd)):
                for l in w.lines(os.path.join("storm", name)):
                    if name.endswith(".refused"):
                        refused[l] = refused.get(l, 0) + 1
                        continue
                    f = l.split()
                    attempts.append(int(f[0]))
                    if f[1] == "ok":
                        ids.add(f[2])
                    else:
                        failed[f[2]] = failed.get(f[2], 0) + 1
        th["vms"] = len(attempts)
        th["refusals_retried"] = refused
        th["failed"] = failed
        th["max_attempts"] = max(attempts) if attempts else None
        if acc:
            s, e = map(float, acc[0].split()[:2])
            th["all_accepted_s"] = round(e - s, 3)
        if nor:
            f = nor[0].split()
            th["normal_on_pm1"], th["normal_on_pm2"], th["wanted"] = int(f[2]), int(f[3]), int(f[4])
            if int(f[2]) >= int(f[4]) and int(f[3]) >= int(f[4]):
                r["throughput_100vm_s"] = round(float(f[1]) - float(f[0]), 3)
                th["all_normal_s"] = r["throughput_100vm_s"]
            else:
                w.notes.append("throughput: not all normal within the timeout (%s/%s on pm1, %s on pm2)"
                               % (f[2], f[4], f[3]))
        th["phases"] = agent_timings(w, "storm", ids)
        th["lab_drbdsetup_call_ms"] = stats(
            [ms for ms, rc, _ in timed(w, "storm-drbdsetup.tsv") if rc == 0])
        extra["throughput"] = th

    targets = {}
    for key, (op, lim) in TARGETS.items():
        cur = r
        for k in key.split("."):
            cur = cur.get(k) if isinstance(cur, dict) else None
        targets[key] = {"target": "%s %s" % (op, lim), "value": cur,
                        "met": None if cur is None else cur <= lim}
    r["targets"] = targets
    r["extra"] = extra
    r["notes"] = w.notes
    with open(out_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(r, f, indent=2)
        f.write("\n")
    os.replace(out_path + ".tmp", out_path)
    print_table(r)


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isnan(v):
        v = ("%.1f" % v) if abs(v) >= 10 else ("%.2f" % v)
    return "%s%s" % (v, unit)


def print_table(r):
    x = r["extra"]
    t = r["targets"]
    rows = []

    def row(name, value, key=None):
        tgt = t.get(key, {}) if key else {}
        met = tgt.get("met")
        rows.append((name, value, tgt.get("target", ""),
                     "" if not key else "-" if met is None else "yes" if met else "MISSED"))

    def hold_row(h):
        if h:
            row("  pm1 hold: prepare/suspend/drain/frozen/release/resume p50",
                " / ".join(fmt((h[p + "_ms"] or {}).get("p50")) for p in HOLD_PARTS) + " ms")

    fl = x.get("floor", {})
    if fl:
        c = fl.get("cpg_rtt") or {}
        lo = (fl.get("local") or {}).get("round") or {}
        row("CPG round trip p50 / p99", "%s / %s ms" % (fmt(c.get("p50")), fmt(c.get("p99"))))
        row("local reflink+fsync+catalog p50 / p99", "%s / %s ms" % (fmt(lo.get("p50")), fmt(lo.get("p99"))))
        row("floor p50 / p99", "%s / %s ms" % (fmt(r["floor_ms"]["p50"]), fmt(r["floor_ms"]["p99"])))
        d = fl.get("lab_drbdsetup_call_ms") or {}
        row("lab drbdsetup call p50 (stand-in)", "%s ms" % fmt(d.get("p50")))
    s = r["snapshot_latency_ms"]
    if x.get("latency"):
        n = x["latency"]
        row("snapshot latency p50 / p99 / max", "%s / %s / %s ms (%d of %d normal%s)"
            % (fmt(s["p50"]), fmt(s["p99"]), fmt(s["max"]), n["normal"], n["requested"],
               "".join("; %d exit %s" % (k, e) for e, k in sorted(n["failed"].items()))),
            "snapshot_latency_ms.p99")
        row("ratio p50 (snapshot / floor)", fmt(r["ratio_p50"]), "ratio_p50")
        ph = (n.get("phases") or {}).get("pm1")
        if ph:
            row("  pm1 precheck/quiesce/pieces/commit p50",
                " / ".join(fmt((ph[p + "_ms"] or {}).get("p50")) for p in PHASES[1:]) + " ms")
        ph = (n.get("phases") or {}).get("pm2")
        if ph:
            row("  pm2 precheck/quiesce/pieces/commit p50",
                " / ".join(fmt((ph[p + "_ms"] or {}).get("p50")) for p in PHASES[1:]) + " ms")
        o = n.get("outside_agent_ms")
        if o:
            row("  outside the agent (CLI, origin prep) p50", "%s ms" % fmt(o["p50"]))
        hold_row(n.get("hold_parts"))
    if x.get("freeze"):
        f = r["freeze_ms"]
        row("freeze window p50 / p99 (under load)", "%s / %s ms" % (fmt(f["p50"]), fmt(f["p99"])),
            "freeze_ms.p99")
        hold_row(x["freeze"].get("hold_parts"))
        e = x["freeze"].get("end_to_end_ms") or {}
        row("  snapshot latency under load p50 / p99", "%s / %s ms (%d of %d normal%s)"
            % (fmt(e.get("p50")), fmt(e.get("p99")), x["freeze"]["normal"], x["freeze"]["requested"],
               "".join("; %d exit %s" % (k, c) for c, k in sorted(x["freeze"]["failed"].items()))))
    if x.get("throughput"):
        th = x["throughput"]
        row("%s VMs at once: all normal" % th.get("vms"), fmt(r["throughput_100vm_s"], " s"),
            "throughput_100vm_s")
        row("  all accepted / refusals retried", "%s s / %s" % (fmt(th.get("all_accepted_s")),
                                                             sum(th["refusals_retried"].values())))
        d = th.get("lab_drbdsetup_call_ms") or {}
        row("  lab drbdsetup call p50 with %s VMs" % th.get("vms"), "%s ms" % fmt(d.get("p50")))
    if x.get("scale"):
        sc = x["scale"]
        k = "%dk" % (sc["rows"] // 1000) if sc.get("rows") else "?"
        row("list of %s rows (pm1)" % k, fmt(r["list_100k_ms"], " ms") if r["list_100k_ms"] is not None
            else "FAILED (exit %s)" % ",".join(str(l["exit"]) for l in sc["list"]), "list_100k_ms")
        row("agent RSS (%s rows)" % k, fmt(r["rss_mib"], " MiB"), "rss_mib")
        row("  agent peak RSS (VmHWM)", fmt(sc.get("rss_peak_mib"), " MiB"))
        row("agent restart to ready (%s rows)" % k, fmt(r["restart_ms"], " ms") if r["restart_ms"] is not None
            else "not ready", "restart_ms")
        b = sc.get("restart_empty", {}).get("ready_ms")
        row("  restart to ready (empty catalog)", fmt(b, " ms"))
        b = sc.get("start_both", {}).get("ready_ms")
        row("  both agents started at once (%s rows)" % k, fmt(b, " ms"))
        ca = sc.get("create_after")
        if ca:
            row("  one create on %s rows" % k, "%s ms, exit %s%s" % (fmt(ca["ms"]), ca["exit"],
                                                                    " " + ca["code"] if ca["code"] else ""))
    w1 = max(len(a) for a, _, _, _ in rows) if rows else 10
    w2 = max(len(b) for _, b, _, _ in rows) if rows else 10
    print("%-*s  %-*s  %-8s  %s" % (w1, "figure", w2, "measured", "target", "met"))
    print("-" * (w1 + w2 + 20))
    for a, b, c, d in rows:
        print("%-*s  %-*s  %-8s  %s" % (w1, a, w2, b, c, d))
    m = r["machine"]
    print("machine: %s cores, kernel %s, %s; load %s at start, %s at end; %s other lab namespaces"
          % (m["cores"], m["kernel"], x["machine"].get("cpu"), x["machine"].get("load_start"),
             x["machine"].get("load_end"), x["machine"].get("other_netns")))
    for n in r["notes"]:
        print("note: " + n)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: bench-report.py WORKDIR RESULTS_JSON")
    main(sys.argv[1], sys.argv[2])
