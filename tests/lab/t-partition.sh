# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# A partition makes each PM see the other down and not a member; healing
# brings both back as running members.
need_agent

lab partition
wait_for '[ "$(node_field pm1 pm2 state)" = down ] && [ "$(node_field pm1 pm2 member)" = false ]' 10 "pm1 to see pm2 down"
wait_for '[ "$(node_field pm2 pm1 state)" = down ] && [ "$(node_field pm2 pm1 member)" = false ]' 10 "pm2 to see pm1 down"
assert_eq running "$(node_field pm1 pm1 state)" "pm1's own state during the partition"
assert_eq running "$(node_field pm2 pm2 state)" "pm2's own state during the partition"

lab heal
for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm1 state)\" = running ] && [ \"\$(node_field $v pm2 state)\" = running ] && [ \"\$(node_field $v pm1 member)\" = true ] && [ \"\$(node_field $v pm2 member)\" = true ]" 15 \
		"both running members again on $v"
done
