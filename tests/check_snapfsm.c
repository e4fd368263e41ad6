/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the snapshot state machine (core/snapfsm): two simulated PMs
 * in one process, a simulated agreed-order bus, every transition, each abort
 * from each phase, the decided corners, and seeded random interleavings
 * checked against the invariants S1/S5/S6/S7 and S2 (docs/protocol.md).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "core/snapfsm.h"

#define PRI 1u
#define SEC 2u
#define BUS_MAX 64

enum msg_kind { M_FROZEN, M_TAKEN, M_ABORT };

struct msg {
	enum msg_kind kind;
	uint32_t from;
	char reason[40];
};

/* One simulated PM: its row, what it did, and its view of the bus. */
struct pm {
	uint32_t self;
	struct ts_snapshot row;
	bool exists;                    /* the row is in its catalog */
	bool pieces;                    /* its pieces are on its store */
	bool io_held;                   /* primary: I/O suspended */
	bool timer;
	bool timed_out;                 /* freeze timer fired (I/O released early) */
	bool normal_seen_with_both;     /* S6 held when it turned normal */
	bool pieces_taken_while_held;   /* S1 proxy: pieces taken while the primary held I/O */
	int replies, last_exit;
	char last_event[24], last_reason[40];
	bool alive, connected;
};

struct sim {
	struct pm pm[2];                /* [0] = primary (nodeid 1), [1] = secondary */
	struct msg bus[BUS_MAX];
	size_t head, tail;
	bool quiesce_fails, pieces_fail;
	bool primary_holds;             /* the primary holds I/O right now */
	bool piece_taken_after_release; /* a piece was taken after the primary released I/O */
};

static struct pm *pm_of(struct sim *s, uint32_t id)
{
	return &s->pm[id == PRI ? 0 : 1];
}

static void exec_fx(struct sim *s, struct pm *p, const struct ts_fx_list *fx);

static void step(struct sim *s, struct pm *p, struct ts_snap_event *ev)
{
	struct ts_fx_list fx = { 0 };

	if (!p->exists || !p->alive)
		return;
	if (ts_snapfsm_step(p->self, &p->row, ev, &fx) == TS_FSM_APPLIED)
		exec_fx(s, p, &fx);
}

static void send(struct sim *s, struct pm *p, enum msg_kind k, const char *reason)
{
	struct msg *m;

	if (!p->connected)
		return;
	ck_assert_uint_lt(s->tail, BUS_MAX);
	m = &s->bus[s->tail++];
	m->kind = k;
	m->from = p->self;
	snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
}

static void exec_fx(struct sim *s, struct pm *p, const struct ts_fx_list *fx)
{
	for (size_t i = 0; i < fx->n; i++) {
		const struct ts_fx *f = &fx->items[i];
		struct ts_snap_event ev = { 0 };

		switch (f->kind) {
		case TS_FX_SEND_FROZEN: send(s, p, M_FROZEN, NULL); break;
		case TS_FX_SEND_TAKEN: send(s, p, M_TAKEN, NULL); break;
		case TS_FX_SEND_ABORT: send(s, p, M_ABORT, f->code); break;
		case TS_FX_QUIESCE:
			ck_assert_uint_eq(p->self, PRI);
			p->io_held = true;
			s->primary_holds = true;
			ev.kind = TS_EV_QUIESCED;
			ev.err = s->quiesce_fails ? -5 : 0;
			step(s, p, &ev);
			break;
		case TS_FX_RESUME:
			p->io_held = false;
			if (p->self == PRI)
				s->primary_holds = false;
			break;
		case TS_FX_TAKE_PIECES:
			p->pieces = !s->pieces_fail;
			if (!s->primary_holds)
				s->piece_taken_after_release = true;
			ev.kind = TS_EV_PIECES;
			ev.err = s->pieces_fail ? -28 : 0;
			step(s, p, &ev);
			break;
		case TS_FX_DELETE_PIECES: p->pieces = false; break;
		case TS_FX_PERSIST: break;
		case TS_FX_REMOVE_ROW: p->exists = false; break;
		case TS_FX_REPLY:
			if (f->request_node == p->self) {
				p->replies++;
				p->last_exit = f->exit_code;
			}
			break;
		case TS_FX_EVENT:
			snprintf(p->last_event, sizeof(p->last_event), "%s", f->event_kind);
			snprintf(p->last_reason, sizeof(p->last_reason), "%s", f->code);
			break;
		case TS_FX_ARM_TIMER: p->timer = true; break;
		case TS_FX_DISARM_TIMER: p->timer = false; break;
		}
		if (p->exists && p->row.phase == TS_PH_NORMAL && !p->normal_seen_with_both)
			p->normal_seen_with_both = p->row.taken_by[0] && p->row.taken_by[1];
	}
}

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 2; i++) {
		struct pm *p = &s->pm[i];

		p->self = i == 0 ? PRI : SEC;
		p->alive = p->connected = true;
		strcpy(p->row.id, "0123456789abcdef0123456789abcdef");
		strcpy(p->row.vm, "vm1");
		p->row.n_volumes = 1;
		strcpy(p->row.volumes[0], "boot");
		p->row.primary = PRI;
		p->row.secondary = SEC;
		p->row.origin = SEC;            /* the CLI waits on pm2 */
		p->row.request = 42;
	}
}

/* CREATE delivered and accepted on both, in agreed order. */
static void sim_start(struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		struct ts_fx_list fx = { 0 };

		s->pm[i].exists = true;
		ts_snapfsm_start(s->pm[i].self, &s->pm[i].row, &fx);
		exec_fx(s, &s->pm[i], &fx);
	}
}

/* Deliver the next message on the bus to every connected, alive PM. */
static bool deliver_one(struct sim *s)
{
	struct msg m;

	if (s->head == s->tail)
		return false;
	m = s->bus[s->head++];
	for (int i = 0; i < 2; i++) {
		struct pm *p = &s->pm[i];
		struct ts_snap_event ev = { 0 };

		if (!p->connected || !p->alive)
			continue;
		switch (m.kind) {
		case M_FROZEN: ev.kind = TS_EV_FROZEN; break;
		case M_TAKEN: ev.kind = TS_EV_TAKEN; ev.node = m.from; break;
		case M_ABORT:
			ev.kind = TS_EV_ABORT;
			snprintf(ev.reason, sizeof(ev.reason), "%s", m.reason);
			break;
		}
		step(s, p, &ev);
	}
	return true;
}

static void deliver_all(struct sim *s)
{
	while (deliver_one(s))
		;
}

static void local(struct sim *s, uint32_t id, enum ts_snap_event_kind k)
{
	struct ts_snap_event ev = { .kind = k };

	step(s, pm_of(s, id), &ev);
}

static void lose_peer(struct sim *s, uint32_t who_sees, uint32_t lost)
{
	struct ts_snap_event ev = { .kind = TS_EV_PEER_LOST, .node = lost };

	step(s, pm_of(s, who_sees), &ev);
}

static enum ts_peer_view view_of(const struct pm *p)
{
	if (!p->exists)
		return TS_VIEW_TOMBSTONE;
	if (p->row.phase == TS_PH_NORMAL)
		return TS_VIEW_NORMAL;
	return p->row.phase == TS_PH_PENDING ? TS_VIEW_PENDING : TS_VIEW_BROKEN;
}

/* The PMs see each other again: each applies the other's view (as sent). */
static void reconcile(struct sim *s)
{
	enum ts_peer_view v0 = view_of(&s->pm[0]), v1 = view_of(&s->pm[1]);
	struct ts_snap_event e0 = { .kind = TS_EV_RECONCILE, .view = v1 };
	struct ts_snap_event e1 = { .kind = TS_EV_RECONCILE, .view = v0 };

	step(s, &s->pm[0], &e0);
	step(s, &s->pm[1], &e1);
}

static void assert_agreed(const struct sim *s)
{
	ck_assert_int_eq(s->pm[0].exists, s->pm[1].exists);
	if (s->pm[0].exists) {
		ck_assert_int_eq(s->pm[0].row.phase, s->pm[1].row.phase);
		ck_assert_int_eq(s->pm[0].row.phase, TS_PH_NORMAL);
		ck_assert(s->pm[0].pieces && s->pm[1].pieces);
	} else {
		ck_assert(!s->pm[0].pieces && !s->pm[1].pieces);
	}
	ck_assert(!s->pm[0].io_held);
}

/* ---- the happy path -------------------------------------------------------- */

START_TEST(test_happy_path_normal_on_both)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	ck_assert(s.pm[0].io_held);
	ck_assert(s.pm[0].timer);
	ck_assert_int_eq(s.pm[0].row.phase, TS_PH_CREATED);
	ck_assert(deliver_one(&s));             /* FROZEN */
	ck_assert_int_eq(s.pm[0].row.phase, TS_PH_TAKEN);
	ck_assert_int_eq(s.pm[1].row.phase, TS_PH_TAKEN);
	ck_assert(s.pm[1].row.sent_taken);
	ck_assert(!s.pm[0].row.sent_taken);     /* the primary waits for the secondary */
	ck_assert(s.pm[0].io_held);
	ck_assert(deliver_one(&s));             /* TAKEN(secondary) */
	ck_assert_int_eq(s.pm[0].row.phase, TS_PH_COMMITTING);
	ck_assert(!s.pm[0].io_held);            /* resumed once both pieces exist */
	ck_assert(!s.pm[0].timer);
	ck_assert_int_eq(s.pm[1].row.phase, TS_PH_TAKEN);
	ck_assert(deliver_one(&s));             /* TAKEN(primary) */
	ck_assert(!deliver_one(&s));
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(s.pm[i].row.phase, TS_PH_NORMAL);
		ck_assert(s.pm[i].normal_seen_with_both);
		ck_assert(s.pm[i].pieces);
		ck_assert_str_eq(s.pm[i].last_event, "normal");
	}
	ck_assert_int_eq(s.pm[1].replies, 1);   /* the origin's CLI got one answer */
	ck_assert_int_eq(s.pm[1].last_exit, 0);
	ck_assert_int_eq(s.pm[0].replies, 0);
	ck_assert(!s.piece_taken_after_release);
	assert_agreed(&s);
}
END_TEST

/* ---- aborts from each phase ------------------------------------------------- */

/* Deliver @n messages, then an ABORT from the secondary. */
static void abort_after(struct sim *s, int n, const char *reason)
{
	sim_init(s);
	sim_start(s);
	for (int i = 0; i < n; i++)
		ck_assert(deliver_one(s));
	send(s, &s->pm[1], M_ABORT, reason);
	deliver_all(s);
}

START_TEST(test_abort_in_each_phase)
{
	/* 0: CREATED, 1: FROZEN→TAKEN, 2: primary COMMITTING / secondary TAKEN */
	for (int n = 0; n <= 2; n++) {
		struct sim s;

		abort_after(&s, n, "failover");
		if (n == 2) {
			/* The primary's TAKEN was already on the bus before the
			 * ABORT: agreed order makes it normal on both. */
			ck_assert_int_eq(s.pm[0].row.phase, TS_PH_NORMAL);
			assert_agreed(&s);
			continue;
		}
		assert_agreed(&s);
		ck_assert(!s.pm[0].exists);
		ck_assert_str_eq(s.pm[0].last_event, "auto_deleted");
		ck_assert_str_eq(s.pm[1].last_reason, "failover");
		ck_assert_int_eq(s.pm[1].last_exit, 1);
	}
}
END_TEST

START_TEST(test_abort_after_normal_is_ignored)
{
	struct sim s;

	abort_after(&s, 3, "failover");
	ck_assert_int_eq(s.pm[0].row.phase, TS_PH_NORMAL);
	ck_assert_int_eq(s.pm[1].row.phase, TS_PH_NORMAL);
	assert_agreed(&s);
}
END_TEST

START_TEST(test_quiesce_failure_aborts)
{
	struct sim s;

	sim_init(&s);
	s.quiesce_fails = true;
	sim_start(&s);
	ck_assert(!s.pm[0].io_held);
	deliver_all(&s);
	assert_agreed(&s);
	ck_assert(!s.pm[1].exists);
	ck_assert_str_eq(s.pm[1].last_reason, "quiesce_failed");
}
END_TEST

/* application consistency without a guest agent ends as a refusal: exit 4,
 * event "refused", no row and no piece anywhere, nothing held. */
START_TEST(test_no_guest_agent_is_a_refusal)
{
	struct sim s;
	struct ts_snap_event ev = { .kind = TS_EV_QUIESCED, .err = -5 };

	strcpy(ev.reason, "guest_agent_unavailable");
	strcpy(ev.message, "application consistency needs a working guest agent");
	sim_init(&s);
	for (int i = 0; i < 2; i++) {
		struct ts_fx_list fx = { 0 };

		s.pm[i].exists = true;
		s.pm[i].row.consistency_requested = TS_CONS_APPLICATION;
		ts_snapfsm_start(s.pm[i].self, &s.pm[i].row, &fx);
		/* The primary's guest freeze fails before anything is
		 * suspended: its QUIESCE is answered below with that failure. */
		for (size_t k = 0; k < fx.n; k++)
			if (fx.items[k].kind == TS_FX_QUIESCE)
				fx.items[k].kind = TS_FX_PERSIST;
		exec_fx(&s, &s.pm[i], &fx);
	}
	step(&s, &s.pm[0], &ev);
	deliver_all(&s);
	assert_agreed(&s);
	ck_assert(!s.pm[0].exists && !s.pm[1].exists);
	ck_assert_str_eq(s.pm[1].last_event, "refused");
	ck_assert_str_eq(s.pm[1].last_reason, "guest_agent_unavailable");
	ck_assert_int_eq(s.pm[1].last_exit, 4);
}
END_TEST

START_TEST(test_piece_failure_aborts)
{
	struct sim s;

	sim_init(&s);
	s.pieces_fail = true;
	sim_start(&s);
	deliver_all(&s);
	assert_agreed(&s);
	ck_assert(!s.pm[0].exists);
	ck_assert_str_eq(s.pm[0].last_reason, "local_failure");
}
END_TEST

/* The freeze timer fires while the primary waits for the secondary's TAKEN:
 * even if that TAKEN is delivered before the ABORT, the primary must not
 * commit — the secondary's piece may postdate the release of I/O. */
START_TEST(test_freeze_timeout_never_commits)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	ck_assert(deliver_one(&s));             /* FROZEN; TAKEN(sec) now on the bus */
	local(&s, PRI, TS_EV_FREEZE_TIMEOUT);
	ck_assert(!s.pm[0].io_held);
	deliver_all(&s);                        /* TAKEN(sec), then ABORT */
	assert_agreed(&s);
	ck_assert(!s.pm[0].exists);
	ck_assert_str_eq(s.pm[1].last_reason, "freeze_timeout");
	for (size_t i = 0; i < s.tail; i++)
		ck_assert_msg(!(s.bus[i].kind == M_TAKEN && s.bus[i].from == PRI),
			      "the primary sent TAKEN after releasing I/O early");
}
END_TEST

START_TEST(test_timeout_after_commit_is_ignored)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	ck_assert(deliver_one(&s));
	ck_assert(deliver_one(&s));             /* primary committing */
	local(&s, PRI, TS_EV_FREEZE_TIMEOUT);
	deliver_all(&s);
	ck_assert_int_eq(s.pm[1].row.phase, TS_PH_NORMAL);
	assert_agreed(&s);
}
END_TEST

START_TEST(test_role_change_auto_deletes_as_failover)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	ck_assert(deliver_one(&s));             /* FROZEN: both took pieces */
	local(&s, SEC, TS_EV_ROLE_CHANGE);      /* the secondary sees the failover first */
	deliver_all(&s);                        /* TAKEN(sec), ABORT */
	assert_agreed(&s);
	ck_assert(!s.pm[1].exists);
	ck_assert_str_eq(s.pm[0].last_event, "auto_deleted");
	ck_assert_str_eq(s.pm[0].last_reason, "failover");
}
END_TEST

/* ---- membership --------------------------------------------------------------- */

START_TEST(test_primary_lost_before_secondary_taken_deletes)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	s.pm[0].alive = false;                  /* pm1 crashes with FROZEN undelivered */
	s.pm[0].io_held = false;                /* (a crash releases via its intent on restart) */
	lose_peer(&s, SEC, PRI);
	ck_assert(!s.pm[1].exists);
	ck_assert_str_eq(s.pm[1].last_event, "auto_deleted");
	ck_assert_str_eq(s.pm[1].last_reason, "primary_lost");
	ck_assert_int_eq(s.pm[1].last_exit, 1);
}
END_TEST

START_TEST(test_secondary_lost_primary_resumes_and_deletes)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	ck_assert(deliver_one(&s));             /* FROZEN; the primary holds I/O */
	s.pm[1].alive = false;
	s.head = s.tail;                        /* TAKEN(sec) never arrives */
	lose_peer(&s, PRI, SEC);
	ck_assert(!s.pm[0].io_held);
	ck_assert(!s.pm[0].exists);
	ck_assert(!s.pm[0].pieces);
	ck_assert_str_eq(s.pm[0].last_reason, "peer_lost");
}
END_TEST

/* The corner of INVARIANTS.md: a partition between the two TAKEN
 * deliveries.  The primary saw normal; the secondary keeps its pieces as
 * pending and becomes normal when the PMs reconcile. */
START_TEST(test_partition_between_taken_deliveries)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	ck_assert(deliver_one(&s));             /* FROZEN */
	ck_assert(deliver_one(&s));             /* TAKEN(sec) */
	/* TAKEN(pri) reaches pm1 only. */
	s.pm[1].connected = false;
	ck_assert(deliver_one(&s));
	ck_assert_int_eq(s.pm[0].row.phase, TS_PH_NORMAL);
	lose_peer(&s, SEC, PRI);
	lose_peer(&s, PRI, SEC);                /* normal: nothing to do */
	ck_assert_int_eq(s.pm[0].row.phase, TS_PH_NORMAL);
	ck_assert_int_eq(s.pm[1].row.phase, TS_PH_PENDING);
	ck_assert(s.pm[1].pieces);
	ck_assert_int_eq(s.pm[1].last_exit, 1);
	s.pm[1].connected = true;
	reconcile(&s);
	assert_agreed(&s);
	ck_assert_int_eq(s.pm[1].row.phase, TS_PH_NORMAL);
	ck_assert_str_eq(s.pm[1].last_reason, "reconciled");
}
END_TEST

/* Both pending (the primary committed but neither delivered its TAKEN):
 * nobody saw it normal, so it is deleted on both. */
START_TEST(test_both_pending_reconcile_to_deleted)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	ck_assert(deliver_one(&s));
	ck_assert(deliver_one(&s));             /* primary committing */
	s.head = s.tail;                        /* its TAKEN is lost with the partition */
	lose_peer(&s, SEC, PRI);
	lose_peer(&s, PRI, SEC);
	ck_assert_int_eq(s.pm[0].row.phase, TS_PH_PENDING);
	ck_assert_int_eq(s.pm[1].row.phase, TS_PH_PENDING);
	reconcile(&s);
	assert_agreed(&s);
	ck_assert(!s.pm[0].exists);
}
END_TEST

START_TEST(test_tombstone_wins_over_normal)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s);
	deliver_all(&s);
	s.pm[1].exists = false;                 /* deleted on pm2 while apart */
	s.pm[1].pieces = false;
	reconcile(&s);
	assert_agreed(&s);
	ck_assert(!s.pm[0].exists);
}
END_TEST

START_TEST(test_restart_mid_snapshot)
{
	struct sim s;

	/* Restart before TAKEN: gone.  After TAKEN was sent: pending. */
	sim_init(&s);
	sim_start(&s);
	ck_assert(deliver_one(&s));
	local(&s, PRI, TS_EV_RESTART);
	ck_assert(!s.pm[0].exists);
	ck_assert(!s.pm[0].pieces);
	ck_assert_str_eq(s.pm[0].last_reason, "agent_restart");
	local(&s, SEC, TS_EV_RESTART);
	ck_assert_int_eq(s.pm[1].row.phase, TS_PH_PENDING);
	reconcile(&s);
	assert_agreed(&s);
}
END_TEST

START_TEST(test_delete_only_when_settled)
{
	struct sim s;
	struct ts_snap_event del = { .kind = TS_EV_DELETE, .request = 7, .origin = PRI };
	struct ts_fx_list fx = { 0 };

	sim_init(&s);
	sim_start(&s);
	ck_assert_int_eq(ts_snapfsm_step(PRI, &s.pm[0].row, &del, &fx), TS_FSM_IGNORED);
	ck_assert_uint_eq(fx.n, 0);
	deliver_all(&s);
	step(&s, &s.pm[0], &del);
	step(&s, &s.pm[1], &del);
	assert_agreed(&s);
	ck_assert(!s.pm[0].exists);
	ck_assert_int_eq(s.pm[0].replies, 1);
	ck_assert_str_eq(s.pm[0].last_event, "deleted");
}
END_TEST

START_TEST(test_illegal_pairs_change_nothing)
{
	struct sim s;
	struct ts_snapshot before;
	struct ts_snap_event ev = { 0 };
	struct ts_fx_list fx = { 0 };

	sim_init(&s);
	sim_start(&s);
	deliver_all(&s);                        /* normal */
	for (int k = 0; k < TS_EV__COUNT; k++) {
		if (k == TS_EV_RECONCILE || k == TS_EV_DELETE)
			continue;
		ev.kind = (enum ts_snap_event_kind)k;
		ev.node = SEC;
		memcpy(&before, &s.pm[0].row, sizeof(before));
		ck_assert_int_eq(ts_snapfsm_step(PRI, &s.pm[0].row, &ev, &fx), TS_FSM_IGNORED);
		ck_assert_int_eq(memcmp(&before, &s.pm[0].row, sizeof(before)), 0);
		ck_assert_uint_eq(fx.n, 0);
	}
	ev.kind = (enum ts_snap_event_kind)99;
	ck_assert_int_eq(ts_snapfsm_step(PRI, &s.pm[0].row, &ev, &fx), TS_FSM_IGNORED);
	ck_assert_str_eq(ts_snap_event_str(TS_EV_TAKEN), "taken");
	ck_assert_str_eq(ts_fx_str(TS_FX_RESUME), "resume");
	ck_assert_str_eq(ts_peer_view_str(TS_VIEW_TOMBSTONE), "tombstone");
}
END_TEST

/* ---- random interleavings ------------------------------------------------------ */

/*
 * Each round: start, then a random mix of deliveries, a freeze timeout, a
 * role change, a partition (with reconciliation after it) or a crash of
 * either PM, in random order.  Whatever happens: S6 on every PM that shows
 * normal, no piece of a normal snapshot taken after the primary released
 * I/O (S1), I/O released at the end (S5), a failover whose ABORT is ordered
 * before the primary's TAKEN ends deleted (S7), and the PMs agree once they
 * reconcile (S2).
 */
START_TEST(test_random_interleavings_keep_invariants)
{
	unsigned seed = 20261125;
	int normal = 0, deleted = 0;

	for (int round = 0; round < 5000; round++) {
		struct sim s;
		bool partitioned = false, role_changed_before_normal = false;
		int steps = 0;

		sim_init(&s);
		sim_start(&s);
		while (steps++ < 40) {
			unsigned r = (unsigned)rand_r(&seed) % 100;
			bool any_normal = (s.pm[0].exists && s.pm[0].row.phase == TS_PH_NORMAL) ||
					  (s.pm[1].exists && s.pm[1].row.phase == TS_PH_NORMAL);

			if (r < 70) {
				if (!deliver_one(&s) && s.head == s.tail)
					break;
			} else if (r < 78) {
				local(&s, PRI, TS_EV_FREEZE_TIMEOUT);
			} else if (r < 86) {
				size_t before = s.tail;
				bool committed = s.pm[0].row.sent_taken;

				local(&s, (rand_r(&seed) & 1) ? PRI : SEC, TS_EV_ROLE_CHANGE);
				/* Its ABORT is ordered before the primary's TAKEN. */
				if (s.tail > before && !committed && !any_normal)
					role_changed_before_normal = true;
			} else if (r < 94 && !partitioned) {
				/* The rest of the bus reaches one side only. */
				int keep = rand_r(&seed) & 1;

				s.pm[1 - keep].connected = false;
				deliver_all(&s);
				s.pm[1 - keep].connected = true;
				lose_peer(&s, PRI, SEC);
				lose_peer(&s, SEC, PRI);
				partitioned = true;
			} else if (!partitioned) {
				struct pm *p = &s.pm[rand_r(&seed) & 1];

				local(&s, p->self, TS_EV_RESTART);
				if (p->self == PRI) {
					p->io_held = false;     /* intents resumed on restart */
					s.primary_holds = false;
				}
				s.head = s.tail;
				lose_peer(&s, PRI, SEC);
				lose_peer(&s, SEC, PRI);
				partitioned = true;
			}
		}
		deliver_all(&s);
		if (partitioned)
			reconcile(&s);
		else if (s.pm[0].exists && s.pm[0].row.phase != TS_PH_NORMAL)
			continue;       /* still in flight when the round ended */
		for (int i = 0; i < 2; i++)
			if (s.pm[i].exists && s.pm[i].row.phase == TS_PH_NORMAL)
				ck_assert_msg(s.pm[i].normal_seen_with_both || partitioned,
					      "round %d: S6 broken on pm%d", round, i + 1);
		assert_agreed(&s);
		if (s.pm[0].exists) {
			normal++;
			ck_assert_msg(!s.piece_taken_after_release,
				      "round %d: a normal snapshot has a piece taken after "
				      "I/O was released", round);
			ck_assert_msg(!role_changed_before_normal || partitioned,
				      "round %d: S7: failover before normal, yet normal", round);
		} else {
			deleted++;
		}
	}
	/* The generator reaches both endings often. */
	ck_assert_int_gt(normal, 100);
	ck_assert_int_gt(deleted, 100);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapfsm");

	TS_ADD_TEST(s, test_happy_path_normal_on_both);
	TS_ADD_TEST(s, test_abort_in_each_phase);
	TS_ADD_TEST(s, test_abort_after_normal_is_ignored);
	TS_ADD_TEST(s, test_quiesce_failure_aborts);
	TS_ADD_TEST(s, test_no_guest_agent_is_a_refusal);
	TS_ADD_TEST(s, test_piece_failure_aborts);
	TS_ADD_TEST(s, test_freeze_timeout_never_commits);
	TS_ADD_TEST(s, test_timeout_after_commit_is_ignored);
	TS_ADD_TEST(s, test_role_change_auto_deletes_as_failover);
	TS_ADD_TEST(s, test_primary_lost_before_secondary_taken_deletes);
	TS_ADD_TEST(s, test_secondary_lost_primary_resumes_and_deletes);
	TS_ADD_TEST(s, test_partition_between_taken_deliveries);
	TS_ADD_TEST(s, test_both_pending_reconcile_to_deleted);
	TS_ADD_TEST(s, test_tombstone_wins_over_normal);
	TS_ADD_TEST(s, test_restart_mid_snapshot);
	TS_ADD_TEST(s, test_delete_only_when_settled);
	TS_ADD_TEST(s, test_illegal_pairs_change_nothing);
	TS_ADD_TEST(s, test_random_interleavings_keep_invariants);
	return ts_run_suite(s);
}
