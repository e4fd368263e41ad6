/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cluster — the agent's only messaging path: a corosync CPG group (agreed
 * order, extended virtual synchrony), votequorum's quorate flag, and the
 * cluster's name and nodelist from cmap.  When corosync is not there (not
 * started yet, restarted, killed) the adapter says so through the callbacks
 * and reconnects by itself; the agent keeps serving its CLI meanwhile.
 * Callbacks only ever run from the loop, never inside ts_cluster_create().
 */
#ifndef TS_CLUSTER_H
#define TS_CLUSTER_H

#include <qb/qbloop.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_CLUSTER_MAX_NODES 16

struct ts_cluster_node {
	uint32_t nodeid;
	char name[64];
};

struct ts_cluster_callbacks {
	/** A message delivered in agreed order (our own included). */
	void (*deliver)(void *ctx, uint32_t nodeid, uint32_t pid, const void *msg, size_t len);
	/** The CPG membership: nodeids with at least one process in the group. */
	void (*membership)(void *ctx, const uint32_t *members, size_t n_members);
	void (*quorum)(void *ctx, bool quorate);
	/** Joined the group (true) or lost corosync (false). */
	void (*connection)(void *ctx, bool connected);
};

struct ts_cluster;

/** Create and start connecting (asynchronously; retries every second). */
int ts_cluster_create(qb_loop_t *loop, const char *group,
		      const struct ts_cluster_callbacks *cb, void *ctx,
		      struct ts_cluster **out);
void ts_cluster_destroy(struct ts_cluster *c);

/**
 * Multicast in agreed order.  When corosync says "try again" (flow control,
 * or its sync after a membership change) the message is queued and sent,
 * in order, as soon as corosync takes it.  0, TS_ENOCLUSTER when not
 * joined, -EAGAIN when the queue is full.
 */
int ts_cluster_send(struct ts_cluster *c, const void *buf, size_t len);

bool ts_cluster_connected(const struct ts_cluster *c);
bool ts_cluster_quorate(const struct ts_cluster *c);
/** 0 until connected once. */
uint32_t ts_cluster_local_nodeid(const struct ts_cluster *c);
/** "" until connected once. */
const char *ts_cluster_name(const struct ts_cluster *c);
/** corosync's nodelist as read at the last connect (may be empty). */
size_t ts_cluster_nodes(const struct ts_cluster *c, const struct ts_cluster_node **nodes);

#endif
