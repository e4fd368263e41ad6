# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# A partition in the middle of a snapshot's drain (load, 3 s of latency):
# pm1 lets vm1's I/O go within the freeze timeout + 2 s (S5); after the
# heal, with both PMs running again, the catalogs are equal (S2), no piece
# is an orphan (S3), nothing stays broken (L2) and no I/O is suspended.
snap_begin

slow_snapshot
id=$SNAP_ID
t0=$EPOCHREALTIME
lab partition
wait_for '[ "$(node_field pm1 pm2 state)" = down ] && [ "$(node_field pm2 pm1 state)" = down ]' 15 "each PM to see the other down"
note "each side alone $(since "$t0") s after the partition; $id: pm1 $(snap_state pm1 "$id"), pm2 $(snap_state pm2 "$id")"
wait_for '! io_suspended pm1' "$(freeze_left "$HELD_AT")" "I/O resumed on pm1 within the freeze timeout + 2 s"
note "I/O of vm1 resumed on pm1 $(since "$HELD_AT") s after it was held"
lab load stop vm1
lab heal
wait_all_running 30
note "both running again $(since "$t0") s after the partition"
wait_for catalogs_agree 15 "both catalogs equal after the heal"
for v in pm1 pm2; do
	wait_for "! snap_ids $v | matches ' broken\$'" 15 "no broken snapshot left on $v"
	check_no_orphans "$v"
	! io_suspended "$v" >/dev/null || fail "I/O suspended on $v: $(io_suspended "$v")"
done
r1=$(snap_rows pm1)
r2=$(snap_rows pm2)
[ "$r1" = "$r2" ] || fail "snapshot list rows differ between the PMs after the heal:
pm1: $r1
pm2: $r2"
note "$id: pm1 $(snap_state pm1 "$id"), pm2 $(snap_state pm2 "$id"); events on pm1: $(snap_events pm1 "$id" | awk '{ print $2 "(" $3 ")" }' | xargs); on pm2: $(snap_events pm2 "$id" | awk '{ print $2 "(" $3 ")" }' | xargs)"
