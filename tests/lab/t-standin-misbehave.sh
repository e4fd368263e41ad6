# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# `drbd misbehave`: garbage lines / exit 20 at once / back to normal.
assert_exit 0 lab drbd misbehave pm1 garbage
out=$(timeout 1 "$LAB/pm1/bin/drbdsetup" events2 --statistics --timestamps || true)
assert_num 'x >= 5' "$(wc -l <<<"$out")" "garbage lines in one second"
assert_no_match '^exists -$' "$out" "garbage output"
tmp=$(mktemp)
printf '%s\n' "$out" >"$tmp"
! e2check events2 "$tmp" --timestamps 2>/dev/null || fail "garbage output passes the grammar"
rm -f "$tmp"
assert_match 'exists -' "$(drbdsetup_on pm2 events2 --now)" "pm2 is unaffected"

assert_exit 0 lab drbd misbehave pm1 die
assert_exit 20 drbdsetup_on pm1 events2 --now --statistics
assert_match 'Failed to modprobe drbd' "$OUT" "events2 in die mode"
assert_exit 20 drbdsetup_on pm1 status --json
assert_exit 20 drbdsetup_on pm1 suspend-io 0

assert_exit 0 lab drbd misbehave pm1 normal
assert_match 'exists -$' "$(drbdsetup_on pm1 events2 --now)" "pm1 after misbehave normal"

note "a running stream ends (exit 20) when drbdsetup starts dying"
"$LAB/pm1/bin/drbdsetup" events2 >/dev/null 2>&1 &
p=$!
sleep 0.3
lab drbd misbehave pm1 die
rc=0
for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
wait "$p" || rc=$?
assert_eq 20 "$rc" "exit status of the running events2"
lab drbd misbehave pm1 normal
