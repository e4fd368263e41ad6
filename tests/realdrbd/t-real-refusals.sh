# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/realdrbd/run with tests/realdrbd/lib.sh.
# Refusals judged on real DRBD state: pm2 in maintenance, and vm1-data in a
# real resync (16 MiB written on pm1 while disconnected, then resynced at
# 0.5 MiB/s) are refused with exit 4 and their codes, leave no row, piece
# or suspended I/O; once the resync has ended, a snapshot of vm1 (with the
# resynced blocks) is normal with identical pieces.
snap_begin

expect_refused() { # CODE CREATE_ARGS...
	local code=$1 v
	shift
	snap_create_ready pm1 "$@"
	assert_eq 4 "$SNAP_RC" "exit status of 'snapshot create $*' (expected $code; stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
	assert_eq "$code" "$(json_get error.code "$SNAP_OUT")" "error code of 'snapshot create $*'"
	note "$code: $(json_get error.message "$SNAP_OUT")"
	for v in pm1 pm2; do
		assert_eq "" "$(snap_ids "$v")" "snapshot list on $v after a refusal ($code)"
		assert_eq "" "$(pieces_on "$v")" "pieces on $v after a refusal ($code)"
		! io_suspended "$v" >/dev/null || fail "I/O suspended on $v after a refusal ($code): $(io_suspended "$v")"
	done
}

note "maintenance"
assert_exit 0 cli pm1 node maintenance pm2 on
for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm2 state)\" = maintenance ]" 15 "pm2 in maintenance on $v"
done
expect_refused node_in_maintenance vm1
assert_exit 0 cli pm1 node maintenance pm2 off
wait_all_running 30

note "a real resync of vm1-data"
lab drbd resync-start vm1-data --rate 0.5
note "DRBD: $(lab drbd table | grep vm1-data | xargs)"
for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm1 state)\" = syncing ] && [ \"\$(node_field $v pm2 state)\" = syncing ]" 20 \
		"both PMs syncing as seen on $v"
done
note "pm1 sees: $(cli pm1 node list | tr -s ' ' | xargs)"
expect_refused drbd_resyncing vm1
resources_in_sync >/dev/null && fail "the resync of vm1-data ended before the refusal was checked (raise the data or lower the rate)"
lab drbd resync-finish vm1-data
wait_all_running 30

note "after the resync"
snap_create_ready pm1 vm1
assert_eq 0 "$SNAP_RC" "snapshot create vm1 after the resync (stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
assert_eq normal "$(json_get state "$SNAP_OUT")" "state after the resync"
out=$(lab compare "$SNAP_ID") || fail "pieces of $SNAP_ID differ: $out"
note "$(tail -n 1 <<<"$out")"
