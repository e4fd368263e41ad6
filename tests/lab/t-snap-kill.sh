# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# An agent SIGKILLed in the middle of a snapshot (pm1, the primary, while it
# holds vm1's I/O; then pm2, the secondary): I/O is resumed on pm1 within
# the freeze timeout + 2 s of the kill (S5), already before the killed
# agent is started again and still after, and once both agents run again
# the catalogs are equal (S2), no piece is an orphan (S3), nothing stays
# broken (L2), and the snapshot has an auto_deleted event on both PMs.
snap_begin

# kill_round VICTIM
kill_round() {
	local victim=$1 id t_kill v
	note "--- SIGKILL of $victim's agent mid-snapshot"
	slow_snapshot
	id=$SNAP_ID
	t_kill=$EPOCHREALTIME
	lab agent "$victim" kill
	note "killed $victim's agent $(since "$HELD_AT") s after I/O was held; pm1 suspended: $(io_suspended pm1 | xargs)"
	# S5: the dead agent's freeze guard (or, for pm2, pm1's agent) lets
	# the I/O go without waiting for the agent to come back
	wait_for '! io_suspended pm1' "$(freeze_left "$t_kill")" \
		"I/O resumed on pm1 within the freeze timeout + 2 s of the kill, $victim's agent still down"
	note "I/O of vm1 resumed on pm1 $(since "$t_kill") s after the kill, $victim's agent still down"
	lab agent "$victim" start
	note "$victim's agent started again $(since "$t_kill") s after the kill"
	wait_for '! io_suspended pm1' "$(freeze_left "$t_kill")" \
		"I/O resumed on pm1 (suspended:no) within the freeze timeout + 2 s of the kill, $victim's agent started again"
	wait_all_running 30
	wait_for catalogs_agree 15 "both catalogs equal (same ids, same states)"
	for v in pm1 pm2; do
		check_no_orphans "$v"
		! io_suspended "$v" >/dev/null || fail "I/O suspended on $v: $(io_suspended "$v")"
		assert_no_match ' broken$' "$(snap_ids "$v")" "snapshots on $v once both agents run"
		wait_for "[ -n \"\$(auto_deleted $v $id)\" ]" 5 "an auto_deleted event for $id on $v"
	done
	note "$id: pm1 $(snap_state pm1 "$id"), pm2 $(snap_state pm2 "$id"); auto_deleted on pm1: $(auto_deleted pm1 "$id"), on pm2: $(auto_deleted pm2 "$id")"
	lab load stop vm1 >/dev/null
	lab drbd latency vm1-boot 0
}

kill_round pm1
kill_round pm2
