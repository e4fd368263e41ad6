# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# CLI exit codes that need no cluster: 5 agent not reachable (no socket, a
# stopped agent: after the connect timeout, not for ever), 2 usage.
[ -x "$TOP/src/twinsnap" ] || skip "src/twinsnap is not built"

assert_exit 5 cli pm1 --socket nosuch status
assert_exit 5 cli pm1 --json --socket nosuch node list
assert_exit 2 cli pm1 node maintenance
assert_exit 2 cli pm1 node maintenance pm2
assert_exit 2 cli pm1 node frobnicate
if [ "${TWINSNAP_LAB_NO_AGENT:-0}" != 1 ]; then
	# a stopped agent: the kernel queues the connection, nobody answers it
	pid=$(<"$LAB/pm1/twinsnapd.pid")
	kill -STOP "$pid"
	trap 'kill -CONT "$pid" 2>/dev/null' EXIT
	t0=$EPOCHREALTIME
	out=$(timeout 60 "$LABCTL" cli pm1 --json status 2>&1) && rc=0 || rc=$?
	kill -CONT "$pid"
	assert_eq 5 "$rc" "exit code against a stopped agent ($out)"
	assert_match '"agent_unreachable"' "$out" "the error code"
	assert_match 'did not take the connection within 10 s' "$out" "the message"
	assert_num "x >= 9.5 && x < 30" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" \
		"seconds until the CLI gave up"
	# the abandoned connection costs the agent nothing
	assert_exit 0 cli pm1 status
	lab agent pm1 stop
	assert_exit 5 cli pm1 status
fi
