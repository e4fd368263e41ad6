# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# The corners docs/protocol.md decides on purpose:
# 1. two creates of vm1 at the same instant from both PMs: agreed order
#    makes the second see the first in flight; it is refused (S4), the
#    first becomes normal;
# 2. maintenance set while a snapshot is in flight: it finishes (maintenance
#    only blocks new snapshots);
# 3. a PM returning with an old catalog: a snapshot deleted while pm2's
#    agent was down is deleted on pm2 when it returns (deletions win).
snap_begin

# ---- 1. simultaneous creates (the first one slowed by a drain) -------------
slow_snapshot
first=$SNAP_ID
snap_create pm2 vm1
assert_eq 4 "$SNAP_RC" "exit of the second create, from pm2, while $first is in flight"
assert_eq snapshot_in_flight "$(json_get error.code "$SNAP_OUT")" "refusal code of the second create"
note "second create refused: $SNAP_ERR"
lab drbd latency vm1-boot 0
wait_for "[ \"\$(snap_state pm1 $first)\" = normal ] && [ \"\$(snap_state pm2 $first)\" = normal ]" 20 \
	"$first normal on both PMs"
lab load stop vm1 >/dev/null
assert_eq 1 "$(snap_ids pm1 | wc -l)" "rows on pm1 (the refused create left none)"
wait_for catalogs_agree 10 "both catalogs equal after the simultaneous creates"

# Both at once, for real: whichever is ordered second is refused or, if the
# first was already normal, taken too; never two rows of one in-flight VM.
cli pm1 --json snapshot create vm1 >"$LAB/c1.out" 2>&1 &
p1=$!
cli pm2 --json snapshot create vm1 >"$LAB/c2.out" 2>&1 &
p2=$!
r1=0 r2=0
wait "$p1" || r1=$?
wait "$p2" || r2=$?
note "simultaneous creates: pm1 exit $r1, pm2 exit $r2"
assert_match '^(0|4)$' "$r1" "exit of pm1's create"
assert_match '^(0|4)$' "$r2" "exit of pm2's create"
[ "$r1" = 0 ] || [ "$r2" = 0 ] || fail "both simultaneous creates refused: $(cat "$LAB/c1.out" "$LAB/c2.out")"
for f in "$LAB/c1.out" "$LAB/c2.out"; do
	if grep -q '"error"' "$f"; then
		assert_match 'snapshot_in_flight' "$(cat "$f")" "the refused create's code"
	fi
done
wait_for catalogs_agree 10 "both catalogs equal after two creates at once"
check_no_orphans pm1
check_no_orphans pm2

# ---- 2. maintenance while in flight -------------------------------------------
slow_snapshot
mid=$SNAP_ID
cli pm1 node maintenance pm2 on >/dev/null
lab drbd latency vm1-boot 0
wait_for "[ \"\$(snap_state pm1 $mid)\" = normal ] && [ \"\$(snap_state pm2 $mid)\" = normal ]" 20 \
	"$mid normal on both PMs although pm2 entered maintenance mid-flight"
lab load stop vm1 >/dev/null
lab compare "$mid" >/dev/null || fail "pieces of $mid differ"
snap_create pm1 vm1
assert_eq 4 "$SNAP_RC" "a new create while pm2 is in maintenance"
cli pm1 node maintenance pm2 off >/dev/null
wait_for catalogs_agree 10 "both catalogs equal after maintenance mid-flight"

# ---- 3. a PM returning with an old catalog --------------------------------------
victim=$mid
lab agent pm2 stop >/dev/null
wait_for "[ \"\$(node_field pm1 pm2 state)\" = down ]" 15 "pm1 to see pm2's agent gone"
cli pm1 snapshot delete "$victim" --yes >/dev/null || fail "delete of $victim on pm1 while pm2 is down"
assert_eq absent "$(snap_state pm1 "$victim")" "$victim on pm1 after the delete"
lab agent pm2 start >/dev/null
wait_all_running 30
wait_for "[ \"\$(snap_state pm2 $victim)\" = absent ]" 15 "$victim deleted on pm2 once it returned"
assert_eq "" "$(pieces_on pm2 "$victim")" "pieces of $victim on pm2"
wait_for catalogs_agree 10 "both catalogs equal after pm2 returned with an old catalog"
check_no_orphans pm1
check_no_orphans pm2
