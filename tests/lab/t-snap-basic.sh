# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# One snapshot of vm1, start to end: created normal on both PMs with the
# same catalog row (S2), identical pieces (S1) of boot and data on both
# stores, shown on both, deleted from both lists and both stores, and the
# events created, normal, deleted on both.
snap_begin

t0=$EPOCHREALTIME
snap_create pm1 vm1
assert_eq 0 "$SNAP_RC" "exit status of snapshot create vm1 (stderr: $SNAP_ERR)"
id=$SNAP_ID
note "snapshot $id normal after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
assert_match '^[0-9a-f]{32}$' "$id" "snapshot id"
assert_eq normal "$(json_get state "$SNAP_OUT")" "state printed by create"
assert_eq '["pm1", "pm2"]' "$(json_get committed_on "$SNAP_OUT")" "committed_on printed by create"
assert_eq vm1 "$(json_get vm "$SNAP_OUT")" "vm printed by create"
assert_eq '["boot", "data"]' "$(json_get volumes "$SNAP_OUT")" "volumes printed by create"

for v in pm1 pm2; do
	assert_eq normal "$(snap_state "$v" "$id")" "state of $id in $v's list"
	assert_eq "$id normal" "$(snap_ids "$v")" "snapshot list on $v"
done
# S2: the two catalogs agree, every field of every row
r1=$(snap_rows pm1)
r2=$(snap_rows pm2)
[ "$r1" = "$r2" ] || fail "snapshot list rows differ between the PMs:
pm1: $r1
pm2: $r2"
assert_eq '["pm1", "pm2"]' "$(json_get committed_on "$r1")" "committed_on in the list"

# S1
assert_exit 0 lab compare "$id"
note "$(tr '\n' ' ' <<<"$OUT")"
for v in pm1 pm2; do
	assert_eq "boot data" "$(piece_vols "$v" "$id")" "pieces of $id on $v"
	check_no_orphans "$v"
done

for v in pm1 pm2; do
	s=$(cli "$v" --json snapshot show "$id")
	assert_eq "$id" "$(json_get id "$s")" "snapshot show on $v: id"
	assert_eq normal "$(json_get state "$s")" "snapshot show on $v: state"
	assert_eq vm1 "$(json_get vm "$s")" "snapshot show on $v: vm"
	assert_eq '["pm1", "pm2"]' "$(json_get committed_on "$s")" "snapshot show on $v: committed_on"
	assert_exit 0 cli "$v" snapshot show "$id"
	assert_match "$id" "$OUT" "snapshot show (text) on $v"
done

assert_exit 0 cli pm1 snapshot delete "$id" --yes
for v in pm1 pm2; do
	wait_for "[ \"\$(snap_state $v $id)\" = absent ]" 10 "$id gone from $v's list"
	wait_for "[ -z \"\$(pieces_on $v $id)\" ]" 10 "the pieces of $id gone from $v's store"
	assert_exit 3 cli "$v" snapshot show "$id"
done
for v in pm1 pm2; do
	wait_for "[ \"\$(snap_events $v $id | awk '{ print \$2 }' | xargs)\" = 'created normal deleted' ]" 5 \
		"events created, normal, deleted for $id on $v"
done
