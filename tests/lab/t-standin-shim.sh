# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# The fast drbdsetup (contrib/lab/drbdsetup-shim.c, served by the stand-in's
# `admin serve`) says and does what the python stand-in says and does:
# stdout, stderr and exit code byte for byte, also on its fallback without a
# server; a following events2 --poll answers `n` and leaves no child behind
# when SIGKILLed; a call the server answers itself does not stop it when the
# reader's pipe is full, nor does one that runs on (events2 in garbage
# mode); a suspend-io/resume-io through it is a line of holds.log.
sock=$LAB/drbd/standin.sock
[ "$(head -c 4 "$LAB/pm1/bin/drbdsetup" | od -An -c | tr -d ' ')" = '177ELF' ] ||
	skip "the lab has no compiled drbdsetup shim (see $LAB/bin/drbdsetup-shim.log)"
[ -S "$sock" ] || fail "no server socket $sock (see $LAB/drbd/serve.log)"
server=$(<"$LAB/drbd/serve.pid")
kill -0 "$server" || fail "the stand-in's server (pid $server) is not running"
tmp=$(mktemp -d)

# same NAME BIN NODE ARGS...: BIN NODE's drbdsetup ARGS vs the python stand-in
same() {
	local name=$1 bin=$2 node=$3 rc_shim=0 rc_py=0
	shift 3
	"$bin" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc_shim=$?
	"$PYTHON" "$STANDIN" --lab "$LAB" --node "$node" "$@" >"$tmp/$name.py.out" 2>"$tmp/$name.py.err" || rc_py=$?
	assert_eq "$rc_py" "$rc_shim" "exit code of drbdsetup $* on $node"
	cmp -s "$tmp/$name.py.out" "$tmp/$name.out" || fail "stdout of drbdsetup $* on $node differs:
$(diff "$tmp/$name.py.out" "$tmp/$name.out" | head -n 20)"
	cmp -s "$tmp/$name.py.err" "$tmp/$name.err" || fail "stderr of drbdsetup $* on $node differs:
$(diff "$tmp/$name.py.err" "$tmp/$name.err" | head -n 20)"
}

# a copy of the shim in a lab directory without a server: the python path
fake=$tmp/fake
mkdir -p "$fake/pm2/bin"
cp "$LAB/pm2/bin/drbdsetup" "$fake/pm2/bin/drbdsetup"
printf '#!/bin/sh\nexec "%s" "%s" --lab "%s" --node pm2 "$@"\n' "$PYTHON" "$STANDIN" "$LAB" >"$fake/pm2/bin/drbdsetup-py"
chmod +x "$fake/pm2/bin/drbdsetup-py"

for n in pm1 pm2; do
	for bin in "$LAB/$n/bin/drbdsetup" "$fake/$n/bin/drbdsetup"; do
		[ -x "$bin" ] || continue
		same e2 "$bin" "$n" events2 --now
		same e2s "$bin" "$n" events2 --now --statistics vm1-boot
		same json "$bin" "$n" status --json
		same status "$bin" "$n" status vm1-data
		same nores "$bin" "$n" status nosuch
		same badopt "$bin" "$n" events2 --bogus
		same badminor "$bin" "$n" suspend-io 7
		same version "$bin" "$n" --version
		same version2 "$bin" "$n" version
		same usage "$bin" "$n"
		same unknown "$bin" "$n" show
	done
done
# the child works in the shim's directory and with its TZ
(cd "$LAB/pm1/store" && same relpath "$LAB/pm1/bin/drbdsetup" pm1 admin diff-blocks vm1-boot.img ../../pm2/store/vm1-boot.img)
for tz in UTC Asia/Kolkata America/New_York; do
	a=$(TZ=$tz drbdsetup_on pm1 events2 --now --timestamps vm1-boot | head -n 1 | cut -d' ' -f1)
	b=$(TZ=$tz "$PYTHON" "$STANDIN" --lab "$LAB" --node pm1 events2 --now --timestamps vm1-boot | head -n 1 | cut -d' ' -f1)
	assert_eq "${b: -6}" "${a: -6}" "UTC offset of --timestamps with TZ=$tz ($a)"
done
same refused "$LAB/pm2/bin/drbdsetup" pm2 primary vm1-boot
assert_match 'Multiple primaries' "$(cat "$tmp/refused.err")" "primary on pm2 while pm1 is Primary"
assert_match 'Device minor not allocated' "$(cat "$tmp/badminor.err")" "suspend-io 7"

note "a following events2 --poll: answers n, ends with SIGKILL, leaves nothing behind"
mkfifo "$tmp/in"
exec 7<>"$tmp/in"
before=$(pgrep -P "$server" | sort | xargs)
"$LAB/pm1/bin/drbdsetup" events2 --poll --statistics vm2-boot <"$tmp/in" >"$tmp/follow" 2>&1 &
shim=$!
wait_for "grep -q '^exists -$' '$tmp/follow'" 5 "the stream's dump"
child=$(comm -13 <(tr ' ' '\n' <<<"$before") <(pgrep -P "$server" | sort) | xargs)
[ -n "$child" ] || fail "no child of the server (pid $server) answers the stream"
lab_write pm1 vm2-boot 3 5eed --wait
echo n >&7
wait_for "grep -Eq '^change device name:vm2-boot .* written:4 ' '$tmp/follow'" 5 "the stream to answer n (4 KiB written)"
kill -KILL "$shim"
wait "$shim" 2>/dev/null || true
sleep 1
for p in $child; do
	! kill -0 "$p" 2>/dev/null || fail "the server's child $p lives on after its client's SIGKILL: $(ps -o pid,args -p "$p" | tail -n 1)"
done
left=$(pgrep -f -- "bin/drbdsetup events2 --poll --statistics vm2-boot" || true)
[ -z "$left" ] || fail "left running: $(ps -o pid,args -p "${left//$'\n'/,}")"
exec 7>&-

note "a call the server answers itself, to a reader that has not read yet: the server goes on"
# (short verbs run in the server, not in a child: its output is handed to
# a child only when the reader's pipe is full)
mkfifo "$tmp/full"
exec 8<>"$tmp/full"
head -c 65536 /dev/zero >&8          # a pipe holds 64 KiB: full now
before=$(pgrep -P "$server" | sort | xargs)
"$LAB/pm1/bin/drbdsetup" status --json >&8 2>"$tmp/full.err" &
shim=$!
wait_for "[ -n \"\$(comm -13 <(tr ' ' '\\n' <<<'$before') <(pgrep -P $server | sort))\" ]" 5 \
	"the server to hand the output to a child"
same busy "$LAB/pm2/bin/drbdsetup" pm2 status vm1-data   # answered meanwhile
kill -0 "$shim" || fail "the shim ended before its output was read"
"$PYTHON" "$STANDIN" --lab "$LAB" --node pm1 status --json >"$tmp/full.py"
head -c "$((65536 + $(wc -c <"$tmp/full.py")))" <&8 | tail -c +65537 >"$tmp/full.out"
wait "$shim" || fail "status --json to a full pipe: exit $?"
exec 8>&-
cmp -s "$tmp/full.py" "$tmp/full.out" || fail "status --json to a full pipe differs:
$(diff "$tmp/full.py" "$tmp/full.out" | head -n 10)"

note "events2 --now in garbage mode runs on in a child; the server goes on"
standin_admin misbehave pm1 garbage >/dev/null
"$LAB/pm1/bin/drbdsetup" events2 --now vm1-boot >"$tmp/garbage" 2>"$tmp/garbage.err" &
shim=$!
wait_for "[ \$(wc -l <'$tmp/garbage') -ge 3 ]" 5 "garbage from events2 --now"
same busy2 "$LAB/pm2/bin/drbdsetup" pm2 events2 --now vm1-boot   # answered meanwhile
standin_admin misbehave pm1 normal >/dev/null
rc=0
wait "$shim" || rc=$?
assert_eq 20 "$rc" "exit code of events2 --now once the garbage ends"

note "suspend-io/resume-io through the shim: one line in holds.log"
holds=$LAB/drbd/holds.log
n0=$( (cat "$holds" 2>/dev/null || true) | wc -l)
t0=$EPOCHREALTIME
drbdsetup_on pm2 suspend-io 2
sleep 0.3
drbdsetup_on pm2 suspend-io 2     # a second suspend-io keeps the first start
sleep 0.2
drbdsetup_on pm2 resume-io 2
t1=$EPOCHREALTIME
drbdsetup_on pm2 resume-io 2      # not suspended: no hold ended
assert_eq $((n0 + 1)) "$(wc -l <"$holds")" "lines in holds.log"
read -r end node res ms by <<<"$(tail -n 1 "$holds")"
assert_eq "pm2 vm2-boot resume-io" "$node $res $by" "the hold's node, resource and end"
assert_match '^[0-9]+\.[0-9]{3}$' "$end" "end time (epoch seconds, 3 decimals)"
assert_num "x >= $t0 && x <= $t1 + 0.001" "$end" "end time"
elapsed_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
assert_num "x >= 480 && x <= $elapsed_ms" "$ms" "held ms (0.5 s of sleeps, $elapsed_ms ms in all)"

# speed is measured in benchmarks, not asserted here: a note for the log
per_call() {
	local t0=$EPOCHREALTIME i
	for ((i = 0; i < 20; i++)); do "$@" >/dev/null; done
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 / 20 }'
}
note "events2 --now --statistics vm1-boot: shim $(per_call "$LAB/pm1/bin/drbdsetup" events2 --now --statistics vm1-boot) ms per call, python $(per_call "$LAB/pm1/bin/drbdsetup-py" events2 --now --statistics vm1-boot) ms per call"
rm -rf "$tmp"
