# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/realdrbd/run with tests/realdrbd/lib.sh, last: it can leave
# DRBD with a stranded write.
# pm1's agent SIGKILLed while it holds vm1's I/O on real DRBD (suspend-io
# done, pm2's agent stopped so pm1 waits for its TAKEN), with the load
# writing and 250 ms of replication delay, so writes are in flight when
# I/O is suspended.  The freeze guard resumes (DRBD: suspended:no) within
# the freeze timeout + 2 s of the kill, with the agent still dead.  The
# agent started again finds its freeze intent, sees that DRBD no longer
# holds the minors and does not run resume-io on them: on 8.4, resume-io
# of a device that is not suspended waits for every pending application
# write, for ever if one is stranded, holding DRBD's configuration mutex
# (which this setup strands: see docs/reliability.md).  The agent answers,
# and once both agents run the snapshot is deleted on both with an
# auto_deleted event, the catalogs agree, no piece is left, and no
# drbdsetup is left hanging in either guest.
snap_begin

lab load start vm1
for res in vm1-boot vm1-data; do lab drbd latency "$res" 250; done
held_snapshot
id=$SNAP_ID
note "writes in flight to pm2 while held: $(in_flight pm1 vm1-boot vm1-data) (pending + unacked)"
t_kill=$EPOCHREALTIME
lab agent pm1 kill
note "killed pm1's agent $(since "$HELD_AT") s after I/O was held"
wait_for '! io_suspended pm1' "$(freeze_left "$t_kill")" "I/O resumed on pm1 within the freeze timeout + 2 s of the kill"
note "DRBD resumed vm1's I/O on pm1 $(since "$t_kill") s after the kill, the agent still dead"
resume_pm2
lines=$(log_lines pm1)
lab agent pm1 start
note "pm1's agent answers again $(since "$t_kill") s after the kill"
wait_for "grep_log pm1 'snapshot $id: minor [0-9]+ is no longer suspended' $lines | matches ." 10 \
	"pm1's agent to see that DRBD no longer holds vm1's minors"
note "$(grep_log pm1 "snapshot $id: minor" "$lines" | sed 's/^.*snapshot/snapshot/' | xargs)"
wait_all_running 60
for v in pm1 pm2; do
	wait_for "[ \"\$(snap_state $v $id)\" = absent ]" 30 "$id gone from $v's list"
	wait_for "[ -n \"\$(auto_deleted $v $id)\" ]" 10 "an auto_deleted event for $id on $v"
	note "$v: auto_deleted $(auto_deleted "$v" "$id")"
	check_no_orphans "$v"
	hung=$(in_node "$v" "ps -eo stat,args | awk '\$1 ~ /^D/ && /drbdsetup/'")
	assert_eq "" "$hung" "drbdsetup processes hanging in the kernel on $v"
done
wait_for catalogs_agree 20 "both catalogs equal"
# what DRBD 8.4 did to the writes in flight: a stranded one shows as an
# application request that never completes (ap: in /proc/drbd) and a
# writer that does not move on; it is reported, not asserted
rounds=$(lab load status vm1 | awk '{ print $(NF - 1) }')
sleep 3
if [ "$(lab load status vm1 | awk '{ print $(NF - 1) }')" = "$rounds" ]; then
	note "DRBD 8.4: the load's writer is stuck after the resume (a stranded write): $(in_node pm1 "grep -o 'ap:[0-9]*' /proc/drbd" | xargs)"
else
	note "DRBD 8.4: the load writes on after the resume"
fi
