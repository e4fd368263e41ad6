# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# The stand-in's continuous events2: suspend-io/resume-io (per PM),
# failover as real DRBD shows it on both PMs, disconnect/connect, the
# refusals and errors of the real drbdsetup, clean ends.
tmp=$(mktemp -d)
stream_start pm1 "$tmp/pm1" --timestamps --statistics
p1=$STREAM_PID
stream_start pm2 "$tmp/pm2" --statistics
p2=$STREAM_PID

drbdsetup_on pm1 suspend-io 1
wait_for "grep -Eq ' change resource name:vm1-data suspended:user$' '$tmp/pm1'" 3 "suspended:user on pm1"
drbdsetup_on pm1 resume-io 1
wait_for "grep -Eq ' change resource name:vm1-data suspended:no$' '$tmp/pm1'" 3 "suspended:no on pm1"
assert_no_match 'suspended:user' "$(cat "$tmp/pm2")" "pm2's stream (suspend-io is per PM)"

assert_exit 10 drbdsetup_on pm1 suspend-io 7
assert_match 'Device minor not allocated' "$OUT" "suspend-io of an unknown minor"
assert_exit 11 drbdsetup_on pm2 primary vm1-boot
assert_match 'Multiple primaries' "$OUT" "primary while the peer is Primary"
assert_exit 10 drbdsetup_on pm2 primary nosuch
assert_exit 20 drbdsetup_on pm1 show
assert_exit 20 drbdsetup_on pm1 events2 --bogus

lab failover vm2
wait_for "grep -Eq '^change resource name:vm2-boot role:Primary may_promote:no promotion_score:[0-9]+$' '$tmp/pm2'" 3 "pm2 promoted"
wait_for "grep -Eq ' change connection name:vm2-boot peer-node-id:1 conn-name:pm2 role:Primary$' '$tmp/pm1'" 3 "pm1 sees pm2 Primary"
e1=$(cat "$tmp/pm1")
assert_match ' change resource name:vm2-boot role:Secondary may_promote:yes promotion_score:10102$' "$e1" "pm1 demoted"
assert_match ' change device name:vm2-boot volume:0 minor:2 backing_dev:\S+ disk:UpToDate client:no open:no quorum:yes$' "$e1" "pm1 device closed"
sec=$(grep -n 'change connection name:vm2-boot peer-node-id:0 conn-name:pm1 role:Secondary$' "$tmp/pm2" | cut -d: -f1)
pri=$(grep -n 'change resource name:vm2-boot role:Primary' "$tmp/pm2" | cut -d: -f1)
if [ -z "$sec" ] || [ -z "$pri" ] || [ "$sec" -ge "$pri" ]; then
	fail "pm2 should see pm1 become Secondary (line ${sec:-none}) before its own promotion (line ${pri:-none})"
fi
assert_no_match 'vm1-' "$(grep 'role:' "$tmp/pm2" | grep -v exists)" "failover vm2 touches only vm2's resources"
assert_eq Primary "$(e2_key pm2 '^exists resource name:vm2-boot' role)" "vm2-boot role on pm2"
lab failover vm2
wait_for '[ "$(e2_key pm1 "^exists resource name:vm2-boot" role)" = Primary ]' 3 "vm2 back on pm1"

lab drbd disconnect vm1-boot
wait_for "grep -Eq ' change connection name:vm1-boot peer-node-id:1 conn-name:pm2 connection:StandAlone role:Unknown$' '$tmp/pm1'" 3 "pm1 StandAlone"
wait_for "grep -Eq '^change connection name:vm1-boot peer-node-id:0 conn-name:pm1 connection:StandAlone role:Unknown$' '$tmp/pm2'" 3 "pm2 StandAlone"
assert_match ' change peer-device name:vm1-boot peer-node-id:1 conn-name:pm2 volume:0 replication:Off peer-disk:DUnknown peer-client:no ' \
	"$(cat "$tmp/pm1")" "pm1 peer-device after disconnect"
lab drbd connect vm1-boot
wait_for "grep -Eq ' change connection name:vm1-boot peer-node-id:1 conn-name:pm2 connection:Connected role:Secondary$' '$tmp/pm1'" 3 "pm1 Connected again"
assert_match ' change connection name:vm1-boot peer-node-id:1 conn-name:pm2 connection:Connecting$' "$(cat "$tmp/pm1")" "Connecting before Connected"
wait_for "grep -Eq '^change peer-device name:vm1-boot peer-node-id:0 conn-name:pm1 volume:0 replication:Established peer-disk:UpToDate ' '$tmp/pm2'" 3 "pm2 Established again"

e2check events2 "$tmp/pm1" --timestamps --statistics || fail "pm1's stream: grammar"
e2check events2 "$tmp/pm2" --statistics || fail "pm2's stream: grammar"

kill -TERM "$p1" "$p2"
rc=0; wait "$p1" || rc=$?
assert_eq 0 "$rc" "events2 exit status after SIGTERM"
wait "$p2" || true

# --poll: an "n" re-reads, EOF on stdin ends the command cleanly
out=$({ sleep 0.3; echo n; sleep 0.3; } | drbdsetup_on pm1 events2 --poll --statistics)
assert_match 'exists -' "$out" "events2 --poll"
out=$({ echo n; echo n; } | drbdsetup_on pm1 events2 --now --poll vm1-boot)
assert_eq 3 "$(grep -c '^exists -$' <<<"$out")" "events2 --now --poll: a full dump per n"
rm -rf "$tmp"
