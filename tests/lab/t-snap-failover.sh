# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# S7: a failover of vm1 while its primary drains the writes in flight (load,
# 3 s of replication latency) deletes the snapshot on both PMs within 15 s,
# with an auto_deleted event (failover, or primary_lost) on both, no piece
# left, and no I/O suspended anywhere (S5).  It never becomes normal.
snap_begin

slow_snapshot
id=$SNAP_ID
t0=$EPOCHREALTIME
# the stand-in demotes pm1 at once and promotes pm2 once the writes in
# flight have reached it (~3 s): the agents see the role change mid-drain
lab failover vm1 >"$LAB/failover.out" 2>&1 &
fo=$!
for v in pm1 pm2; do
	wait_for "[ \"\$(snap_state $v $id)\" = absent ]" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { l = 15 - (b - a); printf "%.2f", l < 0.5 ? 0.5 : l }')" \
		"$id gone from $v's list within 15 s of the failover"
done
note "snapshot gone from both lists $(since "$t0") s after the failover began"
rc=0
wait "$fo" || rc=$?
[ "$rc" = 0 ] || fail "twinsnap-lab failover vm1: exit $rc: $(cat "$LAB/failover.out")"
assert_eq pm2 "$(primary_of_res vm1-boot)" "vm1-boot's primary after the failover"
for v in pm1 pm2; do
	wait_for "auto_deleted $v $id | grep -Eqw 'failover|primary_lost'" 5 "an auto_deleted event (failover or primary_lost) for $id on $v"
	note "$v: auto_deleted $(auto_deleted "$v" "$id")"
	assert_eq "" "$(pieces_on "$v" "$id")" "pieces of $id on $v"
	check_no_orphans "$v"
	assert_no_match ' normal ' "$(snap_events "$v" "$id")" "events of $id on $v (it must never become normal)"
done
for v in pm1 pm2; do
	wait_for "! io_suspended $v" "$(freeze_left "$HELD_AT")" "no I/O suspended on $v"
	for res in vm1-boot vm1-data; do
		assert_eq no "$(e2_key "$v" "^exists resource name:$res " suspended)" "$res suspended on $v (events2)"
	done
done
note "I/O resumed; restoring: load stopped, latency 0, vm1 back on pm1"
lab load stop vm1
lab drbd latency vm1-boot 0
lab failover vm1
assert_eq pm1 "$(primary_of_res vm1-boot)" "vm1-boot's primary after the failover back"
wait_all_running
catalogs_agree || fail "catalogs differ after the failover back"
