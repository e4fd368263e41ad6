/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapfsm — transition table and handlers of the snapshot protocol (see
 * snapfsm.h and docs/protocol.md).
 *
 * The rule that keeps both PMs' pieces identical: the primary holds I/O
 * from before FROZEN until it has delivered the secondary's TAKEN, and only
 * then sends its own TAKEN; "normal" is the delivery of the primary's TAKEN.
 * If the freeze timer fires first, the primary resumes and sends ABORT
 * instead, and never a TAKEN — so a snapshot can only become normal with
 * both pieces taken while I/O was held.
 */
#include "config.h"
#include "core/snapfsm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- effects ---------------------------------------------------------------- */

static struct ts_fx *fx_add(struct ts_fx_list *fx, enum ts_fx_kind kind)
{
	struct ts_fx *f;

	/* TS_FX_MAX bounds the longest handler below; overflowing it is a bug
	 * in this file, not an input condition. */
	if (fx->n == TS_FX_MAX)
		__builtin_trap();
	f = &fx->items[fx->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	return f;
}

static void fx_event(struct ts_fx_list *fx, const char *kind, const char *reason,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fx_event(struct ts_fx_list *fx, const char *kind, const char *reason,
		     const char *fmt, ...)
{
	struct ts_fx *f = fx_add(fx, TS_FX_EVENT);
	va_list ap;

	snprintf(f->event_kind, sizeof(f->event_kind), "%s", kind);
	snprintf(f->code, sizeof(f->code), "%s", reason ? reason : "");
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

static void fx_reply(struct ts_fx_list *fx, const struct ts_snapshot *s, int exit_code,
		     const char *code, const char *message)
{
	struct ts_fx *f;

	if (!s->request)
		return;
	f = fx_add(fx, TS_FX_REPLY);
	f->exit_code = exit_code;
	f->request = s->request;
	f->request_node = s->origin;
	snprintf(f->code, sizeof(f->code), "%s", code);
	snprintf(f->message, sizeof(f->message), "%s", message);
}

static void fx_abort(struct ts_fx_list *fx, struct ts_snapshot *s, const char *reason,
		     const char *message)
{
	struct ts_fx *f = fx_add(fx, TS_FX_SEND_ABORT);

	s->abort_sent = true;
	snprintf(f->code, sizeof(f->code), "%s", reason);
	snprintf(f->message, sizeof(f->message), "%s", message);
}

static bool is_primary(uint32_t self, const struct ts_snapshot *s)
{
	return s->primary == self;
}

/* ---- shared endings ------------------------------------------------------------ */

/* Gone on this PM: resume (primary), pieces and row removed, logged, answered. */
static void auto_delete(uint32_t self, struct ts_snapshot *s, struct ts_fx_list *fx,
			const char *reason, const char *why)
{
	char msg[256];

	if (is_primary(self, s)) {
		fx_add(fx, TS_FX_DISARM_TIMER);
		fx_add(fx, TS_FX_RESUME);
	}
	/* The row (and its piece records) goes first: a crash between the two
	 * then leaves stray pieces, which start-up removes, never a row that
	 * claims pieces it no longer has (found by the spin model). */
	fx_add(fx, TS_FX_REMOVE_ROW);
	if (s->phase != TS_PH_CREATED)
		fx_add(fx, TS_FX_DELETE_PIECES);
	fx_event(fx, "auto_deleted", reason, "snapshot %s of %s deleted on both PMs: %s",
		 s->id, s->vm, why);
	snprintf(msg, sizeof(msg), "aborted: %s; the snapshot was deleted", why);
	fx_reply(fx, s, 1, reason, msg);
}

/*
 * The primary has both pieces durable and I/O still held: commit.  I/O is
 * resumed before the TAKEN goes out, so the primary's report that it no
 * longer holds I/O precedes the TAKEN in the agreed order, and a create
 * sent once this snapshot is normal never sees a stale suspension.  It is
 * resumed before sent_taken is written, too: that write must be durable
 * before the send, not before the resume, and the VM's I/O should not wait
 * for it.  (A crash between the two leaves phase `taken` without
 * sent_taken, as a crash before the resume does: the TAKEN was not sent.)
 */
static void primary_commit(struct ts_snapshot *s, struct ts_fx_list *fx)
{
	s->sent_taken = true;
	s->phase = TS_PH_COMMITTING;
	fx_add(fx, TS_FX_DISARM_TIMER);
	fx_add(fx, TS_FX_RESUME);
	fx_add(fx, TS_FX_PERSIST);      /* sent_taken is durable before the send */
	fx_add(fx, TS_FX_SEND_TAKEN);
}

/* ---- handlers -------------------------------------------------------------------- */

typedef int (*fsm_handler)(uint32_t self, struct ts_snapshot *s,
			   const struct ts_snap_event *ev, struct ts_fx_list *fx);

static int on_quiesced(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		       struct ts_fx_list *fx)
{
	if (!is_primary(self, s) || s->abort_sent)
		return TS_FSM_IGNORED;
	if (ev->err == 0) {
		fx_add(fx, TS_FX_SEND_FROZEN);
		return TS_FSM_APPLIED;
	}
	fx_add(fx, TS_FX_DISARM_TIMER);
	fx_add(fx, TS_FX_RESUME);
	fx_abort(fx, s, ev->reason[0] ? ev->reason : "quiesce_failed",
		 ev->message[0] ? ev->message : "could not quiesce the VM");
	return TS_FSM_APPLIED;
}

static int on_frozen(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		     struct ts_fx_list *fx)
{
	s->consistency_achieved = ev->achieved;
	s->phase = TS_PH_FROZEN;
	fx_add(fx, TS_FX_PERSIST);
	fx_add(fx, TS_FX_TAKE_PIECES);
	return TS_FSM_APPLIED;
}

static int on_pieces(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		     struct ts_fx_list *fx)
{
	if (ev->err != 0) {
		fx_add(fx, TS_FX_DELETE_PIECES);
		if (is_primary(self, s)) {
			fx_add(fx, TS_FX_DISARM_TIMER);
			fx_add(fx, TS_FX_RESUME);
		}
		if (!s->abort_sent)
			fx_abort(fx, s, "local_failure",
				 ev->message[0] ? ev->message : "could not take the pieces");
		return TS_FSM_APPLIED;
	}
	s->phase = TS_PH_TAKEN;
	if (!is_primary(self, s)) {
		if (s->abort_sent) {
			fx_add(fx, TS_FX_PERSIST);
			return TS_FSM_APPLIED;
		}
		s->sent_taken = true;
		fx_add(fx, TS_FX_PERSIST);
		fx_add(fx, TS_FX_SEND_TAKEN);
		return TS_FSM_APPLIED;
	}
	if (s->taken_by[1] && !s->abort_sent) {
		primary_commit(s, fx);
		return TS_FSM_APPLIED;
	}
	fx_add(fx, TS_FX_PERSIST);
	return TS_FSM_APPLIED;
}

static int on_taken(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		    struct ts_fx_list *fx)
{
	if (ev->node == s->secondary) {
		if (s->taken_by[1])
			return TS_FSM_IGNORED;
		s->taken_by[1] = true;
		if (is_primary(self, s) && s->phase == TS_PH_TAKEN && !s->abort_sent)
			primary_commit(s, fx);
		else
			fx_add(fx, TS_FX_PERSIST);
		return TS_FSM_APPLIED;
	}
	/* The primary sends its TAKEN only after delivering the secondary's: in
	 * agreed order a primary TAKEN without the secondary's is impossible. */
	if (ev->node != s->primary || !s->taken_by[1] || s->taken_by[0])
		return TS_FSM_IGNORED;
	s->taken_by[0] = true;
	s->phase = TS_PH_NORMAL;
	fx_add(fx, TS_FX_PERSIST);
	fx_event(fx, "normal", NULL, "snapshot %s of %s is normal on both PMs", s->id, s->vm);
	fx_reply(fx, s, 0, "", "normal");
	return TS_FSM_APPLIED;
}

/*
 * "application" consistency without a working guest agent: the primary
 * finds out when it tries the guest freeze, before it suspends anything.
 * Nothing was held and no piece exists, so it ends as what it is, a
 * refusal (exit 4, event "refused"), not as an aborted snapshot.
 */
static void refuse_late(uint32_t self, struct ts_snapshot *s, struct ts_fx_list *fx,
			const char *reason, const char *why)
{
	char msg[sizeof(fx->items[0].message)];

	if (is_primary(self, s)) {
		fx_add(fx, TS_FX_DISARM_TIMER);
		fx_add(fx, TS_FX_RESUME);
	}
	fx_add(fx, TS_FX_REMOVE_ROW);
	fx_event(fx, "refused", reason, "refused: %.200s", why);
	snprintf(msg, sizeof(msg), "refused: %.200s", why);
	fx_reply(fx, s, 4, reason, msg);
}

static int on_abort(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		    struct ts_fx_list *fx)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", ev->message[0] ? ev->message : ev->reason);
	if (s->phase == TS_PH_CREATED && strcmp(ev->reason, "guest_agent_unavailable") == 0) {
		refuse_late(self, s, fx, ev->reason, why);
		return TS_FSM_APPLIED;
	}
	auto_delete(self, s, fx, ev->reason[0] ? ev->reason : "aborted", why);
	return TS_FSM_APPLIED;
}

static int on_peer_lost(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
			struct ts_fx_list *fx)
{
	bool lost_primary = ev->node == s->primary;

	if (s->sent_taken) {
		/* The peer may have delivered our TAKEN and seen the snapshot
		 * normal: keep the pieces until the PMs reconcile. */
		if (is_primary(self, s)) {
			fx_add(fx, TS_FX_DISARM_TIMER);
			fx_add(fx, TS_FX_RESUME);
		}
		s->phase = TS_PH_PENDING;
		fx_add(fx, TS_FX_PERSIST);
		fx_event(fx, "pending", lost_primary ? "primary_lost" : "peer_lost",
			 "snapshot %s of %s waits for the peer to decide normal or deleted",
			 s->id, s->vm);
		fx_reply(fx, s, 1, "pending",
			 "interrupted: the peer was lost after this PM's pieces were taken; "
			 "it stays broken until the PMs reconcile");
		return TS_FSM_APPLIED;
	}
	auto_delete(self, s, fx, lost_primary ? "primary_lost" : "peer_lost",
		    lost_primary ? "the VM's primary PM left the cluster (failover)"
				 : "the peer PM left the cluster");
	return TS_FSM_APPLIED;
}

static int on_role_change(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
			  struct ts_fx_list *fx)
{
	if (s->abort_sent || (is_primary(self, s) && s->sent_taken))
		return TS_FSM_IGNORED;
	if (is_primary(self, s)) {
		fx_add(fx, TS_FX_DISARM_TIMER);
		fx_add(fx, TS_FX_RESUME);
	}
	fx_abort(fx, s, "failover", "a DRBD role change of the VM's resources (failover)");
	return TS_FSM_APPLIED;
}

static int on_freeze_timeout(uint32_t self, struct ts_snapshot *s,
			     const struct ts_snap_event *ev, struct ts_fx_list *fx)
{
	if (!is_primary(self, s) || s->sent_taken || s->abort_sent)
		return TS_FSM_IGNORED;
	fx_add(fx, TS_FX_RESUME);
	fx_abort(fx, s, "freeze_timeout", "I/O was held for the freeze timeout");
	return TS_FSM_APPLIED;
}

static int on_restart(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		      struct ts_fx_list *fx)
{
	if (s->sent_taken) {
		s->phase = TS_PH_PENDING;
		fx_add(fx, TS_FX_PERSIST);
		fx_event(fx, "pending", "agent_restart",
			 "snapshot %s of %s waits for the peer to decide normal or deleted",
			 s->id, s->vm);
		return TS_FSM_APPLIED;
	}
	/* Never sent TAKEN: the peer cannot have seen it normal. */
	auto_delete(self, s, fx, "agent_restart", "the agent restarted during the snapshot");
	return TS_FSM_APPLIED;
}

static int on_reconcile(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
			struct ts_fx_list *fx)
{
	if (s->phase == TS_PH_NORMAL) {
		if (ev->view != TS_VIEW_TOMBSTONE)
			return TS_FSM_IGNORED;
		fx_add(fx, TS_FX_REMOVE_ROW);
		fx_add(fx, TS_FX_DELETE_PIECES);
		fx_event(fx, "deleted", "reconciled",
			 "snapshot %s of %s was deleted on the peer while apart", s->id, s->vm);
		return TS_FSM_APPLIED;
	}
	if (ev->view == TS_VIEW_NORMAL && s->sent_taken) {
		/* The peer delivered both TAKEN: both pieces exist and were
		 * taken while I/O was held. */
		s->taken_by[0] = s->taken_by[1] = true;
		s->phase = TS_PH_NORMAL;
		fx_add(fx, TS_FX_PERSIST);
		fx_event(fx, "normal", "reconciled",
			 "snapshot %s of %s is normal: the peer committed it", s->id, s->vm);
		return TS_FSM_APPLIED;
	}
	auto_delete(self, s, fx, "reconciled",
		    "neither PM committed it before they were separated");
	return TS_FSM_APPLIED;
}

static int on_delete(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		     struct ts_fx_list *fx)
{
	struct ts_fx *f;

	fx_add(fx, TS_FX_REMOVE_ROW);
	fx_add(fx, TS_FX_DELETE_PIECES);
	fx_event(fx, "deleted", "admin", "snapshot %s of %s deleted", s->id, s->vm);
	if (ev->request) {
		f = fx_add(fx, TS_FX_REPLY);
		f->request = ev->request;
		f->request_node = ev->origin;
		snprintf(f->message, sizeof(f->message), "deleted");
	}
	return TS_FSM_APPLIED;
}

/* ---- the table ------------------------------------------------------------------------ */

#define IN_FLIGHT (1u << TS_PH_CREATED | 1u << TS_PH_FROZEN | 1u << TS_PH_TAKEN | \
		   1u << TS_PH_COMMITTING)
#define ANY_PHASE (IN_FLIGHT | 1u << TS_PH_NORMAL | 1u << TS_PH_PENDING)

static const struct transition {
	unsigned phases;        /* bit set of phases the event is meaningful in */
	fsm_handler handler;
} table[TS_EV__COUNT] = {
	[TS_EV_QUIESCED] = { 1u << TS_PH_CREATED, on_quiesced },
	[TS_EV_FROZEN] = { 1u << TS_PH_CREATED, on_frozen },
	[TS_EV_PIECES] = { 1u << TS_PH_FROZEN, on_pieces },
	[TS_EV_TAKEN] = { 1u << TS_PH_FROZEN | 1u << TS_PH_TAKEN | 1u << TS_PH_COMMITTING,
			  on_taken },
	[TS_EV_ABORT] = { IN_FLIGHT, on_abort },
	[TS_EV_PEER_LOST] = { IN_FLIGHT, on_peer_lost },
	[TS_EV_ROLE_CHANGE] = { IN_FLIGHT, on_role_change },
	[TS_EV_FREEZE_TIMEOUT] = { 1u << TS_PH_CREATED | 1u << TS_PH_FROZEN | 1u << TS_PH_TAKEN,
				   on_freeze_timeout },
	[TS_EV_RESTART] = { IN_FLIGHT, on_restart },
	[TS_EV_RECONCILE] = { ANY_PHASE, on_reconcile },
	[TS_EV_DELETE] = { 1u << TS_PH_NORMAL | 1u << TS_PH_PENDING, on_delete },
};

int ts_snapfsm_step(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		    struct ts_fx_list *fx)
{
	const struct transition *t;

	if ((unsigned)ev->kind >= TS_EV__COUNT || (unsigned)s->phase >= TS_PH__COUNT)
		return TS_FSM_IGNORED;
	t = &table[ev->kind];
	if (!(t->phases & (1u << s->phase)))
		return TS_FSM_IGNORED;
	return t->handler(self, s, ev, fx);
}

void ts_snapfsm_start(uint32_t self, struct ts_snapshot *s, struct ts_fx_list *fx)
{
	s->phase = TS_PH_CREATED;
	s->taken_by[0] = s->taken_by[1] = false;
	s->sent_taken = false;
	s->abort_sent = false;
	s->current_config = true;
	s->consistency_achieved = TS_CONS_CRASH;
	fx_add(fx, TS_FX_PERSIST);
	fx_event(fx, "created", NULL, "snapshot %s of %s created (broken until both PMs commit)",
		 s->id, s->vm);
	if (is_primary(self, s)) {
		fx_add(fx, TS_FX_ARM_TIMER);
		fx_add(fx, TS_FX_QUIESCE);
	}
}

bool ts_fx_removes_row(const struct ts_fx_list *fx)
{
	for (size_t i = 0; i < fx->n; i++)
		if (fx->items[i].kind == TS_FX_REMOVE_ROW)
			return true;
	return false;
}

static const char *const event_names[TS_EV__COUNT] = {
	[TS_EV_QUIESCED] = "quiesced", [TS_EV_FROZEN] = "frozen", [TS_EV_PIECES] = "pieces",
	[TS_EV_TAKEN] = "taken", [TS_EV_ABORT] = "abort", [TS_EV_PEER_LOST] = "peer_lost",
	[TS_EV_ROLE_CHANGE] = "role_change", [TS_EV_FREEZE_TIMEOUT] = "freeze_timeout",
	[TS_EV_RESTART] = "restart", [TS_EV_RECONCILE] = "reconcile", [TS_EV_DELETE] = "delete",
};

const char *ts_snap_event_str(enum ts_snap_event_kind k)
{
	return (unsigned)k < TS_EV__COUNT ? event_names[k] : "unknown";
}

const char *ts_fx_str(enum ts_fx_kind k)
{
	static const char *const names[] = {
		[TS_FX_SEND_FROZEN] = "send_frozen", [TS_FX_SEND_TAKEN] = "send_taken",
		[TS_FX_SEND_ABORT] = "send_abort", [TS_FX_QUIESCE] = "quiesce",
		[TS_FX_RESUME] = "resume", [TS_FX_TAKE_PIECES] = "take_pieces",
		[TS_FX_DELETE_PIECES] = "delete_pieces", [TS_FX_PERSIST] = "persist",
		[TS_FX_REMOVE_ROW] = "remove_row", [TS_FX_REPLY] = "reply",
		[TS_FX_EVENT] = "event", [TS_FX_ARM_TIMER] = "arm_timer",
		[TS_FX_DISARM_TIMER] = "disarm_timer",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

const char *ts_peer_view_str(enum ts_peer_view v)
{
	static const char *const names[] = {
		[TS_VIEW_ABSENT] = "absent", [TS_VIEW_BROKEN] = "broken",
		[TS_VIEW_PENDING] = "pending", [TS_VIEW_NORMAL] = "normal",
		[TS_VIEW_TOMBSTONE] = "tombstone",
	};

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}
