/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nodestate — what a PM's state is, derived by rule from facts: membership,
 * the replicated maintenance flag and the DRBD summary the PM published.
 * Pure: the agent gathers the facts, this module decides.
 *
 *   not a CPG member           → down
 *   maintenance flag on        → maintenance   (wins over syncing)
 *   any DRBD resource resyncing→ syncing, with the lowest done %
 *   no report published yet    → unknown (a member that has not spoken yet)
 *   otherwise                  → running
 */
#ifndef TS_NODESTATE_H
#define TS_NODESTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/drbd_model.h"

#define TS_NODE_NAME_MAX 64
#define TS_NODE_MAX_DRBD 256

enum ts_node_state {
	TS_NODE_UNKNOWN = 0, TS_NODE_RUNNING, TS_NODE_MAINTENANCE,
	TS_NODE_SYNCING, TS_NODE_DOWN,
};

/** One DRBD resource as a PM summarises it for its peer and the CLI. */
struct ts_drbd_summary {
	char resource[TS_DRBD_NAME_MAX];
	enum ts_drbd_role role;
	enum ts_drbd_conn connection;   /* first connection; UNKNOWN if none */
	enum ts_drbd_disk disk;         /* the worst of the resource's volumes */
	enum ts_drbd_disk peer_disk;    /* the worst of the peer's volumes */
	enum ts_drbd_repl replication;  /* the first not Established, else Established */
	bool suspended;
	bool resyncing;
	bool has_done;                  /* false: not resyncing, or no estimate */
	double done;
};

/** What a PM publishes about itself over CPG. */
struct ts_node_report {
	char node[TS_NODE_NAME_MAX];
	uint32_t nodeid;
	bool drbd_ready;                /* the events2 dump was read completely */
	bool store_known;               /* the volume store answered */
	uint64_t store_free_bytes;      /* free space in the volume store */
	uint32_t n_drbd;
	struct ts_drbd_summary drbd[TS_NODE_MAX_DRBD];
};

/**
 * Fill @r->drbd from @m (resources beyond TS_NODE_MAX_DRBD are left out and
 * counted in the return value).  Leaves node/nodeid alone.
 */
unsigned ts_node_report_fill(struct ts_node_report *r, const struct ts_drbd_model *m);

/** Summarise one resource (see struct ts_drbd_summary for the rules). */
void ts_drbd_summarise(const struct ts_drbd_resource *res, struct ts_drbd_summary *out);

/**
 * Derive a PM's state.  @report may be NULL (nothing published yet).
 * *@sync_done receives the lowest done % when syncing and known, else -1.
 */
enum ts_node_state ts_node_state_derive(bool member, bool maintenance,
					const struct ts_node_report *report,
					double *sync_done);

/** Two reports carry the same facts (used to publish only on change). */
bool ts_node_report_equal(const struct ts_node_report *a, const struct ts_node_report *b);

const char *ts_node_state_str(enum ts_node_state s);

/** A node name is 1..63 chars of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool ts_node_name_valid(const char *name);

#endif
