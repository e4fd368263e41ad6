# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# Snapshots back to back: each `snapshot create` is asked for the moment the
# one before returned normal, 20 times, with and without the guest load.
# Once the CLI says normal, the snapshot is over (its I/O hold too), so
# nothing of it may make the next one fail or be refused.
snap_begin
ROUNDS=20

# back_to_back WHAT: ROUNDS creates in a row on pm1 with nothing between
# them (output kept in files, read afterwards); each must exit 0
back_to_back() {
	local i rc ok=0 bad="" tmp base
	tmp=$(mktemp -d)
	base=$(log_lines pm1)
	for ((i = 1; i <= ROUNDS; i++)); do
		rc=0
		cli pm1 snapshot create vm1 >"$tmp/$i.out" 2>"$tmp/$i.err" || rc=$?
		echo "$rc" >"$tmp/$i.rc"
	done
	for ((i = 1; i <= ROUNDS; i++)); do
		if [ "$(cat "$tmp/$i.rc")" = 0 ]; then
			ok=$((ok + 1))
		else
			bad+="  create $i: exit $(cat "$tmp/$i.rc"): $(cat "$tmp/$i.err")
"
		fi
	done
	rm -rf "$tmp"
	note "$1: $ok of $ROUNDS back-to-back creates ended normal"
	[ -z "$bad" ] || fail "$1: back-to-back creates that did not end normal:
$bad(pm1's agent log before the first refusal:)
$(tail -n +"$((base + 1))" "$(agent_log pm1)" | grep -B 12 -m 1 'event refused')"
	for v in pm1 pm2; do
		assert_eq "$ok" "$(snap_ids "$v" | grep -c ' normal$')" "normal snapshots on $v"
	done
	delete_all_snapshots
	for v in pm1 pm2; do
		wait_for "[ -z \"\$(snap_ids $v)\" ] && [ -z \"\$(pieces_on $v)\" ]" 15 "no snapshot and no piece left on $v"
	done
}

back_to_back "idle"
lab load start vm1
back_to_back "under load"
lab load stop vm1
