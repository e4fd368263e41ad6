# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# pm2's agent dies (SIGKILL): pm1 shows pm2 down; started again, it rejoins.
need_agent

lab agent pm2 kill
wait_for '[ "$(node_field pm1 pm2 state)" = down ]' 10 "pm1 to see pm2 down"
assert_exit 5 cli pm2 status
lab agent pm2 start
for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm2 state)\" = running ] && [ \"\$(node_field $v pm2 member)\" = true ]" 10 \
		"pm2 running again on $v"
done
