#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Re-captures this directory's fixtures from real DRBD 8.4 in the realdrbd
# guests (contrib/lab/realdrbd up first: pm1 Primary of vm1-boot (minor 0),
# vm1-data (1), vm2-boot (2), all Connected/UpToDate).  Usage: capture.sh [OUTDIR]
set -euo pipefail
HERE=$(cd "${0%/*}" && pwd -P)
RD=$HERE/../../../../contrib/lab/realdrbd
OUT=${1:-$HERE}
LAB=${TWINSNAP_REALDRBD_DIR:-/var/lib/twinsnap-realdrbd}
S=drbdsetup-84
x() { "$RD" exec "$@"; }
# events2 --now, status and /proc/drbd of NODE into OUT/{events2-now,status,proc-drbd}-TAG.txt
three() {
	x "$1" "$S events2 --now --statistics" >"$OUT/events2-now-$2.txt"
	x "$1" "$S status --verbose --statistics" >"$OUT/status-$2.txt"
	x "$1" "cat /proc/drbd" >"$OUT/proc-drbd-$2.txt"
}

# a live events2 stream on each guest for the whole scenario
for n in pm1 pm2; do
	x $n "setsid $S events2 --timestamps --statistics >$LAB/$n/events2.live 2>&1 & echo \$! >$LAB/$n/events2.pid"
done
sleep 3
three pm1 pm1
three pm2 pm2

# suspend-io on vm1-boot with a 16 KiB direct write held by it, then resume-io
x pm1 "$S suspend-io 0; (dd if=/dev/urandom of=/dev/drbd0 bs=4k count=4 oflag=direct 2>/dev/null &); sleep 2"
three pm1 suspended-pm1
x pm1 "$S resume-io 0; sleep 1"

# role change: vm2-boot moves from pm1 to pm2 (secondary, then primary) and back
x pm1 "$S secondary 2"
x pm2 "$S primary 2"
sleep 2
three pm2 failover-pm2
x pm2 "$S secondary 2"
x pm1 "$S primary 2"

# resync: vm1-data from pm1 at a fixed 2 MiB/s (no dynamic controller)
x pm1 "$S disk-options 1 --c-plan-ahead=0 --resync-rate=2M"
x pm1 "$S invalidate-remote 1"
sleep 5
three pm1 resync-pm1
three pm2 resync-pm2
until x pm1 "grep -q '^ 1: cs:Connected' /proc/drbd"; do sleep 2; done
x pm1 "$S disk-options 1 --set-defaults"

# a StandAlone connection: 8.4's dump leaves its conn-name out
x pm1 "$S disconnect ipv4:10.232.0.1:7790 ipv4:10.232.0.2:7790"  # 8.4: by address
three pm1 standalone-pm1
x pm1 "$S connect vm2-boot ipv4:10.232.0.1:7790 ipv4:10.232.0.2:7790 --protocol=C"
until x pm1 "grep -q '^ 2: cs:Connected' /proc/drbd"; do sleep 1; done
sleep 2
for n in pm1 pm2; do
	x $n "kill \$(cat $LAB/$n/events2.pid)" || true
	cp "$LAB/$n/events2.live" "$OUT/events2-stream-$n.txt"
done
