# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# partition/heal and corosync stop/start/kill as corosync itself sees them.
lab partition
wait_for '[ "$(corosync_view pm1)" = "1 Yes" ] && [ "$(corosync_view pm2)" = "1 Yes" ]' 10 "each side alone (two_node keeps quorum)"
assert_match 'DOWN' "$(in_node pm1 ip -br link show tsl-veth1)" "tsl-veth1 during the partition"
lab heal
wait_for '[ "$(corosync_view pm1)" = "2 Yes" ] && [ "$(corosync_view pm2)" = "2 Yes" ]' 15 "both members again after heal"

lab corosync pm2 stop
wait_for '[ "$(corosync_view pm1)" = "1 Yes" ]' 10 "pm1 alone after corosync on pm2 stopped"
assert_exit 1 in_node pm2 corosync-quorumtool -s
lab corosync pm2 start
wait_for '[ "$(corosync_view pm1)" = "2 Yes" ] && [ "$(corosync_view pm2)" = "2 Yes" ]' 15 "both members after corosync start"

lab corosync pm1 kill
wait_for '[ "$(corosync_view pm2)" = "1 Yes" ]' 10 "pm2 alone after corosync on pm1 was killed"
lab corosync pm1 start
wait_for '[ "$(corosync_view pm1)" = "2 Yes" ] && [ "$(corosync_view pm2)" = "2 Yes" ]' 15 "both members after corosync start"
