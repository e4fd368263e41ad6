/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent_int — the agent's context, shared by agent.c (cluster and DRBD
 * events) and agent_ipc.c (CLI requests).  Private to those two files.
 */
#ifndef TS_AGENT_INT_H
#define TS_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "adapters/catalog.h"
#include "adapters/cluster.h"
#include "adapters/drbd.h"
#include "adapters/ipc_server.h"
#include "adapters/statedb.h"
#include "adapters/store.h"
#include "agent.h"
#include "core/nodestate.h"
#include "core/settings.h"
#include "core/snapshot.h"
#include "twinsnap.pb-c.h"

#define TS_MAX_PENDING 64
#define TS_PENDING_TIMEOUT_MS 5000
#define TS_MAX_INFLIGHT 64

struct ts_cluster_msg;
struct ts_fx_run;

/** A snapshot this PM is working on (phase CREATED..COMMITTING). */
struct ts_inflight {
	bool used;
	struct ts_snapshot row;
	struct ts_agent *agent;
	/* primary only: */
	bool held;                      /* I/O suspended (intent recorded) */
	bool fsfrozen;
	enum ts_consistency achieved;
	/* the minors this run may have suspended (set as suspend-io starts):
	 * what resume_io resumes; none before, so a failed quiesce resumes none */
	size_t n_minors;
	int minors[TS_SNAP_MAX_VOLUMES];
	bool has_slot;                  /* one of the max_holds (quiesce to resume) */
	bool wants_slot;                /* waits for one, in phase created */
	uint64_t slot_seq;              /* the order they wait in */
	bool ask_drbd;                  /* a suspend-io or resume-io of this hold failed or
					 * was killed: ask DRBD what is suspended first */
	uint64_t held_since_ms;
	bool from_intent;               /* held by a previous run (start-up recovery) */
	bool intent_early;              /* recorded with the row (crash consistency) */
	int guard_fd;                   /* write end of the freeze guard's pipe, or -1 */
	pid_t guard_pid;
	qb_loop_timer_handle freeze_timer, drain_timer;
	bool freeze_armed, drain_armed;
	/*
	 * The suspend-io calls or the drain reads under way on the loop (one
	 * per volume); when the last is in, the quiesce goes on.  A resume or
	 * the end of the snapshot waits for them first (ts_snap_jobs_reap).
	 */
	struct ts_snap_job {
		struct ts_inflight *f;
		struct ts_drbd_job *job;
		char *out;              /* a drain read's output */
	} jobs[TS_SNAP_MAX_VOLUMES];
	size_t jobs_pending;
	int jobs_rc;
	char *jobs_err;                 /* the first failure */
	void (*jobs_next)(struct ts_inflight *f);       /* once all are in */
	/*
	 * A step's effects wait for its resume-io jobs (agent_snap.c): the rest
	 * of them, and the events for this snapshot delivered meanwhile, which
	 * step() applies in order once the effects are done.
	 */
	struct ts_fx_run *paused;
	struct ts_snap_event *deferred;
	size_t n_deferred, cap_deferred;
	/* phase timings (ts_now_us), logged when the snapshot becomes normal */
	uint64_t t_delivered, t_admitted, t_frozen, t_pieces_start, t_pieces_done;
	/* and of the hold on the primary: suspend-io, drained, resume-io */
	uint64_t t_suspend, t_suspended, t_drained, t_resume, t_resumed;
};

/** What we know of one PM of the nodelist. */
struct ts_peer {
	uint32_t nodeid;
	char name[TS_NODE_NAME_MAX];
	bool member;
	struct ts_node_report *report;  /* last one it published; NULL if none */
};

/** A CLI request waiting for its CPG message to come back delivered. */
struct ts_pending {
	uint64_t token;
	uint64_t deadline_ms;
	struct ts_ipc_req *req;
	bool snapshot;                  /* answered by the snapshot code, not "ok" */
};

struct ts_agent {
	const struct ts_config *cfg;
	qb_loop_t *loop;
	bool step_txn;                  /* a step's catalog transaction is open (agent_snap.c) */
	struct ts_cluster *cluster;
	struct ts_drbd_mon *drbd;
	struct ts_ipc_server *ipc;
	struct ts_statedb *db;
	struct ts_settings *settings;
	struct ts_catalog *catalog;
	struct ts_store *store;
	struct ts_inflight inflight[TS_MAX_INFLIGHT];
	bool digest_from[TS_CLUSTER_MAX_NODES]; /* per peer index: its DIGEST delivered
						 * since the last membership change */
	struct ts_digest_acc {                  /* per peer index: the parts so far */
		struct ts_digest_entry *e;
		size_t n, cap;
		bool started;           /* part 0 delivered */
		uint32_t next_part;
	} digest_acc[TS_CLUSTER_MAX_NODES];
	qb_loop_timer_handle store_timer;
	pid_t reap[TS_MAX_INFLIGHT];            /* released freeze guards not yet reaped */
	/* Resources this agent resumed whose resume events2 has not shown yet. */
	size_t n_resumed;
	struct ts_resumed {
		char resource[TS_DRBD_NAME_MAX];
		bool seen_suspended;    /* events2 has shown the suspension */
		uint64_t until_ms;      /* forget it then, whatever events2 shows */
	} resumed[TS_MAX_INFLIGHT];

	char node_name[TS_NODE_NAME_MAX];
	uint32_t nodeid;
	size_t n_peers;
	struct ts_peer peers[TS_CLUSTER_MAX_NODES];

	struct ts_node_report *report;          /* ours, rebuilt on DRBD changes */
	struct ts_node_report *published;       /* what we last multicast */
	bool publish_queued;
	size_t n_holds;                         /* in-flight rows with a hold slot */
	uint64_t slot_seq;
	bool slot_job_queued;
	struct ts_list_ahead *list_ahead;       /* agent_snap_ipc.c: a list's next page */

	uint64_t next_token;
	struct ts_pending pending[TS_MAX_PENDING];
	qb_loop_timer_handle pending_timer;
	bool pending_timer_armed;
};

/* ---- agent_snap.c: the snapshot protocol's shell -------------------------- */

/** Open the catalog and store, resume any I/O a crash left held, recover rows. */
int ts_snap_init(struct ts_agent *a, char **errmsg);
void ts_snap_fini(struct ts_agent *a);
/** A snapshot message was delivered (CREATE FROZEN TAKEN ABORT DELETE DIGEST). */
void ts_snap_deliver(struct ts_agent *a, uint32_t nodeid, struct ts_cluster_msg *m);
/** The peer @nodeid left (or we lost corosync: nodeid of the peer). */
void ts_snap_peer_lost(struct ts_agent *a, uint32_t nodeid);
/** Someone joined: multicast our catalog digest. */
void ts_snap_membership_changed(struct ts_agent *a, bool someone_joined);
/** Local DRBD changed: detect role changes of in-flight snapshots' resources. */
void ts_snap_drbd_changed(struct ts_agent *a);
/** Append a line that is about no snapshot to the event log. */
void ts_snap_log_event(struct ts_agent *a, const char *kind, const char *reason,
		       const char *message);
/** Refresh the store's free space in our report; true if it changed. */
bool ts_snap_refresh_store(struct ts_agent *a);
/** Answer a waiting snapshot request (by token) — used by the FSM's REPLY. */
void ts_agent_answer_pending(struct ts_agent *a, uint64_t token, int exit_code,
			     const char *code, const char *message, const struct ts_snapshot *s);
/** Register a waiting request; 0 or -EBUSY. */
int ts_agent_add_pending(struct ts_agent *a, uint64_t token, struct ts_ipc_req *req,
			 uint64_t timeout_ms, bool snapshot);
/** Multicast a message (takes ownership of @m). */
int ts_agent_send(struct ts_agent *a, struct ts_cluster_msg *m);
struct ts_cluster_msg *ts_agent_msg_new(struct ts_agent *a, int kind);
void ts_agent_publish_soon(struct ts_agent *a);
/**
 * This agent resumed I/O of @resource: report it unsuspended at once (and
 * multicast the report now), without waiting for drbdsetup to show it.
 */
void ts_agent_note_resumed(struct ts_agent *a, const char *resource);
/** This agent is about to suspend I/O of @resource: drop its resumed override. */
void ts_agent_note_suspending(struct ts_agent *a, const char *resource);

/* IPC handlers of the snapshot commands (agent_snap_ipc.c). */

void ts_snap_ipc_create(struct ts_agent *a, struct ts_ipc_req *req,
			const Twinsnap__Request *rq);
/** Drop a page read ahead, and the reading ahead (before the catalog closes). */
void ts_snap_ipc_fini(struct ts_agent *a);
void ts_snap_ipc_list(struct ts_agent *a, struct ts_ipc_req *req,
		      const Twinsnap__Request *rq);
void ts_snap_ipc_show(struct ts_agent *a, struct ts_ipc_req *req,
		      const Twinsnap__Request *rq);
void ts_snap_ipc_delete(struct ts_agent *a, struct ts_ipc_req *req,
			const Twinsnap__Request *rq);
void ts_snap_ipc_enable(struct ts_agent *a, struct ts_ipc_req *req,
			const Twinsnap__Request *rq);
void ts_snap_ipc_events(struct ts_agent *a, struct ts_ipc_req *req,
			const Twinsnap__Request *rq);
/** Reply with a Snapshot body (committed_on computed from the row). */
void ts_agent_reply_snapshot(struct ts_agent *a, struct ts_ipc_req *req,
			     const struct ts_snapshot *s);

/** The CLI request handler (agent_ipc.c). */
void ts_agent_on_request(void *ctx, struct ts_ipc_req *req, const uint8_t *payload, size_t len);

/** Fail every waiting request whose deadline passed (or all, when @all). */
void ts_agent_expire_pending(struct ts_agent *a, bool all);

/** Multicast a setting change; the reply to @req goes out when it is delivered. */
int ts_agent_propose_setting(struct ts_agent *a, const char *key, const char *value,
			     struct ts_ipc_req *req);

struct ts_peer *ts_agent_peer_by_name(struct ts_agent *a, const char *name);

/** Pack and send @r as the answer to @req (releases @req). */
void ts_agent_send_reply(struct ts_ipc_req *req, const Twinsnap__Reply *r);

/** Reply with only an exit code and a message. */
void ts_agent_reply_error(struct ts_ipc_req *req, int exit_code, const char *code,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
