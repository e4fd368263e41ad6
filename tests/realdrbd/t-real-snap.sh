# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/realdrbd/run with tests/realdrbd/lib.sh.
# Coordinated snapshots on the kernel's DRBD 8.4: vm1 (two volumes) idle,
# then under guest write load through /dev/drbd0 and /dev/drbd1 (protocol
# C: each write is in flight until pm2 has it; the drain reads DRBD's own
# pending/unacked counters).  Each snapshot is normal on both PMs with
# byte-identical pieces (S1), nothing stays suspended (S5), and a delete
# removes the pieces on both PMs.  Whether the load writes on after each
# snapshot is reported: DRBD 8.4 can strand a write that is in flight at
# suspend-io, and does so at once with a replication delay (t-real-kill
# shows it, and what the agent does about it).
snap_begin

check_snapshot() { # ID WHAT: normal on both, both pieces on both, identical
	local id=$1 v out
	for v in pm1 pm2; do
		wait_for "[ \"\$(snap_state $v $id)\" = normal ]" 20 "$2: $id normal on $v"
		assert_eq "boot data" "$(piece_vols "$v" "$id")" "$2: pieces of $id on $v"
	done
	out=$(lab compare "$id") || fail "$2: pieces of $id differ between the PMs: $out"
	note "$2: $(tail -n 1 <<<"$out"); pm1 timing: $(timing pm1 "$id"); I/O held $(held_ms pm1 "$id") ms"
	for v in pm1 pm2; do
		! io_suspended "$v" >/dev/null || fail "$2: I/O suspended on $v after $id: $(io_suspended "$v")"
	done
}

note "vm1 idle"
snap_create pm1 vm1
assert_eq 0 "$SNAP_RC" "snapshot create vm1 (stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
assert_eq normal "$(json_get state "$SNAP_OUT")" "state printed by create"
assert_eq '["pm1", "pm2"]' "$(json_get committed_on "$SNAP_OUT")" "committed_on"
check_snapshot "$SNAP_ID" idle
first=$SNAP_ID

note "vm1 under write load"
lab load start vm1
ids=() stranded=""
for round in 1 2 3; do
	snap_create pm1 vm1
	assert_eq 0 "$SNAP_RC" "round $round: snapshot create vm1 under load (stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
	assert_eq normal "$(json_get state "$SNAP_OUT")" "round $round: state printed by create"
	drained=$(grep_log pm1 "snapshot $SNAP_ID: in-flight writes drained after" | sed 's/.*after //')
	note "round $round: $SNAP_ID, pm1 drained the writes in flight after ${drained:-?}"
	check_snapshot "$SNAP_ID" "round $round"
	ids+=("$SNAP_ID")
	# DRBD 8.4 can strand a write that was in flight at suspend-io
	# (docs/reliability.md): reported, not asserted; the snapshots are
	if [ -z "$stranded" ]; then
		before=$(lab load status vm1 | awk '{ print $(NF - 1) }')
		if ! poll "[ \"\$(lab load status vm1 | awk '{ print \$(NF - 1) }')\" -gt $before ]" 15; then
			stranded=$round
			note "DRBD 8.4 stranded a write of the load in round $round: $(in_node pm1 "grep -o 'ap:[0-9]*' /proc/drbd" | xargs)"
		fi
	fi
done
note "the load wrote on after every snapshot: $([ -z "$stranded" ] && echo yes || echo "no, stuck since round $stranded")"
lab load stop vm1 || note "the load's writer cannot be stopped (a write DRBD stranded)"

note "delete"
for id in "$first" "${ids[@]}"; do
	assert_exit 0 cli pm2 snapshot delete "$id" --yes
done
for v in pm1 pm2; do
	wait_for "[ -z \"\$(snap_ids $v)\" ]" 20 "no snapshot left on $v"
	wait_for "[ -z \"\$(pieces_on $v)\" ]" 10 "no piece left on $v"
	check_no_orphans "$v"
done
