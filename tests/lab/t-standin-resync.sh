# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# Resync in the stand-in: SyncSource/SyncTarget with consistent, growing
# done% on both PMs, status --json sync details, finish by command or by
# itself.
lab drbd resync-start vm1-data --rate 10
d1=$(e2_key pm1 '^exists peer-device name:vm1-data' "done")
d2=$(e2_key pm2 '^exists peer-device name:vm1-data' "done")
assert_num 'x > 0 && x < 100' "$d1" "done on pm1"
assert_num 'x > 0 && x < 100' "$d2" "done on pm2"
assert_num "x - $d1 < 5 && x >= $d1" "$d2" "done on pm2 just after pm1"
assert_match '^[0-9]+\.[0-9]{2}$' "$d1" "done: printed %.2f"
assert_eq SyncSource "$(e2_key pm1 '^exists peer-device name:vm1-data' replication)" "pm1 replication"
assert_eq Inconsistent "$(e2_key pm1 '^exists peer-device name:vm1-data' peer-disk)" "pm1 peer-disk"
assert_eq SyncTarget "$(e2_key pm2 '^exists peer-device name:vm1-data' replication)" "pm2 replication"
assert_eq Inconsistent "$(e2_key pm2 '^exists device name:vm1-data' disk)" "pm2 disk"
assert_match '^[0-9]+$' "$(e2_key pm2 '^exists peer-device name:vm1-data' eta)" "eta"
assert_eq 10.00 "$(e2_key pm2 '^exists peer-device name:vm1-data' dbdt1)" "dbdt1"
oos=$(e2_key pm1 '^exists peer-device name:vm1-data' out-of-sync)
assert_num "x > 0 && x <= 65536 && x % 4 == 0" "$oos" "out-of-sync (KiB, 4 KiB bitmap blocks)"
assert_eq Established "$(e2_key pm1 '^exists peer-device name:vm1-boot' replication)" "vm1-boot is not resyncing"

tmp=$(mktemp -d)
drbdsetup_on pm2 status vm1-data --json >"$tmp/s.json"
e2check status-json "$tmp/s.json" "$FIXTURES/status-resync-assembled.json" || fail "status --json while resyncing: layout"
assert_num 'x > 0 && x < 100' "$(json_get '0.connections.0.peer_devices.0.percent-resync-done' "$(cat "$tmp/s.json")")" "percent-resync-done"
assert_match '^vm1-data role:Secondary' "$(drbdsetup_on pm2 status vm1-data)" "plain status"
assert_match 'replication:SyncTarget peer-disk:UpToDate done:' "$(drbdsetup_on pm2 status vm1-data)" "plain status"

# --poll: each "n" prints the progress (statistics-only changes)
{ for _ in 1 2 3; do sleep 0.4; echo n; done; } | drbdsetup_on pm2 events2 --poll --statistics >"$tmp/poll"
grep '^change peer-device name:vm1-data' "$tmp/poll" | tr ' ' '\n' | sed -n 's/^done://p' >"$tmp/done"
assert_num 'x >= 2' "$(wc -l <"$tmp/done")" "progress lines after n"
sort -n -c "$tmp/done" || fail "done: does not grow: $(xargs <"$tmp/done")"
e2check events2 "$tmp/poll" --statistics || fail "events2 --poll output: grammar"

sleep 1
later=$(e2_key pm1 '^exists peer-device name:vm1-data' "done")
assert_num "x > $d1 && x < 100" "$later" "done after a while (was $d1)"

lab drbd resync-finish vm1-data
assert_eq Established "$(e2_key pm1 '^exists peer-device name:vm1-data' replication)" "pm1 after resync-finish"
assert_eq UpToDate "$(e2_key pm2 '^exists device name:vm1-data' disk)" "pm2 disk after resync-finish"
assert_eq "" "$(e2_key pm2 '^exists peer-device name:vm1-data' "done")" "no done: after the resync"

lab drbd resync-start vm1-boot --rate 64
wait_for '[ "$(e2_key pm2 "^exists peer-device name:vm1-boot" replication)" = Established ]' 5 "a 1-second resync to end by itself"
assert_eq UpToDate "$(e2_key pm2 '^exists device name:vm1-boot' disk)" "pm2 disk after the resync"
rm -rf "$tmp"
