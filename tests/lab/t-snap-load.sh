# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# S1 under load: a guest keeps writing to vm1 (twinsnap-lab load) with 200 ms
# of replication latency, so writes are always in flight to pm2; 20
# snapshots in a row are all normal and every one's pieces are identical.
# Then the same with agents that skip the drain (drain = no, only there to
# show the hazard): at least one normal snapshot's pieces differ, which
# proves that `compare` can see the failure the drain prevents.
snap_begin
ROUNDS=20


# take_snapshots MAX STOP_AT_FIRST_DIFFERENCE: creates (each must end
# normal) and compares; sets TRIED, SAME, DIFFER, DIFFS
take_snapshots() {
	local i rc t0 out
	TRIED=0 SAME=0 DIFFER=0 DIFFS=""
	t0=$EPOCHREALTIME
	for ((i = 1; i <= $1; i++)); do
		snap_create_ready pm1 vm1
		[ "$SNAP_RC" = 0 ] || fail "snapshot $i under load: exit $SNAP_RC (stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
		assert_eq normal "$(json_get state "$SNAP_OUT")" "state of snapshot $i under load"
		TRIED=$((TRIED + 1))
		rc=0
		out=$(lab compare "$SNAP_ID") || rc=$?
		if [ $rc = 0 ]; then
			SAME=$((SAME + 1))
		elif [ $rc = 1 ]; then
			DIFFER=$((DIFFER + 1))
			DIFFS+="  snapshot $i ($SNAP_ID): $(grep -v ': identical$' <<<"$out" | head -n 4)
"
			[ "$2" = yes ] && break
		else
			fail "compare $SNAP_ID: exit $rc: $out"
		fi
	done
	note "$TRIED snapshots in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s (create + compare)"
}

lab load start vm1
lab drbd latency vm1-boot 200
lab drbd latency vm1-data 200
wait_for '[ "$(vm1_in_flight)" -gt 0 ]' 5 "writes in flight from pm1 to pm2"
samples=""
for _ in 1 2 3; do samples+=" $(vm1_in_flight)"; sleep 0.1; done
note "sectors in flight on pm1 before the snapshots:$samples"

note "drain = yes (the agents' default)"
take_snapshots "$ROUNDS" no
note "S1 with the drain: tried $TRIED, identical $SAME, differing $DIFFER"
note "load: $(lab load status vm1)"
[ "$DIFFER" = 0 ] || fail "S1: $DIFFER of $TRIED normal snapshots taken under load have differing pieces:
$DIFFS"
for v in pm1 pm2; do
	assert_eq "$ROUNDS" "$(snap_ids "$v" | grep -c ' normal$')" "normal snapshots on $v"
done
catalogs_agree || fail "the catalogs differ after $ROUNDS snapshots"
lab load stop vm1
for v in pm1 pm2; do check_no_orphans "$v"; done
for id in $(snap_ids pm1 | awk '{ print $1 }'); do
	assert_exit 0 cli pm1 snapshot delete "$id" --yes
done
for v in pm1 pm2; do
	wait_for "[ -z \"\$(snap_ids $v)\" ] && [ -z \"\$(pieces_on $v)\" ]" 10 "no snapshot and no piece left on $v"
done

note "drain = no (the hazard the drain prevents)"
for n in pm1 pm2; do
	TWINSNAP_LAB_DRAIN=no lab agent "$n" restart
	assert_match '^drain = no$' "$(cat "$LAB/$n/twinsnap.conf")" "$n's config after a restart with TWINSNAP_LAB_DRAIN=no"
done
wait_all_running 30
lab load start vm1
wait_for '[ "$(vm1_in_flight)" -gt 0 ]' 5 "writes in flight from pm1 to pm2"
take_snapshots "$ROUNDS" yes
note "without the drain: tried $TRIED, identical $SAME, differing $DIFFER"
[ -z "$DIFFS" ] || note "first difference:
$DIFFS"
lab load stop vm1
[ "$DIFFER" -ge 1 ] || fail "with drain = no, none of $TRIED snapshots under load differ: the lab cannot show the hazard"

note "drain = yes again"
for n in pm1 pm2; do
	lab agent "$n" restart
	assert_match '^drain = yes$' "$(cat "$LAB/$n/twinsnap.conf")" "$n's config after a restart with the default environment"
done
wait_all_running 30
