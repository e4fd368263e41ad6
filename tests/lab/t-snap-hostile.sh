# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# Hostile input to snapshot create: names and descriptions that are too
# long, not UTF-8 or hold control characters, VM and volume names that are
# paths: exit 2 and nothing created.  Names and descriptions are text that
# is never made into a path (twinsnap(8), docs/protocol.md), so "/" and
# "../../etc" there are stored as they are and create nothing outside the
# store's .twinsnap/ID/.  A description with newlines, tabs and quotes comes
# back byte for byte from show --json on both PMs.  The agents survive all
# of it and still answer.
snap_begin
pids_before="$(cat "$LAB/pm1/twinsnapd.pid") $(cat "$LAB/pm2/twinsnapd.pid")"

nothing_created() { # WHAT
	local v
	for v in pm1 pm2; do
		assert_eq "" "$(snap_ids "$v")" "snapshot list on $v after $1"
		assert_eq "" "$(pieces_on "$v")" "pieces on $v after $1"
	done
}

# rejected WHAT ARGS...: `snapshot create ARGS` on pm1 exits 2
rejected() {
	local what=$1
	shift
	snap_create pm1 "$@"
	assert_eq 2 "$SNAP_RC" "exit status of create with $what (stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
	note "$what: $(json_get error.code "$SNAP_OUT" 2>/dev/null || echo "?") - $SNAP_ERR"
	nothing_created "$what"
}

long300=$(printf 'n%.0s' $(seq 300))
long1100=$(printf 'd%.0s' $(seq 1100))
ff=$(printf 'bad\xffutf8')
overlong=$(printf 'slash\xc0\xafoverlong')
surrogate=$(printf 'sur\xed\xa0\x80rogate')
ctl1=$(printf 'a\001b')
esc=$(printf 'a\033[31mred')
del=$(printf 'a\177b')
c1=$(printf 'a\302\205b')         # U+0085, a C1 control
nl=$(printf 'two\nlines')
tab=$(printf 'a\tb')

rejected "a 300-byte name" vm1 --name "$long300"
rejected "a name with invalid UTF-8" vm1 --name "$ff"
rejected "a name with an overlong UTF-8 '/'" vm1 --name "$overlong"
rejected "a name with a UTF-16 surrogate" vm1 --name "$surrogate"
rejected "a name with \\x01" vm1 --name "$ctl1"
rejected "a name with an escape sequence" vm1 --name "$esc"
rejected "a name with DEL" vm1 --name "$del"
rejected "a name with a C1 control" vm1 --name "$c1"
rejected "a name with a newline" vm1 --name "$nl"
rejected "a name with a tab" vm1 --name "$tab"
rejected "a 1100-byte description" vm1 --description "$long1100"
rejected "a description with invalid UTF-8" vm1 --description "$ff"
rejected "a description with \\x01" vm1 --description "$ctl1"
rejected "a description with an escape sequence" vm1 --description "$esc"
rejected "a VM name '../../etc'" ../../etc
rejected "a VM name '/'" /
rejected "a VM name '.'" .
rejected "a volume name '../../etc'" vm1 --volume boot --volume ../../etc
rejected "a volume name '/'" vm1 --volume boot --volume /
rejected "a volume name '..'" vm1 --volume boot --volume ..
for bad in ../../etc "$long300" "$ff"; do
	rc=0
	cli pm1 snapshot show "$bad" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || [ "$rc" = 3 ] || fail "snapshot show with a hostile id: exit $rc, expected 2 or 3"
	rc=0
	cli pm1 snapshot delete "$bad" --yes >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || [ "$rc" = 3 ] || fail "snapshot delete with a hostile id: exit $rc, expected 2 or 3"
done
nothing_created "show/delete with hostile ids"

# same_text NODE ID FIELD TEXT: FIELD of `snapshot show --json ID` on NODE is TEXT, byte for byte
same_text() {
	cli "$1" --json snapshot show "$2" | "$PYTHON" -c '
import json, os, sys
got = json.load(sys.stdin)[sys.argv[1]]
want = os.fsdecode(os.fsencode(sys.argv[2]))
if got != want:
    sys.exit("%s: %r, expected %r" % (sys.argv[1], got, want))' "$3" "$4"
}

note "names and descriptions are text, not paths"
for text in / ../../etc '../../../../../../tmp/twinsnap-hostile' "$(printf '255 bytes: %0244d' 0)"; do
	snap_create_ready pm1 vm1 --name "$text" --description "$text"
	[ "$SNAP_RC" = 0 ] || fail "create with name and description '${text:0:40}': exit $SNAP_RC ($SNAP_ERR)"
	for v in pm1 pm2; do
		same_text "$v" "$SNAP_ID" name "$text" || fail "name on $v"
		same_text "$v" "$SNAP_ID" description "$text" || fail "description on $v"
		assert_eq "boot data" "$(piece_vols "$v" "$SNAP_ID")" "pieces of the snapshot named '${text:0:40}' on $v"
		check_no_orphans "$v"
	done
	assert_exit 0 lab compare "$SNAP_ID"
	assert_exit 0 cli pm1 snapshot delete "$SNAP_ID" --yes
	for v in pm1 pm2; do
		wait_for "[ \"\$(snap_state $v $SNAP_ID)\" = absent ]" 10 "snapshot deleted on $v"
	done
done
[ ! -e /tmp/twinsnap-hostile ] || fail "/tmp/twinsnap-hostile exists: a name was made into a path"
for v in pm1 pm2; do
	extra=$(find "$LAB/$v/store" -mindepth 1 -maxdepth 1 ! -name '*.img' ! -name .twinsnap)
	[ -z "$extra" ] || fail "unexpected entries in $v's store: $extra"
done

note "a description with newlines, a tab and quotes comes back exactly"
desc=$(printf 'First line, "double" and '"'"'single'"'"' quotes\n\tsecond line: \\ backslash, {"json": true}\n\nend: ü €')
snap_create_ready pm1 vm1 --name 'quotes "and" '"'"'more'"'" --description "$desc"
[ "$SNAP_RC" = 0 ] || fail "create with a multi-line description: exit $SNAP_RC ($SNAP_ERR)"
for v in pm1 pm2; do
	same_text "$v" "$SNAP_ID" description "$desc" || fail "description read back on $v"
	same_text "$v" "$SNAP_ID" name 'quotes "and" '"'"'more'"'" || fail "name read back on $v"
done
r1=$(snap_rows pm1)
[ "$r1" = "$(snap_rows pm2)" ] || fail "rows differ between the PMs: $r1 / $(snap_rows pm2)"
assert_exit 0 cli pm2 snapshot show "$SNAP_ID"
assert_exit 0 cli pm1 snapshot list
assert_exit 0 cli pm1 snapshot delete "$SNAP_ID" --yes

note "the agents are still the same processes and answer"
assert_eq "$pids_before" "$(cat "$LAB/pm1/twinsnapd.pid") $(cat "$LAB/pm2/twinsnapd.pid")" "agent pids"
for v in pm1 pm2; do
	kill -0 "$(cat "$LAB/$v/twinsnapd.pid")" || fail "the agent of $v is gone"
	assert_exit 0 cli "$v" status
	assert_exit 0 cli "$v" --json events
done
wait_all_running
