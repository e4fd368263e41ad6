# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# CLI exit codes that need no cluster: 5 agent not reachable, 2 usage.
[ -x "$TOP/src/twinsnap" ] || skip "src/twinsnap is not built"

assert_exit 5 cli pm1 --socket nosuch status
assert_exit 5 cli pm1 --json --socket nosuch node list
assert_exit 2 cli pm1 node maintenance
assert_exit 2 cli pm1 node maintenance pm2
assert_exit 2 cli pm1 node frobnicate
if [ "${TWINSNAP_LAB_NO_AGENT:-0}" != 1 ]; then
	lab agent pm1 stop
	assert_exit 5 cli pm1 status
fi
