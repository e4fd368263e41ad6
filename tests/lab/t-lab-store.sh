# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# Volume stores (XFS with reflink on loop devices), libvirt test-driver
# nodes, agent configs and the network as `up` made them.
for n in pm1 pm2; do
	store=$LAB/$n/store
	assert_eq xfs "$(findmnt -n -o FSTYPE "$store")" "filesystem of $store"
	assert_match 'reflink=1' "$(xfs_info "$store")" "xfs_info $store"
	for v in vm1-boot vm1-data vm2-boot; do
		assert_eq $((64 * 1024 * 1024)) "$(stat -c %s "$store/$v.img")" "size of $store/$v.img"
	done
	cp --reflink=always "$store/vm1-boot.img" "$store/.reflink-probe"
	rm -f "$store/.reflink-probe"
	# the agent's namespace sees the store too
	assert_exit 0 in_node "$n" test -f "$store/vm1-data.img"

	uri=test://$LAB/$n/node.xml
	assert_eq "vm1 vm2" "$(virsh -c "$uri" list --name | xargs)" "running VMs on $n"
	assert_match "firmware='efi'" "$(virsh -c "$uri" dumpxml vm2)" "vm2 on $n"
	assert_no_match "firmware=" "$(virsh -c "$uri" dumpxml vm1)" "vm1 on $n"
	assert_match "$store/vm1-boot.img" "$(virsh -c "$uri" domblklist vm1)" "disks of vm1 on $n"
	assert_match "$store/vm1-data.img" "$(virsh -c "$uri" domblklist vm1)" "disks of vm1 on $n"
	assert_match '<serial>boot</serial>' "$(virsh -c "$uri" dumpxml vm1)" "vm1 boot disk serial"
	assert_match '<serial>data</serial>' "$(virsh -c "$uri" dumpxml vm1)" "vm1 data disk serial"

	conf=$(cat "$LAB/$n/twinsnap.conf")
	assert_match "^state_dir = $LAB/$n/state$" "$conf" "$n twinsnap.conf"
	assert_match "^node_name = $n$" "$conf" "$n twinsnap.conf"
	assert_match "^drbdsetup = $LAB/$n/bin/drbdsetup$" "$conf" "$n twinsnap.conf"
	assert_match "^uri = test://$LAB/$n/node.xml$" "$conf" "$n twinsnap.conf"

	assert_match "10\.231\.0\.${n#pm}/24" "$(in_node "$n" ip -br addr show "tsl-veth${n#pm}")" "address of $n"
	assert_match '^lo +UNKNOWN' "$(in_node "$n" ip -br link show lo)" "lo up in $n"
done
cmp "$LAB/pm1/store/vm1-data.img" "$LAB/pm2/store/vm1-data.img" || fail "replicas of vm1-data differ at start"
assert_exit 1 in_node pm1 ip link show tsl-veth2
