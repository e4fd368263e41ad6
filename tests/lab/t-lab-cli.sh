# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# twinsnap-lab's own command line: usage errors, status, exec.
assert_exit 2 lab
assert_match 'usage' "$OUT" "twinsnap-lab without arguments"
assert_exit 0 lab -h
assert_exit 2 lab exec pm3 true
assert_match "unknown node 'pm3'" "$OUT" "exec pm3"
assert_exit 2 lab agent pm0 start
assert_exit 2 lab corosync pm1 dance
assert_exit 2 lab cli nosuchnode status
assert_exit 2 lab drbd misbehave pm3 die
assert_exit 2 lab drbd misbehave pm1 sometimes
assert_exit 2 lab frobnicate
assert_exit 3 lab failover vm9
assert_exit 0 lab exec pm2 true
assert_exit 7 lab exec pm2 sh -c 'exit 7'
assert_exit 0 lab status
assert_match 'corosync: +pid [0-9]+, alive' "$OUT" "lab status"
assert_match 'pm2 +vm2-boot +2 +Secondary' "$OUT" "lab status"
