/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cluster — corosync CPG + votequorum + cmap adapter (see cluster.h). */
#include "config.h"
#include "adapters/cluster.h"

#include <corosync/cmap.h>
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <errno.h>
#include <poll.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <string.h>

#include "core/tserr.h"
#include "util.h"

#define RECONNECT_NS (1000ULL * 1000 * 1000)
#define SEND_RETRY_NS (5ULL * 1000 * 1000)
#define JOIN_RETRIES 20
#define SEND_QUEUE_MAX 4096

/* A message corosync's flow control (or its sync after a membership
 * change) told us to send again later: kept in order until it goes out. */
struct out_msg {
	struct out_msg *next;
	size_t len;
	uint8_t data[];
};

struct ts_cluster {
	qb_loop_t *loop;
	char group_name[128];
	struct ts_cluster_callbacks cb;
	void *ctx;

	cpg_handle_t cpg;
	quorum_handle_t quorum;
	int cpg_fd, quorum_fd;
	bool joined, quorate;
	uint32_t local_nodeid;
	char cluster_name[128];
	size_t n_nodes;
	struct ts_cluster_node nodes[TS_CLUSTER_MAX_NODES];
	qb_loop_timer_handle reconnect_timer;
	bool reconnect_pending;

	struct out_msg *queue_head, *queue_tail;
	size_t queue_len;
	qb_loop_timer_handle send_timer;
	bool send_timer_armed;
};

static void schedule_reconnect(struct ts_cluster *c);

static struct ts_cluster *cpg_owner(cpg_handle_t h)
{
	void *ctx = NULL;

	cpg_context_get(h, &ctx);
	return ctx;
}

static void on_cpg_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
			   uint32_t pid, void *msg, size_t len)
{
	struct ts_cluster *c = cpg_owner(h);

	if (c && c->cb.deliver)
		c->cb.deliver(c->ctx, nodeid, pid, msg, len);
}

static void on_cpg_confchg(cpg_handle_t h, const struct cpg_name *group,
			   const struct cpg_address *members, size_t n_members,
			   const struct cpg_address *left, size_t n_left,
			   const struct cpg_address *joined, size_t n_joined)
{
	struct ts_cluster *c = cpg_owner(h);
	uint32_t ids[TS_CLUSTER_MAX_NODES];
	size_t n = 0;

	if (!c)
		return;
	for (size_t i = 0; i < n_members; i++) {
		bool seen = false;

		for (size_t j = 0; j < n; j++)
			seen |= ids[j] == members[i].nodeid;
		if (!seen && n < TS_CLUSTER_MAX_NODES)
			ids[n++] = members[i].nodeid;
	}
	for (size_t i = 0; i < n_left; i++)
		qb_log(LOG_INFO, "cpg: nodeid %u pid %u left (reason %u)",
		       left[i].nodeid, left[i].pid, left[i].reason);
	for (size_t i = 0; i < n_joined; i++)
		qb_log(LOG_INFO, "cpg: nodeid %u pid %u joined", joined[i].nodeid, joined[i].pid);
	if (c->cb.membership)
		c->cb.membership(c->ctx, ids, n);
}

static cpg_callbacks_t cpg_callbacks = {
	.cpg_deliver_fn = on_cpg_deliver,
	.cpg_confchg_fn = on_cpg_confchg,
};

static void on_quorum_notify(quorum_handle_t h, uint32_t quorate, uint64_t ring_seq,
			     uint32_t n_nodes, uint32_t *nodes)
{
	void *ctx = NULL;
	struct ts_cluster *c;

	quorum_context_get(h, (const void **)&ctx);
	c = ctx;
	if (!c)
		return;
	if (c->quorate != !!quorate)
		qb_log(LOG_NOTICE, "quorum: %s (%u nodes)", quorate ? "quorate" : "NOT quorate",
		       n_nodes);
	c->quorate = quorate;
	if (c->cb.quorum)
		c->cb.quorum(c->ctx, c->quorate);
}

static quorum_callbacks_t quorum_callbacks = {
	.quorum_notify_fn = on_quorum_notify,
};

static void drop_queue(struct ts_cluster *c)
{
	while (c->queue_head) {
		struct out_msg *m = c->queue_head;

		c->queue_head = m->next;
		free(m);
	}
	c->queue_tail = NULL;
	if (c->queue_len)
		qb_log(LOG_WARNING, "cpg: dropped %zu unsent messages with the connection",
		       c->queue_len);
	c->queue_len = 0;
	if (c->send_timer_armed) {
		qb_loop_timer_del(c->loop, c->send_timer);
		c->send_timer_armed = false;
	}
}

static void disconnect(struct ts_cluster *c)
{
	bool was_joined = c->joined;

	/* What was queued was meant for a membership that is gone; after a
	 * reconnect the agent says everything again anyway. */
	drop_queue(c);
	if (c->cpg_fd >= 0)
		qb_loop_poll_del(c->loop, c->cpg_fd);
	if (c->quorum_fd >= 0)
		qb_loop_poll_del(c->loop, c->quorum_fd);
	if (c->cpg) {
		cpg_finalize(c->cpg);
		c->cpg = 0;
	}
	if (c->quorum) {
		quorum_finalize(c->quorum);
		c->quorum = 0;
	}
	c->cpg_fd = c->quorum_fd = -1;
	c->joined = c->quorate = false;
	if (was_joined && c->cb.connection)
		c->cb.connection(c->ctx, false);
}

static int on_cpg_readable(int32_t fd, int32_t revents, void *data)
{
	struct ts_cluster *c = data;
	cs_error_t err = cpg_dispatch(c->cpg, CS_DISPATCH_ALL);

	if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
		qb_log(LOG_ERR, "cpg: dispatch failed (cs_error %d): lost corosync, reconnecting",
		       err);
		disconnect(c);
		schedule_reconnect(c);
		return 0; /* disconnect() already removed this source */
	}
	return 0;
}

static int on_quorum_readable(int32_t fd, int32_t revents, void *data)
{
	struct ts_cluster *c = data;
	cs_error_t err = quorum_dispatch(c->quorum, CS_DISPATCH_ALL);

	if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
		qb_log(LOG_ERR, "quorum: dispatch failed (cs_error %d)", err);
		disconnect(c);
		schedule_reconnect(c);
		return 0;
	}
	return 0;
}

/* Name and nodelist from cmap; failures only cost the names, not the join. */
static void read_cmap(struct ts_cluster *c)
{
	cmap_handle_t cmap;
	char *str = NULL;

	if (cmap_initialize(&cmap) != CS_OK) {
		qb_log(LOG_WARNING, "cmap: cannot connect; node names unavailable");
		return;
	}
	if (cmap_get_string(cmap, "totem.cluster_name", &str) == CS_OK) {
		snprintf(c->cluster_name, sizeof(c->cluster_name), "%s", str);
		free(str);
	}
	c->n_nodes = 0;
	for (unsigned i = 0; i < TS_CLUSTER_MAX_NODES; i++) {
		char key[CMAP_KEYNAME_MAXLEN];
		uint32_t id;

		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", i);
		if (cmap_get_uint32(cmap, key, &id) != CS_OK)
			break;
		snprintf(key, sizeof(key), "nodelist.node.%u.name", i);
		str = NULL;
		if (cmap_get_string(cmap, key, &str) != CS_OK) {
			snprintf(key, sizeof(key), "nodelist.node.%u.ring0_addr", i);
			if (cmap_get_string(cmap, key, &str) != CS_OK)
				continue;
		}
		c->nodes[c->n_nodes].nodeid = id;
		snprintf(c->nodes[c->n_nodes].name, sizeof(c->nodes[0].name), "%s", str);
		c->n_nodes++;
		free(str);
	}
	cmap_finalize(cmap);
}

static int connect_quorum(struct ts_cluster *c)
{
	uint32_t type;
	int quorate = 0;

	if (quorum_initialize(&c->quorum, &quorum_callbacks, &type) != CS_OK) {
		c->quorum = 0;
		return TS_ENOCLUSTER;
	}
	quorum_context_set(c->quorum, c);
	if (quorum_getquorate(c->quorum, &quorate) == CS_OK)
		c->quorate = quorate;
	quorum_trackstart(c->quorum, CS_TRACK_CHANGES);
	quorum_fd_get(c->quorum, &c->quorum_fd);
	qb_loop_poll_add(c->loop, QB_LOOP_HIGH, c->quorum_fd, POLLIN, c, on_quorum_readable);
	return 0;
}

static int try_connect(struct ts_cluster *c)
{
	struct cpg_name name;
	unsigned int local = 0;
	cs_error_t err;

	if (cpg_initialize(&c->cpg, &cpg_callbacks) != CS_OK) {
		c->cpg = 0;
		return TS_ENOCLUSTER;
	}
	cpg_context_set(c->cpg, c);
	if (cpg_local_get(c->cpg, &local) != CS_OK)
		goto fail;
	c->local_nodeid = local;
	read_cmap(c);
	if (connect_quorum(c) < 0)
		qb_log(LOG_WARNING, "quorum: cannot connect to votequorum; assuming not quorate");

	name.length = (uint32_t)strlen(c->group_name);
	memcpy(name.value, c->group_name, name.length);
	for (int i = 0; i < JOIN_RETRIES; i++) {
		err = cpg_join(c->cpg, &name);
		if (err != CS_ERR_TRY_AGAIN)
			break;
	}
	if (err != CS_OK) {
		qb_log(LOG_ERR, "cpg: join of group '%s' failed (cs_error %d)", c->group_name, err);
		goto fail;
	}
	cpg_fd_get(c->cpg, &c->cpg_fd);
	qb_loop_poll_add(c->loop, QB_LOOP_HIGH, c->cpg_fd, POLLIN, c, on_cpg_readable);
	c->joined = true;
	qb_log(LOG_NOTICE, "cpg: joined group '%s' as nodeid %u in cluster '%s'",
	       c->group_name, c->local_nodeid, c->cluster_name);
	if (c->cb.connection)
		c->cb.connection(c->ctx, true);
	if (c->cb.quorum)
		c->cb.quorum(c->ctx, c->quorate);
	return 0;
fail:
	disconnect(c);
	return TS_ENOCLUSTER;
}

static void on_reconnect_timer(void *data)
{
	struct ts_cluster *c = data;

	c->reconnect_pending = false;
	if (try_connect(c) < 0)
		schedule_reconnect(c);
}

static void schedule_reconnect(struct ts_cluster *c)
{
	if (c->reconnect_pending)
		return;
	c->reconnect_pending = true;
	qb_loop_timer_add(c->loop, QB_LOOP_MED, RECONNECT_NS, c, on_reconnect_timer,
			  &c->reconnect_timer);
}

static void on_first_connect(void *data)
{
	struct ts_cluster *c = data;

	c->reconnect_pending = false;
	if (try_connect(c) < 0) {
		qb_log(LOG_WARNING, "cpg: corosync not reachable; retrying every second");
		schedule_reconnect(c);
	}
}

int ts_cluster_create(qb_loop_t *loop, const char *group,
		      const struct ts_cluster_callbacks *cb, void *ctx,
		      struct ts_cluster **out)
{
	struct ts_cluster *c;

	if (strlen(group) >= sizeof(c->group_name) || strlen(group) >= CPG_MAX_NAME_LENGTH)
		return -ENAMETOOLONG;
	c = ts_xcalloc(1, sizeof(*c));
	c->loop = loop;
	snprintf(c->group_name, sizeof(c->group_name), "%s", group);
	c->cb = *cb;
	c->ctx = ctx;
	c->cpg_fd = c->quorum_fd = -1;
	/* The first attempt runs from the loop, so no callback fires before
	 * the caller has its handle. */
	c->reconnect_pending = true;
	qb_loop_timer_add(loop, QB_LOOP_MED, 0, c, on_first_connect, &c->reconnect_timer);
	*out = c;
	return 0;
}

void ts_cluster_destroy(struct ts_cluster *c)
{
	if (!c)
		return;
	if (c->reconnect_pending)
		qb_loop_timer_del(c->loop, c->reconnect_timer);
	c->cb.connection = NULL;
	if (c->joined) {
		struct cpg_name name;

		name.length = (uint32_t)strlen(c->group_name);
		memcpy(name.value, c->group_name, name.length);
		cpg_leave(c->cpg, &name);
	}
	disconnect(c);
	free(c);
}

static cs_error_t mcast(struct ts_cluster *c, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return cpg_mcast_joined(c->cpg, CPG_TYPE_AGREED, &iov, 1);
}

static void arm_send_timer(struct ts_cluster *c);

static void on_send_timer(void *data)
{
	struct ts_cluster *c = data;

	c->send_timer_armed = false;
	while (c->queue_head) {
		struct out_msg *m = c->queue_head;
		cs_error_t err = mcast(c, m->data, m->len);

		if (err == CS_ERR_TRY_AGAIN) {
			arm_send_timer(c);
			return;
		}
		if (err != CS_OK)
			qb_log(LOG_ERR, "cpg: multicast of a queued message failed (cs_error %d)",
			       err);
		c->queue_head = m->next;
		if (!c->queue_head)
			c->queue_tail = NULL;
		c->queue_len--;
		free(m);
	}
}

static void arm_send_timer(struct ts_cluster *c)
{
	if (c->send_timer_armed)
		return;
	c->send_timer_armed = qb_loop_timer_add(c->loop, QB_LOOP_HIGH, SEND_RETRY_NS, c,
						on_send_timer, &c->send_timer) == 0;
}

int ts_cluster_send(struct ts_cluster *c, const void *buf, size_t len)
{
	struct out_msg *m;
	cs_error_t err;

	if (!c->joined)
		return TS_ENOCLUSTER;
	/* Order matters: nothing overtakes what is already queued. */
	if (!c->queue_head) {
		err = mcast(c, buf, len);
		if (err == CS_OK)
			return 0;
		if (err != CS_ERR_TRY_AGAIN) {
			qb_log(LOG_ERR, "cpg: multicast failed (cs_error %d)", err);
			return TS_ENOCLUSTER;
		}
	}
	if (c->queue_len >= SEND_QUEUE_MAX) {
		qb_log(LOG_ERR, "cpg: send queue full (%d messages); dropping", SEND_QUEUE_MAX);
		return -EAGAIN;
	}
	m = ts_xmalloc(sizeof(*m) + len);
	m->next = NULL;
	m->len = len;
	memcpy(m->data, buf, len);
	if (c->queue_tail)
		c->queue_tail->next = m;
	else
		c->queue_head = m;
	c->queue_tail = m;
	c->queue_len++;
	arm_send_timer(c);
	return 0;
}

bool ts_cluster_connected(const struct ts_cluster *c)
{
	return c->joined;
}

bool ts_cluster_quorate(const struct ts_cluster *c)
{
	return c->joined && c->quorate;
}

uint32_t ts_cluster_local_nodeid(const struct ts_cluster *c)
{
	return c->local_nodeid;
}

const char *ts_cluster_name(const struct ts_cluster *c)
{
	return c->cluster_name;
}

size_t ts_cluster_nodes(const struct ts_cluster *c, const struct ts_cluster_node **nodes)
{
	*nodes = c->nodes;
	return c->n_nodes;
}
