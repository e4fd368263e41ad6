# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# Maintenance set on pm1 for pm2 is seen on both PMs, survives agent
# restarts on both, and clears again; an unknown node is "not found".
need_agent

both_show() { # STATE: pm2's state on both viewers
	wait_for "[ \"\$(node_field pm1 pm2 state)\" = $1 ] && [ \"\$(node_field pm2 pm2 state)\" = $1 ]" "${2:-5}" \
		"pm2 $1 on pm1 and pm2"
}

assert_exit 0 cli pm1 node maintenance pm2 on
both_show maintenance
for v in pm1 pm2; do
	assert_eq true "$(node_field "$v" pm2 maintenance)" "pm2 maintenance flag on $v"
	assert_eq running "$(node_field "$v" pm1 state)" "pm1 state on $v"
done

note "restart pm2's agent"
lab agent pm2 restart
both_show maintenance 10
note "restart pm1's agent"
lab agent pm1 restart
both_show maintenance 10

assert_exit 0 cli pm1 node maintenance pm2 off
both_show running
for v in pm1 pm2; do
	assert_eq false "$(node_field "$v" pm2 maintenance)" "pm2 maintenance flag on $v"
done

assert_exit 3 cli pm1 node maintenance pm9 on
assert_match 'pm1' "$OUT" "message naming the known nodes"
assert_match 'pm2' "$OUT" "message naming the known nodes"
assert_exit 2 cli pm1 node maintenance pm2 maybe
