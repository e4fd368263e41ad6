# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# A resync (64 MiB at 10 MiB/s, ~6.4 s) shows as "syncing" with growing
# progress on both PMs; finishing it brings both back to running.
need_agent

lab drbd resync-start vm1-data --rate 10
for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm1 state)\" = syncing ] && [ \"\$(node_field $v pm2 state)\" = syncing ]" 3 \
		"both PMs syncing as seen on $v"
done
first=""
for v in pm1 pm2; do
	l=$(cli "$v" --json node list)
	for n in pm1 pm2; do
		d=$(json_get "nodes[name=$n].sync_done" "$l")
		assert_num 'x > 0 && x < 100' "$d" "sync_done of $n on $v"
		dd=$(json_get "nodes[name=$n].drbd[resource=vm1-data].done" "$l")
		assert_num 'x > 0 && x < 100' "$dd" "vm1-data done of $n on $v"
	done
	assert_eq SyncSource "$(json_get 'nodes[name=pm1].drbd[resource=vm1-data].replication' "$l")" "pm1 replication on $v"
	assert_eq SyncTarget "$(json_get 'nodes[name=pm2].drbd[resource=vm1-data].replication' "$l")" "pm2 replication on $v"
	assert_eq Inconsistent "$(json_get 'nodes[name=pm2].drbd[resource=vm1-data].disk' "$l")" "pm2 disk on $v"
	[ -n "$first" ] || first=$(json_get 'nodes[name=pm2].sync_done' "$l")
done
sleep 1.5
later=$(node_field pm1 pm2 sync_done)
assert_num "x > $first && x < 100" "$later" "progress after 1.5 s (was $first)"

lab drbd resync-finish vm1-data
for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm1 state)\" = running ] && [ \"\$(node_field $v pm2 state)\" = running ]" 5 \
		"both PMs running again as seen on $v"
	assert_eq null "$(node_field "$v" pm2 sync_done)" "sync_done of pm2 on $v after the resync"
done
