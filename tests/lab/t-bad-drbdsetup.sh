# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# A drbdsetup that prints garbage or dies at once does not take the agent
# down: it logs what is wrong, restarts events2 with backoff, and recovers
# once drbdsetup behaves again.
need_agent
log=$(agent_log pm1)

lab drbd misbehave pm1 garbage
lab agent pm1 restart
base=$(wc -l <"$log")
since() { tail -n +"$((base + 1))" "$log"; }
sleep 2
assert_exit 0 cli pm1 status
wait_for 'since | grep -Eiq "unparsable|malformed"' 5 "a log line about unparsable drbdsetup output"

base=$(wc -l <"$log")
lab drbd misbehave pm1 die
wait_for '[ "$(since | grep -Eic "exit.*20.*restart")" -ge 2 ]' 10 \
	"two log lines: drbdsetup exited (20), restarting"
assert_exit 0 cli pm1 status
since | grep -Ei "exit.*20.*restart" | head -n 4 | sed 's/^/# /'

lab drbd misbehave pm1 normal
wait_for '[ "$(node_field pm1 pm1 "drbd[resource=vm1-boot].role")" = Primary ] && [ "$(node_field pm1 pm1 state)" = running ]' 10 \
	"pm1's DRBD state to recover"
wait_for '[ "$(node_field pm2 pm1 state)" = running ]' 5 "pm2 to see pm1 running"
