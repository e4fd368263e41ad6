# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# The DRBD stand-in's events2 and status output follow the real grammar and
# the key order of the real fixtures (tests/data/drbd).
tmp=$(mktemp -d)
fx=$FIXTURES/events2-suspended-io.txt    # utils >= 9.29 keys, --statistics
for n in pm1 pm2; do
	drbdsetup_on "$n" events2 --now --statistics --timestamps >"$tmp/$n-full"
	e2check events2 "$tmp/$n-full" --fixture "$fx" --statistics --timestamps --dump ||
		fail "events2 --now --statistics --timestamps on $n: grammar (output in $tmp/$n-full)"
	drbdsetup_on "$n" events2 --now >"$tmp/$n-plain"
	e2check events2 "$tmp/$n-plain" --fixture "$fx" --dump || fail "events2 --now on $n: grammar"
	drbdsetup_on "$n" events2 --now --statistics vm2-boot >"$tmp/$n-one"
	assert_eq 5 "$(wc -l <"$tmp/$n-one")" "events2 --now vm2-boot on $n: 4 objects + 'exists -'"
	drbdsetup_on "$n" events2 --now all --color=never >/dev/null
	assert_eq 13 "$(wc -l <"$tmp/$n-plain")" "events2 --now on $n: 3 resources x 4 objects + 'exists -'"
done
# identities: DRBD node ids pm1 = 0, pm2 = 1; conn-name = the peer's name
assert_match '^exists connection name:vm1-boot peer-node-id:1 conn-name:pm2 connection:Connected role:Secondary$' \
	"$(cat "$tmp/pm1-plain")" "pm1's connection line"
assert_match '^exists connection name:vm1-boot peer-node-id:0 conn-name:pm1 connection:Connected role:Primary$' \
	"$(cat "$tmp/pm2-plain")" "pm2's connection line"
assert_match '^exists resource name:vm1-data role:Primary suspended:no force-io-failures:no may_promote:no promotion_score:10102$' \
	"$(cat "$tmp/pm1-plain")" "pm1's resource line"
assert_match '^exists device name:vm2-boot volume:0 minor:2 backing_dev:\S+ disk:UpToDate client:no open:no quorum:yes$' \
	"$(cat "$tmp/pm2-plain")" "pm2's device line"
assert_match '^exists peer-device name:vm1-data peer-node-id:0 conn-name:pm1 volume:0 replication:Established peer-disk:UpToDate peer-client:no resync-suspended:no$' \
	"$(cat "$tmp/pm2-plain")" "pm2's peer-device line"

# status --json: the layout of the real printer (9.34 keys)
for n in pm1 pm2; do
	drbdsetup_on "$n" status --json >"$tmp/$n.json"
	e2check status-json "$tmp/$n.json" "$FIXTURES/status-suspended-user-assembled.json" ||
		fail "status --json on $n: layout"
	assert_eq 3 "$(json_get '#' "$(cat "$tmp/$n.json")")" "resources in status --json on $n"
	assert_match '"connection-state": "Connected", $' "$(cat "$tmp/$n.json")" "the real printer's stray space"
done
j=$(drbdsetup_on pm2 status vm1-boot --json)
assert_eq Secondary "$(json_get '0.role' "$j")" "pm2 role in status --json"
assert_eq 1 "$(json_get '0.node-id' "$j")" "pm2 node-id in status --json"
assert_eq Primary "$(json_get '0.connections.0.peer-role' "$j")" "pm2's peer-role in status --json"
assert_eq 65536 "$(json_get '0.devices.0.size' "$j")" "device size (KiB) in status --json"
assert_match '^vm1-boot role:Primary$' "$(drbdsetup_on pm1 status vm1-boot)" "plain status"
assert_exit 10 drbdsetup_on pm1 status nosuch
rm -rf "$tmp"

# the checker itself accepts the real fixtures
for f in "$FIXTURES"/events2-*.txt; do
	case $f in *v84*) continue ;; esac
	grep -v '^#' "$f" >"${tmp:-/tmp}.fx" || true
	ts=()
	head -n1 "${tmp:-/tmp}.fx" | grep -Eq '^[0-9]{4}-' && ts=(--timestamps)
	e2check events2 "${tmp:-/tmp}.fx" --statistics "${ts[@]}" || fail "e2grammar.py rejects the fixture $f"
done
rm -f "${tmp:-/tmp}.fx"
