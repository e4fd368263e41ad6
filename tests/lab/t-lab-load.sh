# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# The lab's own snapshot tools, without twinsnapd: `load` keeps writes in
# flight, blocks while I/O is suspended, follows a failover (made while I/O
# is suspended and writes are in flight) and stops cleanly, after which
# both replicas are identical; `pieces` and `compare` on pieces made by hand.
tmpid=0123456789abcdef0123456789abcd00
cleanup() {
	local rc=$? n
	lab load stop vm1 >/dev/null 2>&1
	for n in pm1 pm2; do
		drbdsetup_on "$n" resume-io 0 >/dev/null 2>&1
		drbdsetup_on "$n" resume-io 1 >/dev/null 2>&1
		rm -rf "${LAB:?}/$n/store/.twinsnap/$tmpid"
	done
	lab drbd latency vm1 0 >/dev/null 2>&1
	exit "$rc"
}
trap cleanup EXIT
writes() { # RES: writes the load reports for RES
	"$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["resources"][sys.argv[2]]["writes"])' "$LAB/load/vm1.status" "$1"
}
state() { # RES
	"$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["resources"][sys.argv[2]]["state"])' "$LAB/load/vm1.status" "$1"
}

lab drbd latency vm1 300
assert_exit 0 lab load start vm1
assert_match 'load on vm1 started' "$OUT" "load start"
assert_exit 0 lab load start vm1
assert_match 'already running' "$OUT" "a second load start"
wait_for '[ "$(writes vm1-boot)" -gt 10 ] && [ "$(writes vm1-data)" -gt 10 ]' 5 "the load to write to both volumes"
for _ in 1 2 3; do
	assert_num 'x > 0' "$(e2_key pm1 '^exists connection name:vm1-boot' ap-in-flight)" "vm1-boot writes in flight under load"
	sleep 0.1
done
assert_match 'vm1-boot [0-9]+ writes \(writing on pm1\)' "$(lab load status vm1)" "load status"

note "suspend-io blocks the load (it does not fail)"
drbdsetup_on pm1 suspend-io 0
wait_for '[ "$(state vm1-boot)" = blocked ]' 3 "the vm1-boot writer to block"
n0=$(writes vm1-boot)
wait_for '[ "$(e2_key pm1 "^exists connection name:vm1-boot" ap-in-flight)" = 0 ]' 3 "vm1-boot's writes in flight to arrive"
assert_eq "$n0" "$(writes vm1-boot)" "vm1-boot writes while suspended"
assert_eq 1 "$(e2_key pm1 '^exists device name:vm1-boot' upper-pending)" "upper-pending while the load is blocked"
assert_num "x > 0" "$(e2_key pm1 '^exists connection name:vm1-data' ap-in-flight)" "vm1-data still written meanwhile"

note "a failover while pm1's I/O is suspended and writes are in flight"
lab drbd latency vm1-data 2000
m0=$(writes vm1-data)
wait_for "[ \"\$(writes vm1-data)\" -gt $((m0 + 3)) ]" 3 "vm1-data writes with 2 s of latency"
drbdsetup_on pm1 suspend-io 1
assert_num "x > 0" "$(e2_key pm1 '^exists connection name:vm1-data' ap-in-flight)" "vm1-data writes in flight at the failover"
lab failover vm1 &
fo=$!
wait_for '[ "$(e2_key pm1 "^exists resource name:vm1-data" role)" = Secondary ]' 2 "pm1 demoted at once"
assert_eq Secondary "$(e2_key pm2 '^exists resource name:vm1-data' role)" "pm2 not promoted while writes are in flight"
wait "$fo" || fail "failover vm1 failed"
assert_eq Primary "$(e2_key pm2 '^exists resource name:vm1-boot' role)" "pm2 after the failover"
wait_for '[ "$(state vm1-boot)" = writing ] && [ "$(state vm1-data)" = writing ]' 3 "the load to write again"
assert_match 'vm1-boot [0-9]+ writes \(writing on pm2\)' "$(lab load status vm1)" "load status after the failover"
assert_eq 0 "$(e2_key pm1 '^exists device name:vm1-boot' upper-pending)" "pm1's upper-pending after the failover"
wait_for "[ \"\$(writes vm1-boot)\" -gt $((n0 + 5)) ]" 3 "writes on pm2"
drbdsetup_on pm1 resume-io 0
drbdsetup_on pm1 resume-io 1
lab failover vm1
assert_exit 0 lab load stop vm1
assert_match 'load on vm1 stopped' "$OUT" "load stop"
assert_exit 0 lab load stop vm1
assert_match 'no load running' "$OUT" "a second load stop"
lab drbd latency vm1 0
wait_for '[ "$(e2_key pm1 "^exists connection name:vm1-boot" ap-in-flight)" = 0 ] && [ "$(e2_key pm1 "^exists connection name:vm1-data" ap-in-flight)" = 0 ]' 3 \
	"the last writes to arrive"
for res in vm1-boot vm1-data; do
	cmp "$LAB/pm1/store/$res.img" "$LAB/pm2/store/$res.img" || fail "replicas of $res differ after the load"
done

note "pieces and compare"
d1=$LAB/pm1/store/.twinsnap/$tmpid
d2=$LAB/pm2/store/.twinsnap/$tmpid
assert_exit 3 lab compare "$tmpid"
assert_exit 2 lab compare ../../etc
mkdir -p "$d1" "$d2"
for n in pm1 pm2; do
	cp --reflink=always "$LAB/$n/store/vm1-boot.img" "$LAB/$n/store/.twinsnap/$tmpid/boot.img"
	cp --reflink=always "$LAB/$n/store/vm1-data.img" "$LAB/$n/store/.twinsnap/$tmpid/data.img"
done
assert_eq "$tmpid boot $d1/boot.img
$tmpid data $d1/data.img" "$(lab pieces pm1)" "pieces pm1"
assert_exit 0 lab compare "$tmpid"
assert_match 'identical on pm1 and pm2' "$OUT" "compare of identical pieces"
"$PYTHON" - "$d2/data.img" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"x" * 4096, 7 * 4096)
os.close(fd)
PY
assert_exit 1 lab compare "$tmpid"
assert_match '^data: DIFFERS .*1 of 16384 blocks differ' "$OUT" "compare of differing pieces"
assert_match 'block 7: ' "$OUT" "compare names the differing block"
assert_match '^boot: identical' "$OUT" "compare of the identical volume"
rm "$d2/data.img"
assert_exit 1 lab compare "$tmpid"
assert_match '^data: piece only on pm1' "$OUT" "compare with a piece missing on pm2"
