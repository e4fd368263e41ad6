# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# The IPC door admits root and the configured admin group only: anyone else
# gets exit 6 and the agent logs the refusal; a member of the admin group
# gets in.  Uses the system's unprivileged nobody/nogroup (no user is made).
need_agent
trap lab_clean EXIT
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	skip "no nobody user or nogroup group on this system"
wait_all_running 30

as_nobody() { # as_nobody GID ARGS...: twinsnap on pm1 as uid nobody, gid GID
	local gid=$1
	shift
	in_node pm1 setpriv --reuid=nobody --regid="$gid" --clear-groups "$TOP/src/twinsnap" "$@"
}

# Root only (the lab's default: admin_group empty).
before=$(log_lines pm1)
rc=0
out=$(as_nobody daemon status 2>&1) || rc=$?
assert_eq 6 "$rc" "exit of twinsnap status as nobody (root only)"
assert_match 'permission denied' "$out" "what the CLI says"
wait_for "grep_log pm1 'refused connection from uid $(id -u nobody)' $before | matches ." 5 \
	"pm1's log line for the refused connection"
rc=0
out=$(as_nobody daemon --json node list 2>/dev/null) || rc=$?
assert_eq 6 "$rc" "exit of node list --json as nobody"
assert_match '"permission_denied"' "$out" "JSON error code"

# With admin_group = nogroup, a member (nobody's group) is admitted.
TWINSNAP_LAB_ADMIN_GROUP=nogroup lab agent pm1 restart >/dev/null
rc=0
out=$(as_nobody nogroup --json status 2>&1) || rc=$?
assert_eq 0 "$rc" "exit of twinsnap status as a member of the admin group ($out)"
assert_eq pm1 "$(json_get local_node "$out")" "status answered to the admin group member"
