# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# A schedule storm: 13 VMs snapshotted at once, on a lab of its own (the
# suite's lab has one VM a snapshot can be taken of): vm1 (boot and data)
# and vm3..vm14 (a boot volume each).  Every snapshot ends normal on both
# PMs, and pm1 (their primary) never holds the I/O of more than max_holds
# of them at once (2 here, 8 by default; without the bound 5 to 7 of the
# 13 overlapped): the others wait in phase `created`, holding nothing, so
# that each VM's I/O is held for its own snapshot, not for the whole
# storm.  The stand-in's holds.log says when each hold began and ended.
need_agent
MAX_HOLDS=2
TWINSNAP=${TWINSNAP_LAB_BUILDDIR:-$TOP}/src/twinsnap
VMS=(vm1)
for ((v = 3; v <= 14; v++)); do VMS+=("vm$v"); done

# everything below talks to the storm's lab (lib.sh's helpers read these)
export TWINSNAP_LAB_DIR=$LAB-storm TWINSNAP_LAB_NETNS=${TWINSNAP_LAB_NETNS}s
export TWINSNAP_LAB_MAX_HOLDS=$MAX_HOLDS
LAB=$TWINSNAP_LAB_DIR
storm_down() {
	local rc=$?
	"$LABCTL" down >/dev/null 2>&1 || echo "# twinsnap-lab down of $LAB failed"
	return $rc
}
trap storm_down EXIT
"$LABCTL" down >/dev/null 2>&1 || true
TWINSNAP_LAB_VMS=14 "$LABCTL" up >"$LAB.up.log" 2>&1 || {
	sed 's/^/#   /' "$LAB.up.log"
	fail "the storm's lab does not come up"
}
wait_all_running 60

# all at once, from inside pm1's namespace (as a schedule on the PM would)
# shellcheck disable=SC2016 # the inner shell expands them
out=$(in_node pm1 bash -c 'for v in "${@:2}"; do "$1" --json snapshot create "$v" --no-wait >/dev/null 2>&1 & done; wait' \
	_ "$TWINSNAP" "${VMS[@]}" 2>&1) || fail "the creates: $out"
normal_on() { snap_ids "$1" | awk '$2 == "normal"' | wc -l; }
wait_for '[ "$(normal_on pm1)" = ${#VMS[@]} ] && [ "$(normal_on pm2)" = ${#VMS[@]} ]' 60 \
	"all ${#VMS[@]} snapshots normal on both PMs"
for n in pm1 pm2; do
	assert_eq "${#VMS[@]}" "$(snap_ids "$n" | wc -l)" "snapshots on $n"
done
waited=$(grep_log pm1 'waits for one of the' | wc -l)
note "snapshots that waited for a hold: $waited"

# the most VMs pm1 held at one time, by their boot volumes (every VM has
# one): each line is END NODE RES HELD_MS BY (END in seconds, 3
# decimals); a hold starts after the one it waited for has ended, so at
# equal times ends count first
boot_holds() { awk '$2 == "pm1" && $3 ~ /-boot$/' "$LAB/drbd/holds.log"; }
most=$(boot_holds | awk '{ end = $1 * 1000; printf "%.0f 1\n%.0f 0\n", end - $4, end }' |
	sort -k1,1n -k2,2n | awk '$2 == 1 { if (++n > m) m = n } $2 == 0 { n-- } END { print m + 0 }')
note "pm1: $(boot_holds | wc -l) VMs held, at most $most at once"
assert_eq "${#VMS[@]}" "$(boot_holds | wc -l)" "VMs pm1 held (holds.log)"
assert_num "x >= 1 && x <= $MAX_HOLDS" "$most" "VMs pm1 held at one time"
assert_eq "" "$(io_suspended pm1 || true)" "resources left suspended on pm1"
