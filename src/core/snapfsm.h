/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapfsm — the coordinated-snapshot state machine, one instance per
 * snapshot row, identical on both PMs.  Pure: a step takes the row and an
 * event (a delivered CPG message, a membership change, a local result, a
 * timer) and returns the new row plus the effects the shell must execute
 * (multicast, quiesce, resume, take or delete pieces, persist, reply, log).
 * Only this module writes ->phase; steps dispatch through a transition
 * table; a (phase, event) pair with no row is ignored and reported.
 *
 * The protocol, every abort path and the decided corners are in
 * docs/protocol.md.
 */
#ifndef TS_SNAPFSM_H
#define TS_SNAPFSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/snapshot.h"

enum ts_snap_event_kind {
	TS_EV_QUIESCED = 0,     /* local (primary): I/O suspended and drained, or failed */
	TS_EV_FROZEN,           /* FROZEN delivered (from the primary) */
	TS_EV_PIECES,           /* local: this PM's pieces are durable, or failed */
	TS_EV_TAKEN,            /* TAKEN delivered from ev->node */
	TS_EV_ABORT,            /* ABORT delivered (ev->reason) */
	TS_EV_PEER_LOST,        /* the peer left the CPG membership (or we lost corosync) */
	TS_EV_ROLE_CHANGE,      /* local DRBD: a resource of this VM changed role */
	TS_EV_FREEZE_TIMEOUT,   /* local (primary): I/O held for the freeze timeout */
	TS_EV_RESTART,          /* local: the agent restarted with this row in progress */
	TS_EV_RECONCILE,        /* the peer's view of this snapshot was delivered */
	TS_EV_DELETE,           /* an admin's DELETE was delivered */
	TS_EV__COUNT,
};

/** What the peer's catalog says about a snapshot, in a reconciliation. */
enum ts_peer_view {
	TS_VIEW_ABSENT = 0, TS_VIEW_BROKEN, TS_VIEW_PENDING, TS_VIEW_NORMAL, TS_VIEW_TOMBSTONE,
};

struct ts_snap_event {
	enum ts_snap_event_kind kind;
	uint32_t node;                  /* TAKEN/PEER_LOST: the node concerned */
	int err;                        /* QUIESCED/PIECES: 0 or -errno */
	enum ts_consistency achieved;   /* QUIESCED/FROZEN: crash or application */
	enum ts_peer_view view;         /* RECONCILE */
	uint64_t request;               /* DELETE: the requester's token */
	uint32_t origin;                /* DELETE: the requester's nodeid */
	char reason[40];                /* ABORT */
	char message[256];              /* ABORT/QUIESCED/PIECES: detail for humans */
};

enum ts_fx_kind {
	TS_FX_SEND_FROZEN = 0,  /* multicast FROZEN(id, achieved) */
	TS_FX_SEND_TAKEN,       /* multicast TAKEN(id) from this PM */
	TS_FX_SEND_ABORT,       /* multicast ABORT(id, reason, message) */
	TS_FX_QUIESCE,          /* primary: guest fsfreeze (if asked), suspend-io, drain;
				 * answer with TS_EV_QUIESCED */
	TS_FX_RESUME,           /* primary: resume-io and thaw; idempotent */
	TS_FX_TAKE_PIECES,      /* take this PM's pieces; answer with TS_EV_PIECES */
	TS_FX_DELETE_PIECES,    /* remove this PM's pieces (missing ones are fine) */
	TS_FX_PERSIST,          /* write the row */
	TS_FX_REMOVE_ROW,       /* delete the row, leave a tombstone */
	TS_FX_REPLY,            /* answer the waiting CLI (only where it waits) */
	TS_FX_EVENT,            /* append to the event log */
	TS_FX_ARM_TIMER,        /* primary: start the freeze timer */
	TS_FX_DISARM_TIMER,
};

struct ts_fx {
	enum ts_fx_kind kind;
	int exit_code;                  /* REPLY: CLI exit code */
	uint64_t request;               /* REPLY: token on the node that waits */
	uint32_t request_node;          /* REPLY: nodeid of the node that waits */
	char code[40];                  /* REPLY: error code / ABORT: reason / EVENT: reason */
	char event_kind[24];            /* EVENT */
	char message[256];
};

#define TS_FX_MAX 16

struct ts_fx_list {
	size_t n;
	struct ts_fx items[TS_FX_MAX];
};

enum { TS_FSM_APPLIED = 0, TS_FSM_IGNORED = 1 };

/**
 * Apply @ev to @s (this PM is @self).  Returns TS_FSM_APPLIED with the
 * effects appended to @fx, or TS_FSM_IGNORED when the event means nothing in
 * the row's phase (nothing changed, no effect).
 */
int ts_snapfsm_step(uint32_t self, struct ts_snapshot *s, const struct ts_snap_event *ev,
		    struct ts_fx_list *fx);

/**
 * A CREATE was delivered and the precheck accepted it: @s (primary and
 * secondary set) starts in CREATED.  Effects: persist, event, and on the
 * primary quiesce + arm the freeze timer.
 */
void ts_snapfsm_start(uint32_t self, struct ts_snapshot *s, struct ts_fx_list *fx);

/** The row has been removed (it is gone once REMOVE_ROW is among the effects). */
bool ts_fx_removes_row(const struct ts_fx_list *fx);

const char *ts_snap_event_str(enum ts_snap_event_kind k);
const char *ts_fx_str(enum ts_fx_kind k);
const char *ts_peer_view_str(enum ts_peer_view v);

#endif
