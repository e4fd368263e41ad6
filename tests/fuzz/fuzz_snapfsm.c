/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_snapfsm — the snapshot state machine (core/snapfsm) driven by two
 * simulated PMs, primary nodeid 1 and secondary nodeid 2, one snapshot row
 * each, sharing a simulated agreed-order bus.  The input is a script: the
 * first byte picks who waits for the answer, each further byte one step.
 *
 *   op = byte & 7, who = byte >> 3 & 1, arg = byte >> 4
 *   0 DELIVER   PM who delivers the next message of its queue
 *   1 COMPLETE  PM who finishes its quiesce or piece-taking (fails if arg == 15)
 *   2 TIMEOUT   the primary's freeze timer fires (when armed)
 *   3 ROLE      PM who sees a DRBD role change of the VM
 *   4 SPLIT     partition: each PM delivers a prefix of its undelivered
 *               messages (lengths from the next byte), then PEER_LOST,
 *               then its own messages that were not ordered yet
 *   5 RESTART   PM who's agent restarts (a split, if connected: the peer
 *               keeps up to arg messages; the restarted PM's queue is lost,
 *               its row reloaded as persisted)
 *   6 HEAL      both deliver what they still hold, then reconcile
 *   7 DELETE    PM who multicasts an admin DELETE (row normal or pending)
 *
 * Each PM has its own queue; while connected every send is appended to
 * both, so both deliver one agreed order, each at its own pace.  Local work
 * (quiesce, pieces) completes asynchronously, as in the agent.
 *
 * Checked after every step: no effect list beyond TS_FX_MAX; an ignored
 * event changes nothing; a row in phase normal has taken_by both; no PM
 * sends its TAKEN after it sent ABORT.  At the end every message is
 * delivered and every local action completed; then, after a final
 * reconcile (or with a connection that never broke), both PMs agree: both
 * removed without pieces, or both normal with pieces, and the primary holds
 * no I/O.  In a run that never split, a failover ABORT sent before the
 * primary's TAKEN ends deleted (S7), and a snapshot that ends normal had
 * every piece taken while the primary held I/O (S1).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapfsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PRI 1u
#define SEC 2u
#define QUEUE_MAX 64
#define DELETES_PENDING_MAX 8

#define FUZZ_NAME "fuzz_snapfsm"
#include "fuzz_check.h"

enum msg_kind { M_FROZEN, M_TAKEN, M_ABORT, M_DELETE, M_LOST };

struct msg {
	enum msg_kind kind;
	uint32_t from;
	char reason[40];
};

struct pm {
	uint32_t self;
	struct ts_snapshot row, saved;  /* saved: as of the last PERSIST */
	bool exists, saved_exists;
	struct msg queue[QUEUE_MAX];    /* this PM's deliveries, in order */
	size_t head, tail;
	bool quiescing, taking;         /* local work in progress */
	bool pieces;                    /* its pieces are on its store */
	bool io_held;                   /* primary: guest I/O suspended */
	bool timer;
	bool lost;                      /* PEER_LOST delivered (or restarted) in this split */
	bool sent_abort;                /* multicast ABORT for this snapshot */
};

struct sim {
	struct pm pm[2];                /* [0] primary, [1] secondary */
	bool split;                     /* the PMs cannot see each other */
	bool ever_split;
	bool late_piece;                /* a piece was taken while the primary held no I/O */
	bool failover_first;            /* a failover ABORT went out before the primary's TAKEN */
	const uint8_t *in;
	size_t len, pos;
};

static struct pm *peer_of(struct sim *s, struct pm *p)
{
	return &s->pm[p == &s->pm[0] ? 1 : 0];
}

static void check_row(const struct pm *p)
{
	if (!p->exists)
		return;
	CHECK((unsigned)p->row.phase < TS_PH__COUNT, "pm%u: phase %d", p->self, (int)p->row.phase);
	if (p->row.phase == TS_PH_NORMAL)
		CHECK(p->row.taken_by[0] && p->row.taken_by[1],
		      "pm%u: normal without both TAKEN (by primary %d, secondary %d)", p->self,
		      p->row.taken_by[0], p->row.taken_by[1]);
}

static void enqueue(struct pm *p, const struct msg *m)
{
	CHECK(p->tail < QUEUE_MAX, "simulated queue of pm%u overflowed", p->self);
	p->queue[p->tail++] = *m;
}

static void send(struct sim *s, struct pm *p, enum msg_kind kind, const char *reason)
{
	struct msg m = { .kind = kind, .from = p->self };

	snprintf(m.reason, sizeof(m.reason), "%s", reason ? reason : "");
	enqueue(p, &m);
	if (!s->split)
		enqueue(peer_of(s, p), &m);
}

static void exec_fx(struct sim *s, struct pm *p, const struct ts_fx_list *fx)
{
	struct pm *pri = &s->pm[0];

	for (size_t i = 0; i < fx->n; i++) {
		const struct ts_fx *f = &fx->items[i];

		switch (f->kind) {
		case TS_FX_SEND_FROZEN:
			CHECK(p->self == PRI, "pm%u sends FROZEN", p->self);
			send(s, p, M_FROZEN, NULL);
			break;
		case TS_FX_SEND_TAKEN:
			CHECK(!p->sent_abort, "pm%u sends TAKEN after it sent ABORT", p->self);
			send(s, p, M_TAKEN, NULL);
			break;
		case TS_FX_SEND_ABORT:
			p->sent_abort = true;
			if (strcmp(f->code, "failover") == 0 && !pri->row.sent_taken && !s->split)
				s->failover_first = true;
			send(s, p, M_ABORT, f->code);
			break;
		case TS_FX_QUIESCE:
			CHECK(p->self == PRI, "pm%u asked to quiesce", p->self);
			p->quiescing = true;
			break;
		case TS_FX_RESUME:
			CHECK(p->self == PRI, "pm%u asked to resume", p->self);
			p->io_held = false;
			break;
		case TS_FX_TAKE_PIECES:
			p->taking = true;
			break;
		case TS_FX_DELETE_PIECES:
			p->pieces = false;
			break;
		case TS_FX_PERSIST:
			CHECK(p->exists, "pm%u persists a removed row", p->self);
			p->saved = p->row;
			p->saved_exists = true;
			break;
		case TS_FX_REMOVE_ROW:
			p->exists = p->saved_exists = false;
			break;
		case TS_FX_REPLY:
			CHECK(f->request_node == PRI || f->request_node == SEC,
			      "reply to node %u", f->request_node);
			break;
		case TS_FX_EVENT:
			CHECK(memchr(f->event_kind, '\0', sizeof(f->event_kind)) && f->event_kind[0],
			      "event without a kind");
			break;
		case TS_FX_ARM_TIMER:
			p->timer = true;
			break;
		case TS_FX_DISARM_TIMER:
			p->timer = false;
			break;
		default:
			fail("pm%u: effect kind %d", p->self, (int)f->kind);
		}
	}
}

/* One event into one PM's row, with the per-step checks. */
static int step(struct sim *s, struct pm *p, const struct ts_snap_event *ev)
{
	struct ts_fx_list fx;
	struct ts_snapshot before;
	int rc;

	if (!p->exists)
		return TS_FSM_IGNORED;
	memset(&fx, 0, sizeof(fx));
	memcpy(&before, &p->row, sizeof(before));
	rc = ts_snapfsm_step(p->self, &p->row, ev, &fx);
	CHECK(fx.n <= TS_FX_MAX, "pm%u: %zu effects", p->self, fx.n);
	if (rc == TS_FSM_IGNORED) {
		CHECK(fx.n == 0, "pm%u: ignored %s with %zu effects", p->self,
		      ts_snap_event_str(ev->kind), fx.n);
		CHECK(memcmp(&before, &p->row, sizeof(before)) == 0,
		      "pm%u: ignored %s changed the row", p->self, ts_snap_event_str(ev->kind));
		return rc;
	}
	CHECK(rc == TS_FSM_APPLIED, "pm%u: step returned %d", p->self, rc);
	exec_fx(s, p, &fx);
	CHECK(ts_fx_removes_row(&fx) == !p->exists, "pm%u: ts_fx_removes_row disagrees",
	      p->self);
	check_row(p);
	return rc;
}

static void local_event(struct sim *s, struct pm *p, enum ts_snap_event_kind k)
{
	struct ts_snap_event ev = { .kind = k };

	step(s, p, &ev);
}

static bool deliver(struct sim *s, struct pm *p)
{
	struct ts_snap_event ev = { 0 };
	struct msg m;

	if (p->head == p->tail)
		return false;
	m = p->queue[p->head++];
	switch (m.kind) {
	case M_FROZEN:
		ev.kind = TS_EV_FROZEN;
		ev.achieved = TS_CONS_CRASH;
		break;
	case M_TAKEN:
		ev.kind = TS_EV_TAKEN;
		ev.node = m.from;
		break;
	case M_ABORT:
		ev.kind = TS_EV_ABORT;
		snprintf(ev.reason, sizeof(ev.reason), "%s", m.reason);
		break;
	case M_DELETE:
		ev.kind = TS_EV_DELETE;
		ev.origin = m.from;
		ev.request = 7;
		break;
	case M_LOST:
		p->lost = true;
		ev.kind = TS_EV_PEER_LOST;
		ev.node = peer_of(s, p)->self;
		break;
	}
	step(s, p, &ev);
	return true;
}

static bool complete(struct sim *s, struct pm *p, bool failed)
{
	struct ts_snap_event ev = { .err = failed ? -5 : 0 };

	if (p->quiescing) {
		p->quiescing = false;
		ev.kind = TS_EV_QUIESCED;
		if (step(s, p, &ev) == TS_FSM_APPLIED && !failed)
			p->io_held = true;
		return true;
	}
	if (p->taking) {
		/* The pieces exist before the step that reacts to them (and may resume). */
		bool held = s->pm[0].io_held;

		p->taking = false;
		ev.kind = TS_EV_PIECES;
		if (step(s, p, &ev) == TS_FSM_APPLIED && !failed) {
			p->pieces = true;
			if (!held)
				s->late_piece = true;
		}
		return true;
	}
	return false;
}

static uint8_t next_byte(struct sim *s)
{
	return s->pos < s->len ? s->in[s->pos++] : 0;
}

/*
 * The membership splits (@crashed: the PM whose agent died, or NULL).  While
 * connected both queues hold the same messages at the same indices.  Each
 * side delivers a prefix of what it has not delivered yet (@keep0/@keep1
 * more messages at most), then PEER_LOST.  A message one side delivered was
 * ordered in the old ring, so its sender (if alive) delivers it too: the
 * prefixes grow until that holds.  A survivor's own messages beyond its
 * prefix were not ordered yet and are delivered after PEER_LOST, to itself
 * only; the rest of its queue is lost.
 */
static void split_queues(struct sim *s, size_t keep0, size_t keep1, const struct pm *crashed)
{
	size_t end[2] = { s->pm[0].head + keep0, s->pm[1].head + keep1 };
	bool grown = true;

	CHECK(s->pm[0].tail == s->pm[1].tail, "simulation: connected queues differ");

	for (int i = 0; i < 2; i++) {
		if (end[i] > s->pm[i].tail)
			end[i] = s->pm[i].tail;
		if (&s->pm[i] == crashed)
			end[i] = s->pm[i].head;
	}
	while (grown) {
		grown = false;
		for (int x = 0; x < 2; x++) {
			const struct pm *p = &s->pm[x], *q = &s->pm[1 - x];

			if (p == crashed)
				continue;
			for (size_t i = end[x]; i < end[1 - x]; i++) {
				if (q->queue[i].from == p->self) {
					end[x] = i + 1;
					grown = true;
				}
			}
		}
	}
	s->split = s->ever_split = true;
	for (int x = 0; x < 2; x++) {
		struct pm *p = &s->pm[x];
		struct msg lost = { .kind = M_LOST };
		struct msg later[QUEUE_MAX];
		size_t n = 0;

		if (p == crashed)
			continue;
		for (size_t i = end[x]; i < p->tail; i++)
			if (p->queue[i].from == p->self)
				later[n++] = p->queue[i];
		p->tail = end[x];
		p->lost = false;
		enqueue(p, &lost);
		for (size_t i = 0; i < n; i++)
			enqueue(p, &later[i]);
	}
}

static void do_split(struct sim *s, size_t keep0, size_t keep1)
{
	if (!s->split)
		split_queues(s, keep0, keep1, NULL);
}

/* The agent of @p restarts: it forgets what it had not persisted. */
static void do_restart(struct sim *s, struct pm *p, size_t peer_keep)
{
	if (!s->split)
		split_queues(s, peer_keep, peer_keep, p);
	p->head = p->tail = 0;
	p->lost = true;
	p->quiescing = p->taking = false;
	p->io_held = false;             /* the restart resumes I/O from its intent log */
	p->timer = false;
	p->exists = p->saved_exists;
	if (p->exists) {
		p->row = p->saved;
		p->row.abort_sent = false;      /* not persisted, by design */
	}
	local_event(s, p, TS_EV_RESTART);
}

static enum ts_peer_view view_of(const struct pm *p)
{
	if (!p->exists)
		return TS_VIEW_TOMBSTONE;
	if (p->row.phase == TS_PH_NORMAL)
		return TS_VIEW_NORMAL;
	return p->row.phase == TS_PH_PENDING ? TS_VIEW_PENDING : TS_VIEW_BROKEN;
}

static void do_heal(struct sim *s)
{
	struct ts_snap_event e0 = { .kind = TS_EV_RECONCILE }, e1 = { .kind = TS_EV_RECONCILE };

	if (!s->split)
		return;
	for (int i = 0; i < 2; i++)
		while (deliver(s, &s->pm[i]))
			;
	CHECK(s->pm[0].lost && s->pm[1].lost, "healed before both saw the split");
	/* Each PM multicasts its view on the new membership; both are sent first. */
	e0.view = view_of(&s->pm[1]);
	e1.view = view_of(&s->pm[0]);
	step(s, &s->pm[0], &e0);
	step(s, &s->pm[1], &e1);
	for (int i = 0; i < 2; i++) {
		s->pm[i].head = s->pm[i].tail = 0;
		s->pm[i].lost = false;
	}
	s->split = false;
}

static void do_delete(struct sim *s, struct pm *p)
{
	size_t pending = 0;

	if (!p->exists || (p->row.phase != TS_PH_NORMAL && p->row.phase != TS_PH_PENDING))
		return;         /* the agent refuses: not found / in progress */
	for (size_t i = p->head; i < p->tail; i++)
		pending += p->queue[i].kind == M_DELETE;
	if (pending < DELETES_PENDING_MAX)
		send(s, p, M_DELETE, NULL);
}

/* Deliver and complete everything; fire the freeze timer when it is all that is left. */
static void settle(struct sim *s)
{
	for (int rounds = 0; rounds < 4 * QUEUE_MAX; rounds++) {
		bool progress = false;

		for (int i = 0; i < 2; i++) {
			progress |= deliver(s, &s->pm[i]);
			progress |= complete(s, &s->pm[i], false);
		}
		if (progress)
			continue;
		if (s->pm[0].timer && s->pm[0].exists) {
			s->pm[0].timer = false;
			local_event(s, &s->pm[0], TS_EV_FREEZE_TIMEOUT);
			continue;
		}
		return;
	}
	fail("the simulation did not settle");
}

static void check_end(const struct sim *s)
{
	const struct pm *a = &s->pm[0], *b = &s->pm[1];

	CHECK(a->exists == b->exists, "PMs disagree: pm1 %s, pm2 %s",
	      a->exists ? ts_snap_phase_str(a->row.phase) : "removed",
	      b->exists ? ts_snap_phase_str(b->row.phase) : "removed");
	if (a->exists) {
		CHECK(a->row.phase == TS_PH_NORMAL && b->row.phase == TS_PH_NORMAL,
		      "settled in phases %s / %s", ts_snap_phase_str(a->row.phase),
		      ts_snap_phase_str(b->row.phase));
		CHECK(a->pieces && b->pieces, "normal, pieces on pm1 %d, pm2 %d", a->pieces,
		      b->pieces);
		if (!s->ever_split) {
			CHECK(!s->failover_first, "S7: failover ABORT before normal, yet normal");
			CHECK(!s->late_piece, "S1: a piece was taken after the primary released I/O");
		}
	} else {
		CHECK(!a->pieces && !b->pieces, "removed, pieces left on pm1 %d, pm2 %d", a->pieces,
		      b->pieces);
	}
	CHECK(!a->io_held, "the primary still holds I/O");
}

static void sim_init(struct sim *s, const uint8_t *data, size_t size)
{
	uint8_t cfg;

	memset(s, 0, sizeof(*s));
	s->in = data;
	s->len = size;
	cfg = next_byte(s);
	for (int i = 0; i < 2; i++) {
		struct pm *p = &s->pm[i];
		struct ts_fx_list fx;

		p->self = i == 0 ? PRI : SEC;
		memcpy(p->row.id, "0123456789abcdef0123456789abcdef", TS_SNAP_ID_LEN + 1);
		memcpy(p->row.vm, "vm1", 4);
		p->row.n_volumes = 1;
		memcpy(p->row.volumes[0], "boot", 5);
		p->row.primary = PRI;
		p->row.secondary = SEC;
		p->row.origin = cfg & 1 ? PRI : SEC;
		p->row.request = cfg & 2 ? 0 : 42;      /* 0: nobody waits */
		/* CREATE delivered and accepted on both, in agreed order. */
		p->exists = true;
		memset(&fx, 0, sizeof(fx));
		ts_snapfsm_start(p->self, &p->row, &fx);
		CHECK(fx.n <= TS_FX_MAX, "start: %zu effects", fx.n);
		exec_fx(s, p, &fx);
		check_row(p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim *s = malloc(sizeof(*s));

	if (!s)
		abort();
	sim_init(s, data, size);
	while (s->pos < s->len) {
		uint8_t b = next_byte(s), arg = b >> 4;
		struct pm *p = &s->pm[b >> 3 & 1];

		switch (b & 7) {
		case 0:
			deliver(s, p);
			break;
		case 1:
			complete(s, p, arg == 15);
			break;
		case 2:
			if (s->pm[0].timer) {
				s->pm[0].timer = false;
				local_event(s, &s->pm[0], TS_EV_FREEZE_TIMEOUT);
			}
			break;
		case 3:
			local_event(s, p, TS_EV_ROLE_CHANGE);
			break;
		case 4: {
			uint8_t keep = next_byte(s);

			do_split(s, keep & 15, keep >> 4);
			break;
		}
		case 5:
			do_restart(s, p, arg);
			break;
		case 6:
			do_heal(s);
			break;
		case 7:
			do_delete(s, p);
			break;
		}
	}
	settle(s);
	if (s->split) {
		do_heal(s);
		settle(s);
	}
	check_end(s);
	free(s);
	return 0;
}
