# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the lab tests tests/lab/t-*.sh.  tests/lab/run sources this
# file and then the test, in one `bash -euo pipefail`; a test passes when it
# exits 0, is skipped with exit 77 (skip), and fails otherwise (fail).
# Set by the runner: TOP (checkout), LABCTL (contrib/lab/twinsnap-lab),
# TWINSNAP_LAB_DIR (the lab's directory, also $LAB).

: "${TOP:?run the lab tests through tests/lab/run}"
LAB=${TWINSNAP_LAB_DIR:?}
STANDIN=$TOP/contrib/lab/drbdsetup-standin
# the system python3 when there is one: a version manager's shim costs
# ~0.15 s per call, and the tests call python hundreds of times
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
export FIXTURES=$TOP/tests/data/drbd

lab() { "$LABCTL" "$@"; }
cli() { "$LABCTL" cli "$@"; }       # cli NODE ARGS...: twinsnap on NODE
in_node() { "$LABCTL" exec "$@"; }  # in_node NODE CMD...
# the DRBD stand-in as NODE's drbdsetup: drbdsetup_on NODE ARGS...
drbdsetup_on() { local n=$1; shift; "$LAB/$n/bin/drbdsetup" "$@"; }
standin_admin() { "$PYTHON" "$STANDIN" --lab "$LAB" admin "$@"; }

# matches GREP_ARGS...: grep -q over all of stdin.  Under pipefail,
# `producer | grep -q` fails when grep quits at its first match and the
# producer then dies of SIGPIPE, and `! producer | grep -q` then reports
# "no match" for a match; this reads everything before it looks.
matches() { local in; in=$(cat) || return 2; grep -q "$@" <<<"$in"; }

note() { echo "# $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need_agent() {
	[ "${TWINSNAP_LAB_NO_AGENT:-0}" != 1 ] || skip "needs twinsnapd (TWINSNAP_LAB_NO_AGENT=1)"
}

assert_eq() { # EXPECTED ACTUAL [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}
assert_ne() { # UNEXPECTED ACTUAL [WHAT]
	[ "$1" != "$2" ] || fail "${3:-value}: expected anything but '$1'"
}
assert_match() { # ERE TEXT [WHAT]
	grep -Eq -- "$1" <<<"$2" || fail "${3:-output}: does not match /$1/:
$(head -c 3000 <<<"$2")"
}
assert_no_match() { # ERE TEXT [WHAT]
	! grep -Eq -- "$1" <<<"$2" || fail "${3:-output}: unexpectedly matches /$1/:
$(grep -E -- "$1" <<<"$2" | head -n 5)"
}
# assert_exit CODE CMD...: CMD exits with CODE; its output is kept in $OUT
assert_exit() {
	local want=$1 rc=0
	shift
	OUT=$("$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want; output:
$OUT"
}
assert_num() { # EXPR-for-awk-with-x VALUE [WHAT], e.g. assert_num 'x > 0 && x < 100' "$d"
	awk -v x="$2" "BEGIN { exit !($1) }" </dev/null ||
		fail "${3:-value} '$2' does not satisfy $1"
}

# wait_for CMD TIMEOUT [WHAT]: eval CMD every 0.2 s until it succeeds;
# fails after TIMEOUT seconds, showing CMD's last output.
wait_for() {
	local cmd=$1 timeout=${2:-10} what=${3:-$1} end last=""
	end=$(awk -v t="$timeout" -v n="${EPOCHREALTIME:-$(date +%s)}" 'BEGIN { printf "%.3f", n + t }')
	while :; do
		if last=$(eval "$cmd" 2>&1); then
			return 0
		fi
		if awk -v e="$end" -v n="${EPOCHREALTIME:-$(date +%s)}" 'BEGIN { exit !(n >= e) }'; then
			fail "timed out after ${timeout}s waiting for: $what
last output of '$cmd':
$(head -c 3000 <<<"$last")"
		fi
		sleep 0.2
	done
}

# json_get PATH [JSON]: a value out of JSON (argument or stdin).  PATH is
# dot-separated keys and indexes, `[key=value]` picks the first list element
# with that key, `#` is the length: nodes[name=pm2].state, members.#
# Strings print raw, everything else as JSON (true, null, 12.5, [...]).
json_get() {
	local path=$1
	shift
	"$PYTHON" -c '
import json, re, sys
path = sys.argv[1]
text = sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read()
try:
    cur = json.loads(text)
except ValueError as e:
    sys.exit("json_get: not JSON (%s): %.300s" % (e, text))
for tok in re.findall(r"\[[^\]]*\]|[^.\[\]]+", path):
    try:
        if tok == "#":
            cur = len(cur)
        elif tok.startswith("["):
            sel = tok[1:-1]
            if "=" in sel:
                k, v = sel.split("=", 1)
                cur = next(x for x in cur if str(x.get(k)) == v)
            else:
                cur = cur[int(sel)]
        elif isinstance(cur, list):
            cur = cur[int(tok)]
        else:
            cur = cur[tok]
    except (KeyError, IndexError, ValueError, TypeError, StopIteration, AttributeError):
        sys.exit("json_get: no %s (at %s) in: %.500s" % (path, tok, text))
print(cur if isinstance(cur, str) else json.dumps(cur))
' "$path" "$@"
}

# node_field VIEWER NODE FIELD: FIELD of NODE in `twinsnap --json node list` on VIEWER
node_field() {
	cli "$1" --json node list | json_get "nodes[name=$2].$3"
}

# corosync membership as seen in NODE's namespace: "NODES QUORATE", e.g. "2 Yes"
corosync_view() {
	in_node "$1" corosync-quorumtool -s 2>/dev/null |
		awk '/^Nodes:/ { n = $2 } /^Quorate:/ { q = $2 } END { print n " " q }'
}

# the value of KEY on the first events2 line of NODE matching ERE
# (`events2 --now --statistics`): e2_key NODE ERE KEY
e2_key() {
	drbdsetup_on "$1" events2 --now --statistics | grep -E -- "$2" | head -n1 |
		tr ' ' '\n' | sed -n "s/^$3://p"
}

agent_log() { echo "$LAB/$1/twinsnapd.log"; }

# lab_write NODE RES BLOCK SEED [--wait] [--timeout S]: a guest write through
# the DRBD stand-in (see contrib/lab/README.md)
lab_write() {
	local node=$1
	shift
	"$PYTHON" "$STANDIN" --lab "$LAB" --node "$node" lab-write "$@"
}

# e2check ARGS...: tests/lab/e2grammar.py (drbdsetup output vs. the grammar)
e2check() { "$PYTHON" "$TOP/tests/lab/e2grammar.py" "$@"; }

# stream_start NODE FILE ARGS...: `drbdsetup events2 ARGS` of NODE into FILE
# in the background, until `exists -`; its pid in $STREAM_PID
stream_start() {
	local node=$1 file=$2
	shift 2
	"$LAB/$node/bin/drbdsetup" events2 "$@" >"$file" 2>&1 &
	# shellcheck disable=SC2034 # read by the test
	STREAM_PID=$!
	wait_for "grep -q 'exists -' '$file'" 5 "events2 of $node to finish its dump"
}

# ---------------------------------------------------------------------------
# snapshots (the t-snap-* tests)

snapjson() { "$PYTHON" "$TOP/tests/lab/snapjson.py" "$@"; }
snap_list() { cli "$1" --json snapshot list; }        # snap_list NODE
snap_ids() { snap_list "$1" | snapjson ids; }         # "ID STATE" lines
snap_rows() { snap_list "$1" | snapjson rows; }       # canonical JSON rows
snap_state() { snap_list "$1" | snapjson state "$2"; } # STATE or "absent"
# snap_events NODE ID|'*' [--after SEQ]: "SEQ KIND REASON" lines
snap_events() { local n=$1; shift; cli "$n" --json events | snapjson events "$@"; }
event_seq() { cli "$1" --json events | snapjson maxseq; }  # highest seq on NODE
# pieces_on NODE [ID]: `twinsnap-lab pieces` lines (of one snapshot)
pieces_on() { lab pieces "$1" | awk -v id="${2-}" 'id == "" || $1 == id'; }
piece_vols() { pieces_on "$1" "$2" | awk '{ print $2 }' | sort | xargs; }

# snap_create NODE ARGS...: `twinsnap --json snapshot create ARGS` on NODE;
# sets SNAP_RC, SNAP_OUT (stdout), SNAP_ERR (stderr), SNAP_ID (when exit 0)
snap_create() {
	local node=$1 err
	shift
	err=$(mktemp)
	SNAP_RC=0
	SNAP_OUT=$(cli "$node" --json snapshot create "$@" 2>"$err") || SNAP_RC=$?
	# shellcheck disable=SC2034 # read by the tests
	SNAP_ERR=$(cat "$err")
	rm -f "$err"
	SNAP_ID=""
	# shellcheck disable=SC2034 # read by the tests
	if [ "$SNAP_RC" = 0 ]; then SNAP_ID=$(json_get id "$SNAP_OUT"); fi
}

# snap_create_ready NODE ARGS...: snap_create, but for up to 10 s a create
# refused with `reconciling` (both PMs have just seen each other again and
# are still exchanging catalog digests: docs/protocol.md) is tried again
snap_create_ready() {
	local i
	for ((i = 0; i < 50; i++)); do
		snap_create "$@"
		if [ "$SNAP_RC" != 4 ] || [ "$(json_get error.code "$SNAP_OUT" 2>/dev/null)" != reconciling ]; then
			return 0
		fi
		sleep 0.2
	done
}

# all_running VIEWER: VIEWER's node list shows both PMs running members
# whose DRBD state is known (drbd_ready)
all_running() {
	cli "$1" --json node list | "$PYTHON" -c '
import json, sys
nodes = json.load(sys.stdin)["nodes"]
bad = ["%s %s member=%s drbd_ready=%s" % (n["name"], n["state"], n["member"], n.get("drbd_ready"))
       for n in nodes if n["state"] != "running" or not n["member"] or not n.get("drbd_ready")]
print("; ".join(bad) or "all running")
sys.exit(1 if bad or len(nodes) != 2 else 0)'
}
wait_all_running() { # [TIMEOUT]
	wait_for 'all_running pm1 && all_running pm2' "${1:-20}" "both PMs to see both PMs running members"
}

# io_suspended NODE: lists NODE's resources with suspend-io on (DRBD's own
# view, events2 --now); true (0) if there is any
io_suspended() {
	drbdsetup_on "$1" events2 --now | awk '/^exists resource / && / suspended:user/ { sub("name:", "", $3); print $3; n++ } END { exit !n }'
}
# primary_of_res RES: the PM whose role is Primary for RES ("" if none)
primary_of_res() {
	local n
	for n in pm1 pm2; do
		[ "$(e2_key "$n" "^exists resource name:$1 " role)" = Primary ] && { echo "$n"; return 0; }
	done
	echo ""
}

# catalogs_agree: both PMs list the same ids in the same states (S2);
# prints the difference
catalogs_agree() {
	local a b
	a=$(snap_ids pm1) b=$(snap_ids pm2)
	[ "$a" = "$b" ] && return 0
	echo "pm1: ${a:-(none)}"
	echo "pm2: ${b:-(none)}"
	return 1
}

# check_no_orphans NODE: S3 on NODE (call when idle): every piece belongs to
# a row of NODE's list, every normal row has its pieces there, and no
# temporary file is left in the store
check_no_orphans() {
	local n=$1 tmp out left
	tmp=$(mktemp)
	pieces_on "$n" >"$tmp"
	out=$(snap_list "$n" | snapjson orphans "$n" "$tmp") || {
		rm -f "$tmp"
		fail "S3 (no orphan) on $n: $out"
	}
	rm -f "$tmp"
	left=$(find "$LAB/$n/store/.twinsnap" -mindepth 2 -type f ! -name '*.img' 2>/dev/null || true)
	[ -z "$left" ] || fail "S3 on $n: leftover files in the store: $left"
}

# grep_log NODE ERE [SINCE_LINE]: lines of NODE's agent log (after line SINCE)
grep_log() { tail -n +"$((${3:-0} + 1))" "$(agent_log "$1")" | grep -E -- "$2" || true; }
log_lines() { wc -l <"$(agent_log "$1")"; }

# the agent config the runner expects ([snapshot] settings from the environment)
agent_default() {
	grep -qx "freeze_timeout_ms = ${TWINSNAP_LAB_FREEZE_TIMEOUT_MS:-10000}" "$LAB/$1/twinsnap.conf" &&
		grep -qx "drain = ${TWINSNAP_LAB_DRAIN:-yes}" "$LAB/$1/twinsnap.conf" &&
		grep -qx "max_holds = ${TWINSNAP_LAB_MAX_HOLDS:-8}" "$LAB/$1/twinsnap.conf" &&
		grep -qx "admin_group = ${TWINSNAP_LAB_ADMIN_GROUP:-}" "$LAB/$1/twinsnap.conf"
}

# poll CMD TIMEOUT: like wait_for, but returns 1 on timeout instead of failing
poll() {
	local end
	end=$(awk -v t="$2" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.3f", n + t }')
	until eval "$1" >/dev/null 2>&1; do
		awk -v e="$end" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n >= e) }' && return 1
		sleep 0.2
	done
}

# delete_all_snapshots: every snapshot either PM lists, deleted (not waited for)
delete_all_snapshots() {
	local id n
	for id in $( (snap_ids pm1; snap_ids pm2) | awk '{ print $1 }' | sort -u); do
		for n in pm1 pm2; do
			cli "$n" snapshot delete "$id" --yes >/dev/null 2>&1 && break
		done
	done
}

# lab_clean: the lab back to a clean state; the t-snap-* tests run it as
# their EXIT trap (`trap lab_clean EXIT`), so it also runs after a failure.
# Load stopped, link healed, latency 0, resources connected, in sync and
# Primary on pm1, corosync and agents running with the default config,
# maintenance off, snapshots enabled, every snapshot deleted, no I/O
# suspended.  A test that passed fails if the lab cannot be cleaned.
lab_clean() {
	local rc=$? n res problems=()
	trap - EXIT
	set +e
	for n in vm1 vm2; do lab load stop "$n" >/dev/null; done
	lab heal
	for n in pm1 pm2; do lab drbd misbehave "$n" normal; done
	for res in vm1-boot vm1-data vm2-boot; do
		lab drbd latency "$res" 0
		lab drbd connect "$res"
	done
	poll '! lab drbd table | matches Connecting' 5 || problems+=("resources still Connecting")
	for res in vm1-boot vm1-data vm2-boot; do lab drbd resync-finish "$res"; done
	lab_clean_cluster 30 15
	lab_clean_exit "$rc"
}

# lab_clean_cluster RUNNING_S SNAPS_S: the half of a lab_clean that does
# not depend on what DRBD is (also tests/realdrbd/lib.sh), once DRBD is
# connected and in sync: roles back on pm1, corosync and the agents running
# with the default config (up to RUNNING_S), maintenance off, snapshots
# enabled, every snapshot deleted (up to SNAPS_S), no piece left, no I/O
# suspended.  What fails is appended to the caller's `problems`.
lab_clean_cluster() {
	local running_s=$1 snaps_s=$2 n vm res
	for vm in vm1 vm2; do
		if [ "$(primary_of_res "$vm-boot")" != pm1 ]; then
			lab failover "$vm" >/dev/null || problems+=("failover $vm back to pm1 failed")
		fi
	done
	for n in pm1 pm2; do lab corosync "$n" start >/dev/null; done
	for n in pm1 pm2; do
		if ! agent_default "$n"; then
			lab agent "$n" restart >/dev/null || problems+=("agent $n did not restart")
		else
			lab agent "$n" start >/dev/null || problems+=("agent $n did not start")
		fi
	done
	poll 'all_running pm1 && all_running pm2' "$running_s" ||
		problems+=("PMs not both running: $(all_running pm1)")
	for n in pm1 pm2; do cli pm1 node maintenance "$n" off >/dev/null; done
	cli pm1 snapshots enable >/dev/null || problems+=("snapshots enable failed")
	delete_all_snapshots
	# shellcheck disable=SC2016 # poll evaluates its quoted argument
	poll '[ -z "$(snap_ids pm1)" ] && [ -z "$(snap_ids pm2)" ]' "$snaps_s" ||
		problems+=("snapshots left: pm1: $(snap_ids pm1 | xargs) pm2: $(snap_ids pm2 | xargs)")
	for n in pm1 pm2; do
		[ -z "$(pieces_on "$n")" ] || problems+=("pieces left on $n: $(pieces_on "$n" | awk '{ print $1 "/" $2 }' | xargs)")
		res=$(io_suspended "$n") && problems+=("I/O still suspended on $n: $res")
	done
}

# lab_clean_exit RC: the end of a lab_clean: the caller's `problems`
# printed, and a test that passed fails if there are any
lab_clean_exit() {
	local rc=$1
	if [ ${#problems[@]} -gt 0 ]; then
		printf 'lab_clean: %s\n' "${problems[@]}" >&2
		[ "$rc" != 0 ] || rc=1
	fi
	exit "$rc"
}

# shellcheck disable=SC2016 # wait_for evaluates its quoted argument
# snap_begin: the start of every t-snap-* test: needs the agents, cleans up
# on exit (also after a failure), waits until both PMs are ready
snap_begin() {
	local left
	need_agent
	trap lab_clean EXIT
	wait_all_running 30
	left=$(snap_ids pm1; snap_ids pm2)
	if [ -n "$left" ]; then
		note "deleting snapshots left from before: $(xargs <<<"$left")"
		delete_all_snapshots
		wait_for '[ -z "$(snap_ids pm1)$(snap_ids pm2)" ]' 15 "no snapshot left before the test"
	fi
}

# vm1_in_flight: ap-in-flight (sectors) of vm1-boot + vm1-data on pm1
vm1_in_flight() {
	echo $(($(e2_key pm1 '^exists connection name:vm1-boot' ap-in-flight) + $(e2_key pm1 '^exists connection name:vm1-data' ap-in-flight)))
}

# slow_snapshot: a snapshot of vm1 caught in its drain: the load writes to
# vm1, vm1-boot replicates with 3 s of latency, `snapshot create --no-wait`
# on pm1, and pm1 (the primary) has suspended vm1-boot's I/O and waits for
# the ~3 s of writes in flight.  Sets SNAP_ID; HELD_AT is when the
# suspension was seen.
# shellcheck disable=SC2016 # wait_for evaluates its quoted argument
slow_snapshot() {
	lab load start vm1 >/dev/null
	lab drbd latency vm1-boot 3000
	wait_for '[ "$(vm1_in_flight)" -gt 0 ]' 5 "writes in flight from pm1 to pm2"
	snap_create_ready pm1 vm1 --no-wait
	[ "$SNAP_RC" = 0 ] || fail "snapshot create vm1 --no-wait: exit $SNAP_RC (stdout: $SNAP_OUT; stderr: $SNAP_ERR)"
	assert_eq broken "$(json_get state "$SNAP_OUT")" "state printed by create --no-wait"
	wait_for 'io_suspended pm1 | matches -x vm1-boot' 5 "pm1 to suspend vm1-boot's I/O for $SNAP_ID"
	# shellcheck disable=SC2034 # read by the tests
	HELD_AT=$EPOCHREALTIME
	[ "$(vm1_in_flight)" -gt 0 ] || fail "no write in flight once I/O is held: the drain would not be slow"
	note "snapshot $SNAP_ID: pm1 holds vm1's I/O, $(vm1_in_flight) sectors in flight"
}

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

# freeze timeout (s) + 2 s of slack - seconds since $1, at least 1
freeze_left() {
	awk -v a="$1" -v b="$EPOCHREALTIME" -v f="${TWINSNAP_LAB_FREEZE_TIMEOUT_MS:-10000}" \
		'BEGIN { l = f / 1000 + 2 - (b - a); printf "%.2f", l < 1 ? 1 : l }'
}

# auto_deleted NODE ID: the reasons of NODE's auto_deleted events for ID
auto_deleted() { snap_events "$1" "$2" | awk '$2 == "auto_deleted" { print $3 }' | xargs; }
