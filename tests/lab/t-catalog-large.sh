# shellcheck shell=bash
# A catalog larger than one IPC message and one CPG digest part: 12000
# snapshots written straight into both PMs' catalogs (copies of a real row)
# while the agents are stopped.  `snapshot list` must return every row (it
# pages), and the catalog digest after the restart (several parts) must
# arrive whole: a deletion pm2 knows of only through a tombstone, carried
# in the digest's last part, must reach pm1.  Some copies have hostile
# names (quotes, backslashes, newlines, controls, bidi, emoji): the list,
# streamed page by page, must still be one JSON document with every row
# once and every name intact.
snap_begin
N=12000   # many IPC messages (512 KiB) of rows, six digest parts

snap_create_ready pm1 vm1 --name seed
[ "$SNAP_RC" = 0 ] || fail "seed snapshot: exit $SNAP_RC: $SNAP_ERR"
SEED=$SNAP_ID
EXTRA=ffffffffffffffffffffffffffffffff      # sorts after every copy

fill() { # NODE: N copies of the seed row, and on pm1 the extra one
	"$PYTHON" - "$LAB/$1/state/catalog.db" "$SEED" "$N" "$1" "$EXTRA" <<'EOF'
import sqlite3, sys
db, seed, n, node, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
c = sqlite3.connect(db)
cols = [r[1] for r in c.execute("PRAGMA table_info(snapshots)")]
row = dict(zip(cols, c.execute("SELECT * FROM snapshots WHERE id = ?", (seed,)).fetchone()))
def copy_name(i):
    # every 7th a hostile one (valid UTF-8: what a catalog can hold)
    if i % 7:
        return "copy %d" % i
    return 'copy "%d" \\ \n\t\x01 \u00e9 \U0001f600 \u202e}{][,:' % i
def put(sid, t, name):
    r = dict(row, id=sid, created_at_ms=t, name=name)
    c.execute("INSERT INTO snapshots (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
              [r[k] for k in cols])
with c:
    for i in range(n):
        # ties on created_at_ms on purpose: pages must not skip or repeat
        put("%032x" % (0xc0de << 100 | i), row["created_at_ms"] + 1 + i // 3, copy_name(i))
    if node == "pm1":
        put(extra, row["created_at_ms"] + n, "deleted on pm2 while pm1 was away")
    else:
        c.execute("INSERT INTO tombstones (id, deleted_at_ms) VALUES (?, ?)",
                  (extra, row["created_at_ms"] + n))
EOF
}
unfill() { # NODE: every row but the seed, and the tombstone
	"$PYTHON" - "$LAB/$1/state/catalog.db" "$SEED" "$EXTRA" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
with c:
    c.execute("DELETE FROM snapshots WHERE id != ?", (sys.argv[2],))
    c.execute("DELETE FROM tombstones WHERE id = ?", (sys.argv[3],))
EOF
}
restore() {
	local rc=$?
	set +e
	lab agent pm1 stop >/dev/null
	lab agent pm2 stop >/dev/null
	unfill pm1
	unfill pm2
	# lab_clean starts the agents again and reads the test's status from $?
	status() { return "$rc"; }
	status
	lab_clean
}
trap restore EXIT

lab agent pm1 stop >/dev/null
lab agent pm2 stop >/dev/null
fill pm1
fill pm2
lab agent pm1 start >/dev/null
lab agent pm2 start >/dev/null
wait_all_running 30

# shellcheck disable=SC2016 # wait_for evaluates its argument
wait_for '[ "$(snap_state pm1 $EXTRA)" = absent ]' 30 "pm1 to apply pm2's tombstone from the digest's last part"
parts=$(grep_log pm1 'reconcile: '"$EXTRA" | head -n 1)
note "pm1: ${parts:-no reconcile line}"
for n in pm1 pm2; do
	t0=$EPOCHREALTIME
	count=$(snap_ids "$n" | wc -l)
	note "$n lists $count snapshots in $(since "$t0") s"
	assert_eq $((N + 1)) "$count" "rows listed on $n"
done
wait_for catalogs_agree 20 "both catalogs equal"
# the copies and the seed in list order (created_at_ms, then id), none twice,
# every name as written (the list is streamed: one document across pages)
order=$(snap_list pm2 | "$PYTHON" -c '
import json, sys
n = int(sys.argv[1])
rows = json.load(sys.stdin)["snapshots"]
ids = [r["id"] for r in rows]
names = {r["id"]: r["name"] for r in rows}
def copy_name(i):
    if i % 7:
        return "copy %d" % i
    return "copy \"%d\" \\ \n\t\x01 \u00e9 \U0001f600 \u202e}{][,:" % i
bad = [i for i in range(n) if names.get("%032x" % (0xc0de << 100 | i)) != copy_name(i)]
print("dup" if len(set(ids)) != len(ids) else
      "names %d wrong, first %s" % (len(bad), bad[:3]) if bad else "unique")' "$N")
assert_eq unique "$order" "ids and names in the paged list"

# pm1's agent alone restarts: pm2 multicasts its digest when pm1 leaves and
# again when it joins; pm1 must judge its rows only against a digest it
# received whole (a tail of the first one can reach it first)
since_line=$(log_lines pm1)
lab agent pm1 restart >/dev/null
wait_all_running 30
wait_for catalogs_agree 30 "both catalogs equal after pm1's restart"
partial=$(grep_log pm1 'is normal here, absent on the peer' "$since_line" | wc -l)
assert_eq 0 "$partial" "rows pm1 judged against a partial digest after its restart"
for n in pm1 pm2; do
	assert_eq $((N + 1)) "$(snap_ids "$n" | wc -l)" "rows listed on $n after pm1's restart"
done

# A list whose client reads slowly while the catalog changes between its
# pages.  The agent reads each next page ahead, while the client unpacks
# the one before; it must not answer with a page read before a change.
# The CLI asks for page 2 as soon as page 1 is in, then blocks writing
# page 1 into a pipe nobody reads yet: the agent answers page 2 and reads
# page 3 ahead.  Copy 3100 is then deleted; a page holds at most 1,500
# rows, so the copy (row 3101, after the seed) is in page 3 or later: no
# page that holds it can have been answered before the delete.
GONE=$(printf '000c0de%025x' 3100)      # "%032x" % (0xc0de << 100 | 3100)
fifo=$(mktemp -u) out=$(mktemp)
mkfifo "$fifo"
cli pm1 --json snapshot list >"$fifo" &
list_pid=$!
exec 3<"$fifo"
sleep 1
cli pm1 snapshot delete "$GONE" --yes >/dev/null || fail "delete of copy 3100"
cat <&3 >"$out"
exec 3<&-
wait "$list_pid" || fail "the slow list exited $?"
rm -f "$fifo"
got=$(snapjson ids <"$out" | awk -v gone="$GONE" '$1 == gone { g = NR } END { printf "%d %d", NR, g }')
rm -f "$out"
assert_eq "$N 0" "$got" "rows of the slow list, and the deleted copy's place in it (0: absent)"
