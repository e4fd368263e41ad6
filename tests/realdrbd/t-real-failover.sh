# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/realdrbd/run with tests/realdrbd/lib.sh.
# S7 on real DRBD: vm1 fails over (DRBD `secondary` on pm1, `primary` on
# pm2) while pm1 holds its I/O for a snapshot that pm2's agent has not yet
# taken (the agent is stopped).  The VM is not running (its load stopped
# before): DRBD 8.4 demotes a device with I/O suspended when nobody has it
# open.  pm1 sees the real role change and aborts; once pm2's agent runs
# again the snapshot is deleted on both PMs with an auto_deleted event
# (failover, or primary_lost), no piece, no I/O suspended; never normal.
snap_begin

lab load start vm1
sleep 2
lab load stop vm1
held_snapshot
id=$SNAP_ID
t0=$EPOCHREALTIME
lab failover vm1
note "failover done $(since "$t0") s after pm1 held the I/O; vm1-boot primary: $(primary_of_res vm1-boot)"
assert_eq pm2 "$(primary_of_res vm1-boot)" "vm1-boot's primary after the failover"
resume_pm2
for v in pm1 pm2; do
	wait_for "[ \"\$(snap_state $v $id)\" = absent ]" 30 "$id gone from $v's list"
	wait_for "auto_deleted $v $id | grep -Eqw 'failover|primary_lost'" 10 "an auto_deleted event (failover or primary_lost) for $id on $v"
	note "$v: auto_deleted $(auto_deleted "$v" "$id")"
	assert_eq "" "$(pieces_on "$v" "$id")" "pieces of $id on $v"
	assert_no_match ' normal ' "$(snap_events "$v" "$id")" "events of $id on $v (it must never become normal)"
	wait_for "! io_suspended $v" 15 "no I/O suspended on $v"
done
note "pm1 held vm1's I/O for $(held_ms pm1 "$id") ms"
wait_all_running 30
catalogs_agree || fail "catalogs differ after the failover"
