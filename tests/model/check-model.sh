#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-model.sh -- verify the Promela model of the snapshot protocol
# (tests/model/twinsnap.pml; what it models and checks: tests/model/README.md).
#
# Three exhaustive runs of spin's verifier (compiled with -O2, in parallel):
#   safety    -DSAFETY: assertions (S2, S5, S6, S7, S1 proxy, L1 at the end
#             state) and invalid end states (deadlocks: L1)
#   progress  -DNP, pan -l: no non-progress cycle (L1: nothing loops forever)
#   ltl L1    pan -a: <>[] both rows decided, as an LTL claim
# Prints the state counts of each, then "errors: N"; exits 1 on any error,
# 77 (automake's SKIP) when spin or a C compiler is missing.
#
# Environment: SPIN (spin), CC (cc), SPIN_DEFS (extra -D options for the
# model's knobs, e.g. SPIN_DEFS=-DCRASH_IN_DELETE=0), MODEL_KEEP=DIR (keep
# the generated verifier and any trail in DIR instead of a temporary dir).
# A failing run's counterexample is printed (spin -t) and kept, with the
# model, in ./model-failure/ of the current directory.

SPIN=${SPIN:-spin}
CC=${CC:-cc}
here=$(cd "$(dirname "$0")" && pwd)
model=$here/twinsnap.pml

if ! command -v "$SPIN" >/dev/null 2>&1; then
	echo "SKIP: spin not installed (apt-get install spin)"
	exit 77
fi
if ! command -v "${CC%% *}" >/dev/null 2>&1; then
	echo "SKIP: no C compiler ($CC) to build spin's verifier"
	exit 77
fi
if [ ! -r "$model" ]; then
	echo "ERROR: $model not found" >&2
	exit 1
fi

if [ -n "$MODEL_KEEP" ]; then
	work=$MODEL_KEEP
	mkdir -p "$work" || exit 1
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/twinsnap-model.XXXXXX") || exit 1
	trap 'rm -rf "$work"' EXIT
	trap 'exit 130' INT TERM
fi
start_dir=$(pwd)
cp "$model" "$work/twinsnap.pml" || exit 1
cd "$work" || exit 1

# spin -a writes pan.c etc.; the model's knobs go through the preprocessor.
# shellcheck disable=SC2086
if ! "$SPIN" -a $SPIN_DEFS twinsnap.pml >spin.out 2>&1; then
	cat spin.out
	echo "ERROR: spin -a failed"
	exit 1
fi

total=0
names="safety progress ltl_L1"

cflags_of() {
	case $1 in
	safety)   echo "-DSAFETY -DNOCLAIM" ;;
	progress) echo "-DNP -DNOCLAIM" ;;
	ltl_L1)   echo "" ;;
	esac
}

panflags_of() {
	case $1 in
	safety)   echo "" ;;
	progress) echo "-l -A -E" ;;    # cycles only: assertions are the safety run's
	ltl_L1)   echo "-a -A -E" ;;
	esac
}

# Compiling the verifiers takes longer than running them: all at once.
pids=""
for name in $names; do
	# shellcheck disable=SC2046
	$CC -O2 -w $(cflags_of "$name") -o "pan_$name" pan.c >"cc_$name.out" 2>&1 &
	pids="$pids $!"
done

# run NAME PID: wait for its verifier to compile, run it, report, count errors
run() {
	name=$1 pid=$2
	if ! wait "$pid"; then
		cat "cc_$name.out"
		echo "$name: cannot compile the verifier"
		total=$((total + 1))
		return
	fi
	# shellcheck disable=SC2046
	"./pan_$name" -m100000 $(panflags_of "$name") >"pan_$name.out" 2>&1
	errs=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "pan_$name.out" | tail -n 1)
	[ -n "$errs" ] || errs=1        # no summary: the verifier itself failed
	if [ "$errs" -eq 0 ] && grep -q 'max search depth too small\|out of memory\|Search not completed' \
		"pan_$name.out"; then
		errs=1                  # an incomplete search proves nothing
		grep 'max search depth too small\|out of memory\|Search not completed' "pan_$name.out"
	fi
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "pan_$name.out")
	depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "pan_$name.out")
	secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' "pan_$name.out")
	printf '%-9s %9s states stored, depth %3s, %5ss, errors: %s\n' \
		"$name" "$states" "$depth" "${secs:-?}" "$errs"
	if [ "$errs" -ne 0 ]; then
		grep '^pan:[0-9]' "pan_$name.out" | head -n 5
		if [ -f twinsnap.pml.trail ]; then
			echo "---- counterexample ($name), spin -t -T:"
			# shellcheck disable=SC2086
			"$SPIN" -t -T $SPIN_DEFS twinsnap.pml 2>&1 |
				sed -n '/^spin: trail ends/q;/^ltl /d;p'
			echo "----"
			keep=$start_dir/model-failure
			if mkdir -p "$keep" && cp twinsnap.pml "$keep/" &&
			   cp twinsnap.pml.trail "$keep/$name.trail"; then
				echo "kept in $keep; replay: spin -t -T${SPIN_DEFS:+ $SPIN_DEFS}" \
				     "-k $name.trail twinsnap.pml"
			fi
			rm -f twinsnap.pml.trail
		fi
	fi
	total=$((total + errs))
}

echo "model: $model${SPIN_DEFS:+ ($SPIN_DEFS)}"
# shellcheck disable=SC2086
set -- $pids
for name in $names; do
	run "$name" "$1"
	shift
done
echo "errors: $total"
[ "$total" -eq 0 ]
