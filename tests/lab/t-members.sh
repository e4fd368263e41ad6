# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# Both PMs see two members, both running, quorate; node list and status
# follow the CLI contract.
need_agent

for v in pm1 pm2; do
	wait_for "[ \"\$(node_field $v pm1 state)\" = running ] && [ \"\$(node_field $v pm2 state)\" = running ]" 10 \
		"$v to see pm1 and pm2 running"
done

for v in pm1 pm2; do
	j=$(cli "$v" --json status)
	assert_eq twinsnap-lab "$(json_get cluster "$j")" "status.cluster on $v"
	assert_eq true "$(json_get quorate "$j")" "status.quorate on $v"
	assert_eq "$v" "$(json_get local_node "$j")" "status.local_node on $v"
	assert_eq 2 "$(json_get 'members.#' "$j")" "number of members on $v"
	assert_eq 1 "$(json_get 'members[name=pm1].nodeid' "$j")" "nodeid of pm1 on $v"
	assert_eq 2 "$(json_get 'members[name=pm2].nodeid' "$j")" "nodeid of pm2 on $v"
	assert_eq true "$(json_get snapshots_enabled "$j")" "status.snapshots_enabled on $v"
	assert_eq 2 "$(json_get 'nodes.#' "$j")" "status.nodes on $v"

	l=$(cli "$v" --json node list)
	for n in pm1 pm2; do
		assert_eq "${n#pm}" "$(json_get "nodes[name=$n].nodeid" "$l")" "nodeid of $n on $v"
		assert_eq running "$(json_get "nodes[name=$n].state" "$l")" "state of $n on $v"
		assert_eq true "$(json_get "nodes[name=$n].member" "$l")" "member of $n on $v"
		assert_eq false "$(json_get "nodes[name=$n].maintenance" "$l")" "maintenance of $n on $v"
		assert_eq null "$(json_get "nodes[name=$n].sync_done" "$l")" "sync_done of $n on $v"
		assert_eq 3 "$(json_get "nodes[name=$n].drbd.#" "$l")" "DRBD resources of $n on $v"
		for res in vm1-boot vm1-data vm2-boot; do
			d=$(json_get "nodes[name=$n].drbd[resource=$res]" "$l")
			want_role=Secondary
			[ "$n" = pm1 ] && want_role=Primary
			assert_eq "$want_role" "$(json_get role "$d")" "$res role of $n on $v"
			assert_eq Connected "$(json_get connection "$d")" "$res connection of $n on $v"
			assert_eq UpToDate "$(json_get disk "$d")" "$res disk of $n on $v"
			assert_eq UpToDate "$(json_get peer_disk "$d")" "$res peer_disk of $n on $v"
			assert_eq Established "$(json_get replication "$d")" "$res replication of $n on $v"
			assert_eq null "$(json_get "done" "$d")" "$res done of $n on $v"
		done
	done
	assert_eq '["vm1-boot", "vm1-data", "vm2-boot"]' \
		"$(json_get 'nodes[name=pm1].primary_of' "$l" | python3 -c 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin))))')" \
		"primary_of of pm1 on $v"
	assert_eq '[]' "$(json_get 'nodes[name=pm2].primary_of' "$l")" "primary_of of pm2 on $v"
done
