# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# Every refusal the lab can provoke: exit 4, the code in --json, a one-line
# "refused: ..." message naming the PM (or VM, volume) it is about, nothing
# in either catalog, no piece, no I/O suspended (S4), and a `refused` event.
snap_begin

# expect_refused CODE MESSAGE_ERE EVENT_NODES CREATE_ARGS...: `snapshot
# create CREATE_ARGS` on pm1 is refused with CODE, with --json and without;
# the refused events appear on each of EVENT_NODES
expect_refused() {
	local code=$1 msg=$2 evnodes=$3 v rc=0 err
	local -A seq=()
	shift 3
	for v in $evnodes; do seq[$v]=$(event_seq "$v"); done
	snap_create_ready pm1 "$@"
	assert_eq 4 "$SNAP_RC" "exit status of 'snapshot create $*' (expected $code; stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
	assert_eq "$code" "$(json_get error.code "$SNAP_OUT")" "error code of 'snapshot create $*'"
	assert_match "^refused: .*$msg" "$(json_get error.message "$SNAP_OUT")" "error message of 'snapshot create $*'"
	err=$(cli pm1 snapshot create "$@" 2>&1 >/dev/null) || rc=$?
	assert_eq 4 "$rc" "exit status of 'snapshot create $*' without --json"
	assert_eq 1 "$(wc -l <<<"$err")" "lines on stderr of 'snapshot create $*': $err"
	assert_match "refused: .*$msg" "$err" "stderr of 'snapshot create $*'"
	note "$code: $err"
	for v in pm1 pm2; do
		assert_eq "" "$(snap_ids "$v")" "snapshot list on $v after a refusal ($code)"
		assert_eq "" "$(pieces_on "$v")" "pieces on $v after a refusal ($code)"
		! io_suspended "$v" >/dev/null || fail "I/O suspended on $v after a refusal ($code): $(io_suspended "$v")"
	done
	for v in $evnodes; do
		wait_for "[ \"\$(snap_events $v '*' --after ${seq[$v]} | awk '\$2 == \"refused\" && \$3 == \"$code\"' | wc -l)\" = 2 ]" 5 \
			"two refused events ($code) on $v"
	done
}

note "maintenance"
assert_exit 0 cli pm1 node maintenance pm2 on
for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm2 state)\" = maintenance ]" 10 "pm2 in maintenance on $v"
done
expect_refused node_in_maintenance 'pm2 is in maintenance' "pm1 pm2" vm1
assert_exit 0 cli pm1 node maintenance pm2 off
wait_all_running

note "resync"
lab drbd resync-start vm1-data --rate 1
for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm1 state)\" = syncing ] && [ \"\$(node_field $v pm2 state)\" = syncing ]" 10 \
		"both PMs syncing as seen on $v"
done
expect_refused drbd_resyncing 'vm1-data is resyncing on pm[12]' "pm1 pm2" vm1
lab drbd resync-finish vm1-data
wait_all_running

note "VM rules"
expect_refused uefi_firmware 'vm2 .*UEFI' "pm1 pm2" vm2
expect_refused boot_volume_not_selected "vm1.*boot volume 'boot'" "pm1 pm2" vm1 --volume data
expect_refused unknown_vm "vm9" "pm1 pm2" vm9
expect_refused unknown_volume "vm1 has no volume 'nosuch'" "pm1 pm2" vm1 --volume boot --volume nosuch

note "snapshots disabled"
assert_exit 0 cli pm1 snapshots disable
for v in pm1 pm2; do
	wait_for "[ \"\$(cli $v --json status | json_get snapshots_enabled)\" = false ]" 10 "snapshots disabled on $v"
done
expect_refused snapshots_disabled 'disabled' "pm1 pm2" vm1
assert_exit 0 cli pm2 snapshots enable
for v in pm1 pm2; do
	wait_for "[ \"\$(cli $v --json status | json_get snapshots_enabled)\" = true ]" 10 "snapshots enabled on $v"
done

note "DRBD disconnected"
lab drbd disconnect vm1-boot
for n in pm1 pm2; do
	wait_for "[ \"\$(node_field pm1 $n 'drbd[resource=vm1-boot].connection')\" = StandAlone ]" 10 \
		"pm1 to see vm1-boot StandAlone on $n"
done
expect_refused drbd_disconnected 'vm1-boot is not connected on pm[12]' "pm1 pm2" vm1
lab drbd connect vm1-boot
for v in pm1 pm2; do
	for n in pm1 pm2; do
		wait_for "[ \"\$(node_field $v $n 'drbd[resource=vm1-boot].replication')\" = Established ] && [ \"\$(node_field $v $n 'drbd[resource=vm1-boot].disk')\" = UpToDate ] && [ \"\$(node_field $v $n 'drbd[resource=vm1-boot].peer_disk')\" = UpToDate ]" 10 \
			"vm1-boot Established UpToDate/UpToDate on $n as seen on $v"
	done
done

note "peer down"
lab partition
wait_for '[ "$(node_field pm1 pm2 state)" = down ]' 15 "pm1 to see pm2 down"
# pm2 cannot hear of it: the event is on pm1 only
expect_refused node_down 'pm2 is down' "pm1" vm1
lab heal
wait_all_running 30
for v in pm1 pm2; do
	assert_eq "" "$(snap_ids "$v")" "snapshot list on $v after the heal"
done
