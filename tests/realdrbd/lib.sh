# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the real-DRBD tests tests/realdrbd/t-*.sh.  The lab's verbs
# mean the same against the guests (contrib/lab/realdrbd), so the lab
# tests' helpers (tests/lab/lib.sh) serve here too: `lab`, `cli`, the
# snapshot and catalog checks, and DRBD's own view through
# $LAB/NODE/bin/drbdsetup, which runs drbdsetup-84 in guest NODE.  What
# differs is defined below: DRBD 8.4's counters, and putting the lab back.

# shellcheck source=tests/lab/lib.sh
. "$TOP/tests/lab/lib.sh"

# e2_now NODE: DRBD's own view of NODE, with the counters (one call into the
# guest costs ~0.2 s: read once, pick from it)
e2_now() { drbdsetup_on "$1" events2 --now --statistics; }

# in_flight NODE RES...: writes sent to the peer and not yet acknowledged,
# in sectors (8.4 has no ap-in-flight; its peer-device lines count
# pending and unacked requests): the sum of pending + unacked
in_flight() {
	local node=$1
	shift
	e2_now "$node" | awk -v want=" $* " '
		/^exists peer-device / {
			name = ""; p = 0
			for (i = 1; i <= NF; i++) {
				split($i, kv, ":")
				if (kv[1] == "name") name = kv[2]
				if (kv[1] == "pending" || kv[1] == "unacked") p += kv[2]
			}
			if (index(want, " " name " ")) sum += p
		}
		END { print sum + 0 }'
}

# held_snapshot: a snapshot of vm1 that pm1 (the primary) holds with vm1's
# I/O suspended for as long as the test wants, up to the freeze timeout:
# pm2's agent is stopped (SIGSTOP) first, so pm1 waits for pm2's TAKEN
# after it has suspended, drained and taken its own pieces.  Sets SNAP_ID;
# HELD_AT is when DRBD showed the suspension.  resume_pm2 ends the stop.
held_snapshot() {
	in_node pm2 'kill -STOP "$(cat /run/twinsnapd.pid)"'
	snap_create pm1 vm1 --no-wait
	[ "$SNAP_RC" = 0 ] || fail "snapshot create vm1 --no-wait: exit $SNAP_RC (stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
	wait_for 'io_suspended pm1 | matches -x vm1-boot' 10 "pm1 to suspend vm1-boot's I/O for $SNAP_ID"
	# shellcheck disable=SC2034 # read by the tests
	HELD_AT=$EPOCHREALTIME
	note "snapshot $SNAP_ID: pm1 holds vm1's I/O (DRBD: suspended:user), pm2's agent stopped"
}
resume_pm2() { in_node pm2 'kill -CONT "$(cat /run/twinsnapd.pid)" 2>/dev/null || true'; }

# resources_in_sync: every resource Connected, UpToDate on both PMs
resources_in_sync() {
	local t
	t=$(lab drbd table)
	! grep -Ev ' Connected +[A-Za-z]+/[A-Za-z]+ +UpToDate/UpToDate$' <<<"$t" | matches . || { echo "$t"; return 1; }
}

# lab_clean: the EXIT trap of every test (snap_begin sets it), also after a
# failure: pm2's agent continued, load stopped, link healed, no latency,
# every resource connected, in sync and Primary on pm1, corosync and the
# agents running with the default config, maintenance off, snapshots
# enabled, every snapshot deleted, no piece left, no I/O suspended.  A test
# that passed fails if the lab cannot be put back.
lab_clean() {
	local rc=$? vm res problems=()
	trap - EXIT
	set +e
	resume_pm2
	for vm in vm1 vm2; do lab load stop "$vm" >/dev/null; done
	lab heal
	for res in vm1-boot vm1-data vm2-boot; do
		lab drbd latency "$res" 0
		lab drbd connect "$res"
	done
	for res in vm1-boot vm1-data vm2-boot; do
		lab drbd resync-finish "$res" >/dev/null || problems+=("$res not in sync")
	done
	lab_clean_cluster 60 30
	resources_in_sync >/dev/null || problems+=("DRBD not back in sync: $(resources_in_sync | xargs)")
	lab_clean_exit "$rc"
}

# timing NODE ID: the agent's phase timing line for snapshot ID
timing() { grep_log "$1" "snapshot $2: timing " | tail -n 1 | sed 's/.*timing //'; }
# held_ms NODE ID: how long NODE held vm I/O for ID, from its log ("" if it did not)
held_ms() { grep_log "$1" "snapshot $2: I/O of .* resumed after " | tail -n 1 | sed 's/.*resumed after \([0-9]*\) ms.*/\1/'; }
