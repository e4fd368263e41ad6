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
export FIXTURES=$TOP/tests/data/drbd

lab() { "$LABCTL" "$@"; }
cli() { "$LABCTL" cli "$@"; }       # cli NODE ARGS...: twinsnap on NODE
in_node() { "$LABCTL" exec "$@"; }  # in_node NODE CMD...
# the DRBD stand-in as NODE's drbdsetup: drbdsetup_on NODE ARGS...
drbdsetup_on() { local n=$1; shift; "$LAB/$n/bin/drbdsetup" "$@"; }
standin_admin() { python3 "$STANDIN" --lab "$LAB" admin "$@"; }

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
	python3 -c '
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
	python3 "$STANDIN" --lab "$LAB" --node "$node" lab-write "$@"
}

# e2check ARGS...: tests/lab/e2grammar.py (drbdsetup output vs. the grammar)
e2check() { python3 "$TOP/tests/lab/e2grammar.py" "$@"; }

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
