# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# A real corosync 3 per PM, each in its own namespace: knet with crypto,
# two members, two_node quorum; CPG and cmap answer inside each namespace.
for n in pm1 pm2; do
	out=$(in_node "$n" corosync-quorumtool -s)
	assert_match '^Nodes: +2$' "$out" "corosync-quorumtool -s on $n"
	assert_match '^Quorate: +Yes' "$out" "corosync-quorumtool -s on $n"
	assert_match '^Flags: .*2Node' "$out" "corosync-quorumtool -s on $n"
	assert_match "^ +${n#pm} +1 $n \(local\)" "$out" "corosync-quorumtool -s on $n"
	assert_exit 0 in_node "$n" corosync-cpgtool
	assert_eq twinsnap-lab "$(in_node "$n" corosync-cmapctl -g totem.cluster_name | sed 's/.*= //')" "cluster name on $n"
	assert_eq aes256 "$(in_node "$n" corosync-cmapctl -g totem.crypto_cipher | sed 's/.*= //')" "crypto_cipher on $n"
	assert_eq sha256 "$(in_node "$n" corosync-cmapctl -g totem.crypto_hash | sed 's/.*= //')" "crypto_hash on $n"
	assert_eq knet "$(in_node "$n" corosync-cmapctl -g totem.transport | sed 's/.*= //')" "transport on $n"
done
# one corosync per namespace: the two answer with different local node ids
assert_eq 1 "$(in_node pm1 corosync-cmapctl -g runtime.votequorum.this_node_id | sed 's/.*= //')" "pm1 node id"
assert_eq 2 "$(in_node pm2 corosync-cmapctl -g runtime.votequorum.this_node_id | sed 's/.*= //')" "pm2 node id"
