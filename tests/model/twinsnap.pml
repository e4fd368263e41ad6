/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap.pml -- a Promela model of the coordinated-snapshot protocol
 * (docs/protocol.md, "Snapshot protocol"), checked by spin for the
 * properties of INVARIANTS.md named below.  What is modelled, what is not,
 * and how to run it: tests/model/README.md and check-model.sh.
 *
 * One snapshot, from the moment its CREATE was delivered and accepted on
 * both PMs.  PM 0 is the primary P, PM 1 the secondary S.  Each PM holds its
 * own copy of the row and applies the handlers of src/core/snapfsm.c to it,
 * driven the way src/agent_snap.c drives them.  Every agent step (one
 * delivered message, one local event with the effects it causes) is one
 * atomic action; the two agents and the fault injector interleave freely.
 *
 * The network is one agreed sequence of multicasts (mkind/mfrom/mreason,
 * nmsg) with a delivery cursor per PM, so while connected both PMs deliver
 * the same messages in the same order.  A partition (or the crash of an
 * agent) fixes cut = the length of the sequence at that instant: a message
 * with an index >= cut reaches only its sender, and each side delivers a
 * prefix of what it can see -- possibly a different prefix on each side --
 * and then sees PEER_LOST.  Then the PMs meet again and reconcile by
 * CatalogDigest, in as many rounds as faults during reconciliation force.
 *
 * Compile-time knobs (spin -DNAME=VALUE); the defaults are what
 * check-model.sh verifies:
 *   MAXCRASH           crashes per agent (1)
 *   CRASH_BEFORE_SEND  an agent may also die inside a step, after the row
 *                      was persisted and before the multicast that ends
 *                      the step (1)
 *   CRASH_IN_DELETE    ... or inside a deletion, after REMOVE_ROW and
 *                      before DELETE_PIECES: start-up then removes the
 *                      pieces as orphans (1)
 *   LOCAL_FAILURES     quiesce/drain failures and piece failures (1)
 *   FAILOVER           a DRBD role change seen by either PM (1)
 *   ROUND_FAULTS       reconciliation rounds cut short by a new fault (1)
 *   GUARD_LAG          the primary's agent may lag more than a second behind
 *                      its expired freeze timer, so that the freeze guard
 *                      (timeout + 1 s) resumes I/O behind its back (0: the
 *                      agent always handles its timer within that second)
 */

#ifndef MAXCRASH
#define MAXCRASH 1
#endif
#ifndef CRASH_BEFORE_SEND
#define CRASH_BEFORE_SEND 1
#endif
#ifndef CRASH_IN_DELETE
#define CRASH_IN_DELETE 1
#endif
#ifndef LOCAL_FAILURES
#define LOCAL_FAILURES 1
#endif
#ifndef FAILOVER
#define FAILOVER 1
#endif
#ifndef ROUND_FAULTS
#define ROUND_FAULTS 1
#endif
#ifndef GUARD_LAG
#define GUARD_LAG 0
#endif

#define P 0
#define S 1

/*
 * Names (spin -t prints them):
 *  - the phases of a PM's row (enum ts_snap_phase), and two without a row:
 *    removed (TS_FX_REMOVE_ROW: the row is gone, a tombstone is left) and
 *    absent (the agent died handling the CREATE before it persisted the
 *    row: neither row nor tombstone);
 *  - the messages of one snapshot (SnapFrozen, SnapTaken, SnapAbort);
 *  - ABORT reasons as far as the properties care (local_failure stands for
 *    quiesce_failed, drain_failed, guest_agent_unavailable, local_failure);
 *  - a peer's view in a CatalogDigest (enum ts_peer_view).
 */
mtype = {
	created, frozen, taken, committing, normal, pending, removed, absent,
	FROZEN, TAKEN, ABORT,
	no_reason, failover, freeze_timeout, local_failure,
	v_absent, v_broken, v_pending, v_normal, v_tombstone
};

#define IN_FLIGHT(ph)   ((ph) == created || (ph) == frozen || (ph) == taken || \
			 (ph) == committing)
#define NOROW(i)        (phase[i] == removed || phase[i] == absent)
#define DECIDED(i)      (phase[i] == normal || NOROW(i))
#define BOTH_DECIDED    (DECIDED(P) && DECIDED(S))

/* FROZEN + two TAKEN + at most one ABORT per PM (abort_sent) */
#define MAXM 5

/* ---- the rows, one per PM ------------------------------------------------------ */

mtype phase[2] = created;
bool taken_by0[2];              /* taken_by[0]: the primary's TAKEN delivered */
bool taken_by1[2];              /* taken_by[1]: the secondary's TAKEN delivered */
bool sent_taken[2];             /* persisted before the TAKEN goes out */
bool abort_sent[2];             /* not persisted */
bool pieces[2];                 /* this PM's pieces are on its store */

/* ---- the agents ------------------------------------------------------------------ */

bool connected[2] = true;       /* still in the snapshot's CPG configuration */
byte cursor[2];                 /* next index of the sequence to deliver */
bool io_held = true;            /* P: DRBD I/O suspended (in the CREATE step) */
bool timer_armed = true;        /* P: the freeze timer */
bool quiescing = true;          /* P: draining, QUIESCED not reported yet */
bool role_seen[2];              /* this PM saw the DRBD role change */
byte crashes[2];
bool crash_now[2];              /* a crash point inside a step was taken: the
				 * crash comes next, before anything else */

/* ---- the network ---------------------------------------------------------------------- */

mtype mkind[MAXM];
byte mfrom[MAXM];
mtype mreason[MAXM];
byte nmsg;
bool partitioned;               /* a partition or a crash ended the configuration */
byte cut;                       /* from index cut on, a message reaches its sender only */
#define VISIBLE(i, k)   (!partitioned || (k) < cut || mfrom[k] == (i))

/* ---- the fault injector ------------------------------------------------------------------ */

bool faults_on = true;          /* faults may still happen */
bool need_round;                /* the membership changed: a digest round is due */
byte round_faults;
bool timer_due;                 /* GUARD_LAG: P's freeze timer expired, not handled yet */
bool guard_fired;               /* GUARD_LAG: the guard resumed I/O behind the agent */

#define CAN_CRASH(i)    (faults_on && crashes[i] < MAXCRASH)
#define NOCRASH         (!crash_now[P] && !crash_now[S])

/* ---- ghosts: observation only, the protocol never reads them -------------------------------- */

bool got_tp[2];                 /* this PM delivered P's TAKEN */
bool got_ts[2];                 /* this PM delivered S's TAKEN */
bool adopted[2];                /* normal adopted from a peer that had delivered both */
bool took[2];                   /* this PM took its pieces ... */
bool late[2];                   /* ... while P's I/O was not held */
bool fo_abort;                  /* a failover ABORT was delivered to a row in flight */

#define LEGIT(i)   ((got_tp[i] && got_ts[i]) || adopted[i])
/* S6 normal means both */
#define S6_OK(i)   (phase[i] != normal || LEGIT(i))
/* S1, proxy: both pieces were taken while P held I/O */
#define S1P_OK(i)  (phase[i] != normal || (took[P] && !late[P] && took[S] && !late[S]))

/* L1 as an LTL claim: eventually both rows are decided, for good */
#define decided    ((phase[0] == normal || phase[0] == removed || phase[0] == absent) && \
		    (phase[1] == normal || phase[1] == removed || phase[1] == absent))
ltl L1 { <> [] decided }

/* ==== narration for trails (spin -t prints it; it changes no state) ========================= */

inline say_row(i)
{
	printf("      pm%d row: %e taken_by=[%d,%d] sent_taken=%d abort_sent=%d pieces=%d",
	       i, phase[i], taken_by0[i], taken_by1[i], sent_taken[i], abort_sent[i],
	       pieces[i]);
	if
	:: i == P -> printf(" io_held=%d timer=%d\n", io_held, timer_armed)
	:: else -> printf("\n")
	fi
}

/* ==== effects (TS_FX_*) ================================================================== */

/* SEND_*: the multicast.  Every handler persists before it sends, and the
 * send is its last effect: the agent may die just before it. */
inline mcast(i, kind, reason)
{
	if
	:: CRASH_BEFORE_SEND && CAN_CRASH(i) ->
		printf("    pm%d dies just before multicasting %e %e\n", i, kind, reason);
		crash_now[i] = true
	:: true ->
		assert(nmsg < MAXM);
		printf("    pm%d multicasts #%d %e %e\n", i, nmsg, kind, reason);
		mkind[nmsg] = kind;
		mfrom[nmsg] = i;
		mreason[nmsg] = reason;
		nmsg++
	fi
}

/* RESUME (resume_io()): only the primary holds anything; it also stops the
 * drain poll, so no QUIESCED follows */
inline resume(i)
{
	if
	:: i == P -> io_held = false; quiescing = false
	:: else -> skip
	fi
}

inline disarm(i)
{
	if
	:: i == P -> timer_armed = false; timer_due = false
	:: else -> skip
	fi
}

/* fx_abort(): abort_sent, SEND_ABORT */
inline send_abort(i, reason)
{
	abort_sent[i] = true;
	mcast(i, ABORT, reason)
}

/* auto_delete(): DISARM + RESUME (primary), DELETE_PIECES unless created,
 * REMOVE_ROW -- in this order, so a crash can fall between the last two */
inline auto_delete(i)
{
	if
	:: i == P -> disarm(i); resume(i)
	:: else -> skip
	fi;
	/* REMOVE_ROW first (with its piece records), then DELETE_PIECES */
	phase[i] = removed;
	if
	:: pieces[i] ->
		if
		:: CRASH_IN_DELETE && CAN_CRASH(i) ->
			printf("    pm%d dies before deleting its pieces (orphans, removed at start-up)\n", i);
			crash_now[i] = true
		:: true -> printf("    pm%d deletes its pieces\n", i)
		fi;
		pieces[i] = false
	:: else -> skip
	fi
}

/* primary_commit(): sent_taken, committing, PERSIST, DISARM, RESUME, SEND_TAKEN */
inline primary_commit(i)
{
	sent_taken[i] = true;
	phase[i] = committing;
	disarm(i);
	resume(i);
	mcast(i, TAKEN, no_reason)
}

/* ==== handlers (src/core/snapfsm.c), each behind its row of the table ======================== */

/* QUIESCED: table created */
inline ev_quiesced(i, ok)
{
	if
	:: phase[i] == created && i == P && !abort_sent[i] ->
		if
		:: ok ->
			assert(io_held || guard_fired);
			mcast(i, FROZEN, no_reason)
		:: else ->
			disarm(i);
			resume(i);
			send_abort(i, local_failure)
		fi
	:: else -> skip
	fi
}

/* PIECES, success (on_pieces(); the phase is frozen) */
inline ev_pieces_ok(i)
{
	phase[i] = taken;
	if
	:: i == S ->
		if
		:: abort_sent[i] -> skip                        /* PERSIST */
		:: else ->
			sent_taken[i] = true;                   /* PERSIST */
			mcast(i, TAKEN, no_reason)
		fi
	:: else ->
		if
		:: taken_by1[i] && !abort_sent[i] -> primary_commit(i)
		:: else -> skip                                 /* PERSIST */
		fi
	fi
}

/* PIECES, failed: DELETE_PIECES, DISARM + RESUME (primary), ABORT
 * local_failure unless one was sent; the phase stays frozen */
inline ev_pieces_err(i)
{
	pieces[i] = false;
	if
	:: i == P -> disarm(i); resume(i)
	:: else -> skip
	fi;
	if
	:: !abort_sent[i] -> send_abort(i, local_failure)
	:: else -> skip
	fi
}

/* FROZEN: table created.  on_frozen(): frozen, PERSIST, TAKE_PIECES, which
 * run_fx() executes at once and answers with PIECES */
inline ev_frozen(i)
{
	if
	:: phase[i] == created ->
		phase[i] = frozen;
		if
		:: true ->
			printf("    pm%d takes its pieces (P's I/O held: %d)\n", i, io_held);
			pieces[i] = true;
			took[i] = true;
			late[i] = !io_held;
			ev_pieces_ok(i)
		:: LOCAL_FAILURES && faults_on ->
			printf("    pm%d fails to take its pieces\n", i);
			ev_pieces_err(i)
		fi
	:: else -> skip
	fi
}

/* TAKEN: table frozen, taken, committing */
inline ev_taken(i, from)
{
	if
	:: phase[i] == frozen || phase[i] == taken || phase[i] == committing ->
		if
		:: from == S ->
			if
			:: taken_by1[i] -> skip                 /* ignored */
			:: else ->
				taken_by1[i] = true;
				if
				:: i == P && phase[i] == taken && !abort_sent[i] ->
					primary_commit(i)
				:: else -> skip                 /* PERSIST */
				fi
			fi
		:: else ->
			if
			:: !taken_by1[i] || taken_by0[i] -> skip        /* ignored */
			:: else ->
				taken_by0[i] = true;
				phase[i] = normal               /* PERSIST, reply */
			fi
		fi
	:: else -> skip
	fi
}

/* ABORT: table in flight.  (refuse_late(), for guest_agent_unavailable in
 * phase created, leaves the same state as auto_delete() there.) */
inline ev_abort(i, reason)
{
	if
	:: IN_FLIGHT(phase[i]) ->
		if
		:: reason == failover -> fo_abort = true
		:: else -> skip
		fi;
		auto_delete(i)
	:: else -> skip
	fi
}

/* PEER_LOST: table in flight */
inline ev_peer_lost(i)
{
	if
	:: IN_FLIGHT(phase[i]) ->
		if
		:: sent_taken[i] ->
			if
			:: i == P -> disarm(i); resume(i)
			:: else -> skip
			fi;
			phase[i] = pending                      /* PERSIST */
		:: else -> auto_delete(i)
		fi
	:: else -> skip
	fi
}

/* ROLE_CHANGE: table in flight (agent_snap.c feeds it only while
 * !abort_sent) */
inline ev_role_change(i)
{
	if
	:: IN_FLIGHT(phase[i]) && !(abort_sent[i] || (i == P && sent_taken[i])) ->
		if
		:: i == P -> disarm(i); resume(i)
		:: else -> skip
		fi;
		send_abort(i, failover)
	:: else -> skip
	fi
}

/* FREEZE_TIMEOUT: table created, frozen, taken */
inline ev_freeze_timeout(i)
{
	if
	:: (phase[i] == created || phase[i] == frozen || phase[i] == taken) &&
	   i == P && !sent_taken[i] && !abort_sent[i] ->
		resume(i);
		send_abort(i, freeze_timeout)
	:: else -> skip
	fi
}

/* RESTART: table in flight (recover_rows() skips normal and pending rows) */
inline ev_restart(i)
{
	if
	:: IN_FLIGHT(phase[i]) ->
		if
		:: sent_taken[i] -> phase[i] = pending          /* PERSIST */
		:: else -> auto_delete(i)
		fi
	:: else -> skip
	fi
}

/* reconcile_with() for our one row, then RECONCILE (table: any phase with
 * a row).  legit: the peer's normal came from delivering both TAKEN (ghost,
 * for S6). */
inline ev_reconcile(i, v, legit)
{
	if
	:: NOROW(i) -> skip                             /* no row: nothing to judge */
	:: IN_FLIGHT(phase[i]) && connected[i] -> skip  /* in flight here: skipped */
	:: phase[i] == normal && v == v_normal -> skip  /* skipped before stepping */
	:: else ->
		if
		:: phase[i] == normal ->
			if
			:: v == v_tombstone ->
				phase[i] = removed;             /* REMOVE_ROW */
				if
				:: CRASH_IN_DELETE && CAN_CRASH(i) ->
					printf("    pm%d dies before deleting its pieces\n", i);
					crash_now[i] = true
				:: true -> skip
				fi;
				pieces[i] = false               /* DELETE_PIECES, or start-up's orphan removal */
			:: else -> skip                         /* ignored */
			fi
		:: else ->
			if
			:: v == v_normal && sent_taken[i] ->
				taken_by0[i] = true;
				taken_by1[i] = true;
				phase[i] = normal;              /* PERSIST */
				adopted[i] = legit
			:: else -> auto_delete(i)
			fi
		fi
	fi
}

/* view_of_row() for the digest; a tombstone for a removed row */
inline view_of(i, v)
{
	if
	:: phase[i] == normal -> v = v_normal
	:: phase[i] == pending -> v = v_pending
	:: phase[i] == removed -> v = v_tombstone
	:: phase[i] == absent -> v = v_absent
	:: else -> v = v_broken
	fi
}

/* ==== crash and restart ===================================================================== */

/* The agent dies (its freeze guard resumes I/O when the pipe closes), the
 * peer loses it, and it restarts on its persisted row: resume_intents()
 * (nothing left to resume), then recover_rows().  The persisted row is the
 * row in memory but for abort_sent, which is not persisted, and for the
 * crash points inside a step, whose lost writes are left out where the
 * crash point is taken. */
inline crash(i)
{
	printf("  pm%d crashes and restarts (RESTART on its persisted row)\n", i);
	crash_now[i] = false;
	crashes[i]++;
	if
	:: !partitioned -> partitioned = true; cut = nmsg
	:: else -> skip
	fi;
	need_round = true;
	connected[i] = false;
	abort_sent[i] = false;
	if
	:: i == P -> io_held = false; timer_armed = false; timer_due = false; quiescing = false
	:: else -> skip
	fi;
	ev_restart(i)
}

inline crash_in_create(i)
{
	printf("  pm%d dies handling the CREATE, before persisting the row\n", i);
	crashes[i]++;
	phase[i] = absent;
	partitioned = true;
	cut = 0;
	need_round = true;
	connected[i] = false;
	if
	:: i == P -> io_held = false; timer_armed = false; quiescing = false
	:: else -> skip
	fi
}

/* After every step, step()'s epilogue: a settled row never keeps I/O held
 * or its timer armed (a dying agent's crash comes first). */
inline end_step(i)
{
	if
	:: crash_now[i] -> skip
	:: else ->
		if
		:: i == P && !IN_FLIGHT(phase[P]) ->
			io_held = false;
			timer_armed = false;
			timer_due = false;
			quiescing = false
		:: else -> skip
		fi;
		say_row(i)
	fi
}

/* ==== processes ============================================================================ */

proctype pm(byte i)
{
	byte k;

end:
	do
	/* ts_snap_deliver(): the next message of the sequence (one this PM
	 * cannot see is passed over); only a row in flight takes messages */
	:: atomic {
		NOCRASH && connected[i] && IN_FLIGHT(phase[i]) && cursor[i] < nmsg ->
		k = cursor[i];
		cursor[i]++;
		if
		:: VISIBLE(i, k) ->
			printf("  pm%d delivers #%d %e from pm%d %e\n", i, k, mkind[k],
			       mfrom[k], mreason[k]);
			if
			:: mkind[k] == FROZEN -> ev_frozen(i)
			:: mkind[k] == TAKEN ->
				if
				:: mfrom[k] == P -> got_tp[i] = true
				:: else -> got_ts[i] = true
				fi;
				ev_taken(i, mfrom[k])
			:: mkind[k] == ABORT -> ev_abort(i, mreason[k])
			fi
		:: else ->
			printf("  pm%d cannot see #%d (sent across the partition)\n", i, k)
		fi;
		k = 0;
		end_step(i)
	   }
	/* the peer left the membership, or we lost corosync: ts_snap_peer_lost() */
	:: atomic {
		NOCRASH && partitioned && connected[i] ->
		connected[i] = false;
		printf("  pm%d: PEER_LOST (delivered #0..#%d)\n", i, cursor[i] - 1);
		ev_peer_lost(i);
		end_step(i)
	   }
	/* the primary's drain is done, or quiescing failed */
	:: atomic {
		NOCRASH && i == P && quiescing && connected[i] && IN_FLIGHT(phase[i]) ->
		quiescing = false;
		if
		:: printf("  pm%d: QUIESCED ok\n", i);
		   ev_quiesced(i, true)
		:: LOCAL_FAILURES && faults_on ->
		   printf("  pm%d: QUIESCED failed\n", i);
		   ev_quiesced(i, false)
		fi;
		end_step(i)
	   }
	/* the primary's freeze timer fires: at any time while it is armed */
	:: atomic {
		NOCRASH && i == P && timer_armed && (!GUARD_LAG || timer_due) &&
		connected[i] && IN_FLIGHT(phase[i]) ->
		timer_armed = false;
		timer_due = false;
		printf("  pm%d: FREEZE_TIMEOUT\n", i);
		ev_freeze_timeout(i);
		end_step(i)
	   }
	/* a failover: this PM sees a DRBD role change of the VM's resources */
	:: atomic {
		NOCRASH && FAILOVER && faults_on && !role_seen[i] && connected[i] &&
		IN_FLIGHT(phase[i]) && !abort_sent[i] ->
		role_seen[i] = true;
		printf("  pm%d: ROLE_CHANGE (failover)\n", i);
		ev_role_change(i);
		end_step(i)
	   }
	od
}

active proctype world()
{
	mtype vP, vS;
	bool lP, lS;
	byte w;
	bool L1_decided, S2_agreed, S5_not_held, S7_failover_deletes;

	/* The CREATE was delivered on both PMs and accepted.  An agent may die
	 * handling it, before its row is persisted (ts_snapfsm_start() persists
	 * first, so nothing is held yet); the peer loses it at once. */
	atomic {
		if
		:: true -> skip
		:: faults_on -> crash_in_create(P)
		:: faults_on -> crash_in_create(S)
		fi;
		run pm(P);
		run pm(S)
	}

	do
	/* a partition between the PMs */
	:: atomic {
		NOCRASH && faults_on && !partitioned && !BOTH_DECIDED ->
		partitioned = true;
		cut = nmsg;
		need_round = true;
		printf("  PARTITION: messages from #%d on reach their sender only\n", cut)
	   }
	/* an agent dies between two steps ... */
	:: atomic { NOCRASH && CAN_CRASH(P) && !BOTH_DECIDED -> crash_now[P] = true }
	:: atomic { NOCRASH && CAN_CRASH(S) && !BOTH_DECIDED -> crash_now[S] = true }
	/* ... or inside one; it restarts */
	:: atomic {
		crash_now[P] || crash_now[S] ->
		if
		:: crash_now[P] -> w = P
		:: else -> w = S
		fi;
		crash(w);
		end_step(w);
		w = 0
	   }
	/* GUARD_LAG: P's freeze timer expires (its agent handles it later), and
	 * a second later the freeze guard resumes I/O unless the agent did */
	:: atomic {
		NOCRASH && GUARD_LAG && timer_armed && !timer_due && connected[P] &&
		IN_FLIGHT(phase[P]) ->
		timer_due = true;
		printf("  P's freeze timer expires; the agent has not handled it yet\n")
	   }
	:: atomic {
		NOCRASH && GUARD_LAG && faults_on && timer_due && io_held && !guard_fired ->
		guard_fired = true;
		io_held = false;
		printf("  the freeze guard resumes P's I/O behind the agent's back\n")
	   }
	/* both are out of the old configuration and meet again: each
	 * multicasts its digest and delivers the peer's */
	:: atomic {
		NOCRASH && need_round && !connected[P] && !connected[S] ->
		need_round = false;
		view_of(P, vP);
		view_of(S, vS);
		lP = LEGIT(P);
		lS = LEGIT(S);
		printf("  RECONCILE round: digests pm0 %e, pm1 %e\n", vP, vS);
		if
		:: ev_reconcile(P, vS, lS)
		:: faults_on && round_faults < ROUND_FAULTS ->
			printf("  pm0 never delivers pm1's digest: the PMs part again\n");
			round_faults++;
			need_round = true
		fi;
		end_step(P);
		if
		:: ev_reconcile(S, vP, lP)
		:: faults_on && round_faults < ROUND_FAULTS ->
			printf("  pm1 never delivers pm0's digest: the PMs part again\n");
			round_faults++;
			need_round = true
		fi;
		end_step(S);
		vP = 0; vS = 0; lP = false; lS = false
	   }
	/* from now on, no more faults */
	:: faults_on -> faults_on = false
	/* nothing else can move: this is the end state */
	:: timeout -> break
	od;

	printf("END\n");
	say_row(P);
	say_row(S);
	L1_decided = BOTH_DECIDED && !need_round;
	S2_agreed = (phase[P] == normal && phase[S] == normal && pieces[P] && pieces[S]) ||
		    (NOROW(P) && NOROW(S));
	S5_not_held = !io_held;
	S7_failover_deletes = !fo_abort || (NOROW(P) && NOROW(S));
	assert(L1_decided);
	assert(S2_agreed);
	assert(S5_not_held);
	assert(S7_failover_deletes)
}

/* S6 and S1 (proxy) in every state, not only at the end */
active proctype monitor()
{
	bool S6_normal_means_both, S1_pieces_under_freeze;

end:
	atomic {
		!(S6_OK(P) && S6_OK(S) && S1P_OK(P) && S1P_OK(S)) ->
		S6_normal_means_both = S6_OK(P) && S6_OK(S);
		S1_pieces_under_freeze = S1P_OK(P) && S1P_OK(S);
		assert(S6_normal_means_both);
		assert(S1_pieces_under_freeze)
	}
}
