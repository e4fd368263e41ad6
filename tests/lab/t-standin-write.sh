# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# In-flight writes: a lab-write lands on the primary's replica at once and
# on the peer's after the replication latency, counted as in flight
# meanwhile; suspend-io does not settle writes already in flight, and blocks
# new ones until resume-io; writes while disconnected resync on connect.
hash_of() { standin_admin block-hash "$1" vm1-boot "$2"; }
want() { standin_admin expect-hash vm1-boot "$1" "$2"; }

lab drbd latency vm1-boot 1500
w10=$(want 10 c0ffee)
t0=$EPOCHREALTIME
lab_write pm1 vm1-boot 10 c0ffee
assert_eq "$w10" "$(hash_of pm1 10)" "pm1's replica right after the write"
assert_ne "$w10" "$(hash_of pm2 10)" "pm2's replica before the latency"
assert_eq 8 "$(e2_key pm1 '^exists connection name:vm1-boot' ap-in-flight)" "ap-in-flight (sectors) on pm1"
assert_eq 1 "$(e2_key pm1 '^exists peer-device name:vm1-boot' pending)" "pending on pm1"
assert_eq 0 "$(e2_key pm1 '^exists connection name:vm1-data' ap-in-flight)" "other resources have nothing in flight"
wait_for '[ "$(hash_of pm2 10)" = "$w10" ]' 5 "the write to reach pm2"
assert_num 'x >= 1.4' "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "seconds until it reached pm2"
assert_eq 0 "$(e2_key pm1 '^exists connection name:vm1-boot' ap-in-flight)" "ap-in-flight once it arrived"

note "suspend-io does not settle what is already in flight"
w11=$(want 11 beef)
lab_write pm1 vm1-boot 11 beef
drbdsetup_on pm1 suspend-io 0
assert_ne "$w11" "$(hash_of pm2 11)" "pm2's replica right after suspend-io"
assert_eq 8 "$(e2_key pm1 '^exists connection name:vm1-boot' ap-in-flight)" "ap-in-flight while suspended"
wait_for '[ "$(hash_of pm2 11)" = "$w11" ]' 5 "the in-flight write to reach pm2 while suspended"
assert_eq user "$(e2_key pm1 '^exists resource name:vm1-boot' suspended)" "still suspended"

note "new writes block while suspended"
w12=$(want 12 f00d)
lab_write pm1 vm1-boot 12 f00d &
wpid=$!
sleep 0.5
kill -0 "$wpid" 2>/dev/null || fail "lab-write returned while I/O is suspended"
assert_ne "$w12" "$(hash_of pm1 12)" "pm1's replica while the write is blocked"
assert_eq 1 "$(e2_key pm1 '^exists device name:vm1-boot' upper-pending)" "upper-pending while blocked"
assert_eq upper "$(e2_key pm1 '^exists device name:vm1-boot' blocked)" "blocked while suspended"
assert_exit 1 lab_write pm1 vm1-boot 13 0bad --timeout 0.3
drbdsetup_on pm1 resume-io 0
rc=0; wait "$wpid" || rc=$?
assert_eq 0 "$rc" "the blocked lab-write after resume-io"
assert_eq "$w12" "$(hash_of pm1 12)" "pm1's replica after resume-io"
wait_for '[ "$(hash_of pm2 12)" = "$w12" ]' 5 "the resumed write to reach pm2"

note "writes go to the primary only"
assert_exit 1 lab_write pm2 vm1-boot 14 aa
assert_match 'Secondary' "$OUT" "lab-write on the secondary"

note "--wait returns once the peer has it (protocol C)"
lab drbd latency vm1-boot 300
w15=$(want 15 a5a5)
lab_write pm1 vm1-boot 15 a5a5 --wait
assert_eq "$w15" "$(hash_of pm2 15)" "pm2's replica after lab-write --wait"

note "disconnected: out of sync, resynced on connect"
lab drbd latency vm1-boot 0
lab drbd disconnect vm1-boot
w16=$(want 16 5eed)
lab_write pm1 vm1-boot 16 5eed
assert_ne "$w16" "$(hash_of pm2 16)" "pm2's replica while disconnected"
assert_eq 4 "$(e2_key pm1 '^exists peer-device name:vm1-boot' out-of-sync)" "out-of-sync on pm1 while disconnected"
lab drbd connect vm1-boot
# cmp reads the files without asking the stand-in: the lab's clock resyncs
wait_for 'cmp -s "$LAB/pm1/store/vm1-boot.img" "$LAB/pm2/store/vm1-boot.img"' 5 "the resync after connect"
assert_eq "$w16" "$(hash_of pm2 16)" "pm2's replica after the resync"
assert_eq Established "$(e2_key pm2 '^exists peer-device name:vm1-boot' replication)" "pm2 after the resync"
cmp "$LAB/pm1/store/vm1-boot.img" "$LAB/pm2/store/vm1-boot.img" || fail "replicas of vm1-boot differ after all writes arrived"
