/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent_int — the agent's context, shared by agent.c (cluster and DRBD
 * events) and agent_ipc.c (CLI requests).  Private to those two files.
 */
#ifndef TS_AGENT_INT_H
#define TS_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "adapters/cluster.h"
#include "adapters/drbd.h"
#include "adapters/ipc_server.h"
#include "adapters/statedb.h"
#include "agent.h"
#include "core/nodestate.h"
#include "core/settings.h"

#define TS_MAX_PENDING 64
#define TS_PENDING_TIMEOUT_MS 5000

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
};

struct ts_agent {
	const struct ts_config *cfg;
	qb_loop_t *loop;
	struct ts_cluster *cluster;
	struct ts_drbd_mon *drbd;
	struct ts_ipc_server *ipc;
	struct ts_statedb *db;
	struct ts_settings *settings;

	char node_name[TS_NODE_NAME_MAX];
	uint32_t nodeid;
	size_t n_peers;
	struct ts_peer peers[TS_CLUSTER_MAX_NODES];

	struct ts_node_report *report;          /* ours, rebuilt on DRBD changes */
	struct ts_node_report *published;       /* what we last multicast */
	bool publish_queued;

	uint64_t next_token;
	struct ts_pending pending[TS_MAX_PENDING];
	qb_loop_timer_handle pending_timer;
	bool pending_timer_armed;
};

/** The CLI request handler (agent_ipc.c). */
void ts_agent_on_request(void *ctx, struct ts_ipc_req *req, const uint8_t *payload, size_t len);

/** Fail every waiting request whose deadline passed (or all, when @all). */
void ts_agent_expire_pending(struct ts_agent *a, bool all);

/** Multicast a setting change; the reply to @req goes out when it is delivered. */
int ts_agent_propose_setting(struct ts_agent *a, const char *key, const char *value,
			     struct ts_ipc_req *req);

struct ts_peer *ts_agent_peer_by_name(struct ts_agent *a, const char *name);

/** Reply with only an exit code and a message. */
void ts_agent_reply_error(struct ts_ipc_req *req, int exit_code, const char *code,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
