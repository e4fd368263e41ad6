# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/realdrbd/run with tests/realdrbd/lib.sh.
# pm1's agent SIGKILLed while it holds vm1's I/O on real DRBD (suspend-io
# done, pm2's agent stopped so pm1 waits for its TAKEN), with the load
# writing and 250 ms of replication delay: DRBD resumes I/O (suspended:no)
# within the freeze timeout + 2 s of the kill, with the agent still dead;
# the load writes again; once both agents run, the snapshot is deleted on
# both with an auto_deleted event, the catalogs agree and no piece is left.
snap_begin

lab load start vm1
for res in vm1-boot vm1-data; do lab drbd latency "$res" 250; done
held_snapshot
id=$SNAP_ID
rounds=$(lab load status vm1 | awk '{ print $(NF - 1) }')
t_kill=$EPOCHREALTIME
lab agent pm1 kill
note "killed pm1's agent $(since "$HELD_AT") s after I/O was held"
wait_for '! io_suspended pm1' "$(freeze_left "$t_kill")" "I/O resumed on pm1 within the freeze timeout + 2 s of the kill"
note "DRBD resumed vm1's I/O on pm1 $(since "$t_kill") s after the kill, the agent still dead"
wait_for "[ \"\$(lab load status vm1 | awk '{ print \$(NF - 1) }')\" -gt $rounds ]" 20 "the load writes again"
resume_pm2
lab agent pm1 start
wait_all_running 60
for v in pm1 pm2; do
	wait_for "[ \"\$(snap_state $v $id)\" = absent ]" 30 "$id gone from $v's list"
	wait_for "[ -n \"\$(auto_deleted $v $id)\" ]" 10 "an auto_deleted event for $id on $v"
	note "$v: auto_deleted $(auto_deleted "$v" "$id")"
	check_no_orphans "$v"
done
wait_for catalogs_agree 20 "both catalogs equal"
