/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent — cluster and DRBD events (see agent.h).  Everything here runs in
 * the libqb loop: handlers never block, state lives in struct ts_agent.
 *
 * Replication: settings changes are multicast and applied only when
 * delivered, in CPG's agreed order, identically on both PMs; after every
 * membership change each PM multicasts all its settings (merged by the
 * convergent rule of core/settings.h) and its node report, so a PM that
 * returns, or a side of a healed partition, catches up without an operator.
 */
#include "config.h"
#include "agent_int.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/tserr.h"
#include "proto/wire.h"
#include "fault.h"
#include "util.h"

#define PENDING_SCAN_NS (500ULL * 1000 * 1000)

struct ts_peer *ts_agent_peer_by_name(struct ts_agent *a, const char *name)
{
	for (size_t i = 0; i < a->n_peers; i++)
		if (strcmp(a->peers[i].name, name) == 0)
			return &a->peers[i];
	return NULL;
}

static struct ts_peer *peer_by_id(struct ts_agent *a, uint32_t nodeid)
{
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i].nodeid == nodeid)
			return &a->peers[i];
	return NULL;
}

static struct ts_peer *peer_add(struct ts_agent *a, uint32_t nodeid, const char *name)
{
	struct ts_peer *p = peer_by_id(a, nodeid);

	if (p)
		return p;
	if (a->n_peers == TS_CLUSTER_MAX_NODES)
		return NULL;
	p = &a->peers[a->n_peers++];
	memset(p, 0, sizeof(*p));
	p->nodeid = nodeid;
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static void peer_forget_report(struct ts_peer *p)
{
	free(p->report);
	p->report = NULL;
}

/* ---- sending ------------------------------------------------------------ */

struct ts_cluster_msg *ts_agent_msg_new(struct ts_agent *a, int kind)
{
	struct ts_cluster_msg *m = ts_xcalloc(1, sizeof(*m));

	m->protocol = TS_PROTOCOL_VERSION;
	m->kind = (enum ts_cmsg_kind)kind;
	snprintf(m->sender, sizeof(m->sender), "%s", a->node_name);
	return m;
}

int ts_agent_send(struct ts_agent *a, struct ts_cluster_msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = ts_wire_encode_cluster(m, &buf, &len);

	if (rc == 0 && ts_fault("cluster/send"))
		rc = -ENOTCONN;
	if (rc == 0)
		rc = ts_cluster_send(a->cluster, buf, len);
	free(buf);
	ts_wire_cluster_msg_release(m);
	free(m);
	return rc;
}

#define msg_new ts_agent_msg_new
#define msg_send ts_agent_send

/* Debug: which resources @r reports with I/O suspended, and why it is looked at. */
static void log_suspended(const struct ts_node_report *r, const char *what)
{
	for (uint32_t i = 0; i < r->n_drbd; i++)
		if (r->drbd[i].suspended)
			qb_log(LOG_DEBUG, "%s %s suspended", what, r->drbd[i].resource);
}

static void publish_report(struct ts_agent *a)
{
	struct ts_cluster_msg *m;

	if (!ts_cluster_connected(a->cluster))
		return;
	m = msg_new(a, TS_CMSG_REPORT);
	m->report = *a->report;
	log_suspended(a->report, "report: publishing");
	if (msg_send(a, m) == 0)
		*a->published = *a->report;
}

static void publish_settings(struct ts_agent *a)
{
	struct ts_cluster_msg *m = msg_new(a, TS_CMSG_SYNC);
	size_t n = ts_settings_count(a->settings);

	for (size_t i = 0; i < n && i < TS_SETTINGS_MAX; i++)
		m->settings[m->n_settings++] = *ts_settings_at(a->settings, i);
	msg_send(a, m);
}

static void on_publish_job(void *data)
{
	struct ts_agent *a = data;

	a->publish_queued = false;
	if (!ts_node_report_equal(a->report, a->published))
		publish_report(a);
}

/* Coalesce a burst of DRBD lines into one report after the burst. */
static void queue_publish(struct ts_agent *a)
{
	if (a->publish_queued)
		return;
	a->publish_queued = qb_loop_job_add(a->loop, QB_LOOP_LOW, a, on_publish_job) == 0;
}

/*
 * Our own resumes, ahead of what drbdsetup has shown so far.  events2
 * follows DRBD with a lag: the suspension of a snapshot may show up
 * only after this agent has resumed I/O.  So a resumed resource is reported
 * unsuspended until events2 has shown it suspended and then not, or for
 * RESUMED_OVERRIDE_MS at most; otherwise a late "suspended:user" line would
 * be published and the next snapshot refused as drbd_suspended.
 */
#define RESUMED_OVERRIDE_MS 10000

static void forget_resumed(struct ts_agent *a, size_t i)
{
	memmove(&a->resumed[i], &a->resumed[i + 1], (a->n_resumed - i - 1) * sizeof(a->resumed[0]));
	a->n_resumed--;
}

/*
 * Report each resumed resource unsuspended.  @from_model: a->report was
 * just filled from events2, so its suspended flags are DRBD's view and tell
 * whether events2 has caught up.  Otherwise they may be this function's own
 * earlier override and must not be read as DRBD's view.
 */
static void apply_resumed(struct ts_agent *a, bool from_model)
{
	uint64_t now = ts_now_ms();

	for (size_t i = 0; i < a->n_resumed;) {
		struct ts_resumed *r = &a->resumed[i];
		bool found = false, suspended = false;

		for (uint32_t j = 0; j < a->report->n_drbd; j++) {
			struct ts_drbd_summary *d = &a->report->drbd[j];

			if (strcmp(d->resource, r->resource) != 0)
				continue;
			found = true;
			suspended = d->suspended;
			d->suspended = false;
		}
		if (from_model) {
			r->seen_suspended |= suspended;
			if (!found || (r->seen_suspended && !suspended)) {
				forget_resumed(a, i);   /* gone, or events2 caught up */
				continue;
			}
		}
		if (now >= r->until_ms) {
			forget_resumed(a, i);
			continue;
		}
		i++;
	}
}

void ts_agent_note_suspending(struct ts_agent *a, const char *resource)
{
	for (size_t i = 0; i < a->n_resumed; i++)
		if (strcmp(a->resumed[i].resource, resource) == 0)
			forget_resumed(a, i--);
}

void ts_agent_note_resumed(struct ts_agent *a, const char *resource)
{
	struct ts_resumed *r = NULL;

	for (size_t i = 0; i < a->n_resumed; i++)
		if (strcmp(a->resumed[i].resource, resource) == 0)
			r = &a->resumed[i];
	if (!r && a->n_resumed < TS_MAX_INFLIGHT) {
		r = &a->resumed[a->n_resumed++];
		snprintf(r->resource, sizeof(r->resource), "%s", resource);
		r->seen_suspended = false;
	}
	if (r) {
		/* events2 may already show the suspension (then it has seen it) */
		for (uint32_t j = 0; j < a->report->n_drbd; j++)
			if (strcmp(a->report->drbd[j].resource, resource) == 0 &&
			    a->report->drbd[j].suspended)
				r->seen_suspended = true;
		r->until_ms = ts_now_ms() + RESUMED_OVERRIDE_MS;
	}
	apply_resumed(a, false);
	if (!ts_node_report_equal(a->report, a->published))
		publish_report(a);
}

void ts_agent_publish_soon(struct ts_agent *a)
{
	ts_snap_refresh_store(a);
	queue_publish(a);
}

/* ---- pending CLI requests ------------------------------------------------ */

static void arm_pending_timer(struct ts_agent *a);

static void on_pending_timer(void *data)
{
	struct ts_agent *a = data;

	a->pending_timer_armed = false;
	ts_agent_expire_pending(a, false);
	arm_pending_timer(a);
}

static void arm_pending_timer(struct ts_agent *a)
{
	bool any = false;

	for (size_t i = 0; i < TS_MAX_PENDING; i++)
		any |= a->pending[i].req != NULL;
	if (!any || a->pending_timer_armed)
		return;
	a->pending_timer_armed = qb_loop_timer_add(a->loop, QB_LOOP_LOW, PENDING_SCAN_NS, a,
						   on_pending_timer, &a->pending_timer) == 0;
}

void ts_agent_expire_pending(struct ts_agent *a, bool all)
{
	uint64_t now = ts_now_ms();

	for (size_t i = 0; i < TS_MAX_PENDING; i++) {
		struct ts_pending *p = &a->pending[i];

		if (!p->req || (!all && now < p->deadline_ms))
			continue;
		ts_agent_reply_error(p->req, 1, "timeout",
				     "no decision from the cluster in time "
				     "(corosync or the peer unavailable?)");
		p->req = NULL;
	}
}

int ts_agent_add_pending(struct ts_agent *a, uint64_t token, struct ts_ipc_req *req,
			 uint64_t timeout_ms, bool snapshot)
{
	for (size_t i = 0; i < TS_MAX_PENDING; i++) {
		struct ts_pending *p = &a->pending[i];

		if (p->req)
			continue;
		p->token = token;
		p->deadline_ms = ts_now_ms() + timeout_ms;
		p->req = req;
		p->snapshot = snapshot;
		arm_pending_timer(a);
		return 0;
	}
	return -EBUSY;
}

void ts_agent_answer_pending(struct ts_agent *a, uint64_t token, int exit_code,
			     const char *code, const char *message, const struct ts_snapshot *s)
{
	for (size_t i = 0; i < TS_MAX_PENDING; i++) {
		struct ts_pending *p = &a->pending[i];
		struct ts_ipc_req *req = p->req;

		if (!req || p->token != token)
			continue;
		p->req = NULL;
		if (exit_code == 0 && s)
			ts_agent_reply_snapshot(a, req, s);
		else
			ts_agent_reply_error(req, exit_code, code, "%s", message);
		return;
	}
}

static void complete_pending(struct ts_agent *a, uint64_t token)
{
	ts_agent_answer_pending(a, token, 0, "", "ok", NULL);
}

int ts_agent_propose_setting(struct ts_agent *a, const char *key, const char *value,
			     struct ts_ipc_req *req)
{
	struct ts_cluster_msg *m;
	int rc;

	m = msg_new(a, TS_CMSG_SET);
	rc = ts_settings_propose(a->settings, key, value, a->nodeid, &m->set);
	if (rc < 0) {
		free(m);
		return rc;
	}
	m->request = ++a->next_token;
	rc = ts_agent_add_pending(a, m->request, req, TS_PENDING_TIMEOUT_MS, false);
	if (rc < 0) {
		free(m);
		return rc;
	}
	rc = msg_send(a, m);
	if (rc < 0) {
		/* Not sent: the caller answers; forget the waiting slot. */
		for (size_t i = 0; i < TS_MAX_PENDING; i++)
			if (a->pending[i].req == req)
				a->pending[i].req = NULL;
		return rc;
	}
	return 0;
}

/* ---- delivered messages -------------------------------------------------- */

static void adopt_setting(struct ts_agent *a, const struct ts_setting *s, const char *from)
{
	int rc = ts_settings_merge(a->settings, s);

	if (rc < 0) {
		qb_log(LOG_WARNING, "cluster: ignoring invalid setting '%s' from %s", s->key, from);
		return;
	}
	if (rc == 0 && ts_settings_get(a->settings, s->key)->version != s->version)
		return; /* stale: ours is newer */
	if (ts_statedb_save_setting(a->db, ts_settings_get(a->settings, s->key)) < 0)
		qb_log(LOG_ERR, "settings: %s=%s applied but NOT persisted", s->key, s->value);
	if (rc == 1) {
		char msg[160];

		qb_log(LOG_NOTICE, "settings: %s = %s (version %llu, from %s)", s->key, s->value,
		       (unsigned long long)s->version, from);
		snprintf(msg, sizeof(msg), "%s set to %s (from %s)", s->key, s->value, from);
		ts_snap_log_event(a, strncmp(s->key, "maintenance/", 12) == 0 ? "maintenance"
					: "snapshots", s->value, msg);
	}
}

static void on_deliver(void *ctx, uint32_t nodeid, uint32_t pid, const void *buf, size_t len)
{
	struct ts_agent *a = ctx;
	struct ts_cluster_msg *m = ts_xcalloc(1, sizeof(*m));
	struct ts_peer *p = peer_by_id(a, nodeid);

	if (!p) {
		qb_log(LOG_WARNING, "cluster: ignoring message from nodeid %u, not in the nodelist",
		       nodeid);
		goto out;
	}
	if (ts_wire_decode_cluster(buf, len, m) < 0) {
		qb_log(LOG_WARNING, "cluster: ignoring undecodable message (%zu bytes) from %s",
		       len, p->name);
		goto out;
	}
	if (m->protocol != TS_PROTOCOL_VERSION) {
		qb_log(LOG_WARNING, "cluster: ignoring message of protocol %u from %s (ours: %u)",
		       m->protocol, p->name, TS_PROTOCOL_VERSION);
		goto out;
	}
	switch (m->kind) {
	case TS_CMSG_REPORT:
		if (!p->report)
			p->report = ts_xcalloc(1, sizeof(*p->report));
		*p->report = m->report;
		snprintf(p->report->node, sizeof(p->report->node), "%s", p->name);
		p->report->nodeid = nodeid;
		break;
	case TS_CMSG_SET:
		adopt_setting(a, &m->set, p->name);
		if (nodeid == a->nodeid && m->request)
			complete_pending(a, m->request);
		break;
	case TS_CMSG_SYNC:
		for (uint32_t i = 0; i < m->n_settings; i++)
			adopt_setting(a, &m->settings[i], p->name);
		break;
	case TS_CMSG_CREATE:
	case TS_CMSG_FROZEN:
	case TS_CMSG_TAKEN:
	case TS_CMSG_ABORT:
	case TS_CMSG_DELETE:
	case TS_CMSG_DIGEST:
		ts_snap_deliver(a, nodeid, m);
		break;
	}
out:
	ts_wire_cluster_msg_release(m);
	free(m);
}

static void on_membership(void *ctx, const uint32_t *members, size_t n)
{
	struct ts_agent *a = ctx;
	bool someone_joined = false;

	for (size_t i = 0; i < a->n_peers; i++) {
		struct ts_peer *p = &a->peers[i];
		bool now = false;

		for (size_t j = 0; j < n; j++)
			now |= members[j] == p->nodeid;
		if (p->member && !now) {
			qb_log(LOG_NOTICE, "cluster: %s (nodeid %u) left", p->name, p->nodeid);
			peer_forget_report(p);
			if (p->nodeid != a->nodeid)
				ts_snap_peer_lost(a, p->nodeid);
		} else if (!p->member && now) {
			qb_log(LOG_NOTICE, "cluster: %s (nodeid %u) joined", p->name, p->nodeid);
			someone_joined = true;
		}
		p->member = now;
	}
	for (size_t j = 0; j < n; j++)
		if (!peer_by_id(a, members[j]))
			qb_log(LOG_WARNING, "cluster: nodeid %u is in the group but not in the "
			       "nodelist; ignoring it", members[j]);
	if (someone_joined) {
		/* The newcomer knows nothing we said before: say it again. */
		publish_settings(a);
		publish_report(a);
	}
	ts_snap_membership_changed(a, someone_joined);
}

static void on_quorum(void *ctx, bool quorate)
{
}

static void resolve_names(struct ts_agent *a)
{
	const struct ts_cluster_node *nodes;
	size_t n = ts_cluster_nodes(a->cluster, &nodes);
	const char *mine = NULL;

	a->nodeid = ts_cluster_local_nodeid(a->cluster);
	/* Drop the placeholder for ourselves made before corosync answered. */
	for (size_t i = 0; i < a->n_peers; i++) {
		if (a->peers[i].nodeid == 0) {
			a->peers[i] = a->peers[--a->n_peers];
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct ts_peer *p = peer_add(a, nodes[i].nodeid, nodes[i].name);

		if (p && strcmp(p->name, nodes[i].name) != 0)
			snprintf(p->name, sizeof(p->name), "%s", nodes[i].name);
		if (nodes[i].nodeid == a->nodeid)
			mine = nodes[i].name;
	}
	if (a->cfg->node_name && mine && strcmp(a->cfg->node_name, mine) != 0)
		qb_log(LOG_WARNING, "config node_name '%s' differs from corosync's name '%s' "
		       "for nodeid %u; using corosync's", a->cfg->node_name, mine, a->nodeid);
	if (mine)
		snprintf(a->node_name, sizeof(a->node_name), "%s", mine);
	if (!peer_by_id(a, a->nodeid))
		peer_add(a, a->nodeid, a->node_name);
	snprintf(a->report->node, sizeof(a->report->node), "%s", a->node_name);
	a->report->nodeid = a->nodeid;
}

static void on_connection(void *ctx, bool connected)
{
	struct ts_agent *a = ctx;

	if (connected) {
		resolve_names(a);
		memset(a->published, 0, sizeof(*a->published));
		return;
	}
	for (size_t i = 0; i < a->n_peers; i++) {
		bool was = a->peers[i].member;

		a->peers[i].member = false;
		peer_forget_report(&a->peers[i]);
		/* Without corosync the peer is as good as lost. */
		if (was && a->peers[i].nodeid != a->nodeid)
			ts_snap_peer_lost(a, a->peers[i].nodeid);
	}
	ts_agent_expire_pending(a, true);
}

/* ---- DRBD ---------------------------------------------------------------- */

static void on_drbd_changed(void *ctx)
{
	struct ts_agent *a = ctx;
	unsigned left_out = ts_node_report_fill(a->report, ts_drbd_mon_model(a->drbd));

	log_suspended(a->report, "drbd: events2 shows");

	apply_resumed(a, true);
	if (left_out)
		qb_log(LOG_WARNING, "drbd: %u resources beyond %d left out of the node report",
		       left_out, TS_NODE_MAX_DRBD);
	queue_publish(a);
	ts_snap_drbd_changed(a);
}

/* ---- life cycle ----------------------------------------------------------- */

int ts_agent_create(qb_loop_t *loop, const struct ts_config *cfg, struct ts_agent **out,
		    char **errmsg)
{
	static const struct ts_cluster_callbacks cluster_cb = {
		.deliver = on_deliver,
		.membership = on_membership,
		.quorum = on_quorum,
		.connection = on_connection,
	};
	struct ts_drbd_mon_config dcfg = {
		.drbdsetup = cfg->drbdsetup,
		.poll_interval_ms = cfg->poll_interval_ms,
		.restart_min_ms = cfg->restart_min_ms,
		.restart_max_ms = cfg->restart_max_ms,
	};
	struct ts_agent *a = ts_xcalloc(1, sizeof(*a));
	char host[TS_NODE_NAME_MAX] = "";
	int rc;

	a->cfg = cfg;
	a->loop = loop;
	a->settings = ts_settings_create();
	a->report = ts_xcalloc(1, sizeof(*a->report));
	a->published = ts_xcalloc(1, sizeof(*a->published));
	if (cfg->node_name)
		snprintf(a->node_name, sizeof(a->node_name), "%s", cfg->node_name);
	else if (gethostname(host, sizeof(host) - 1) == 0)
		snprintf(a->node_name, sizeof(a->node_name), "%s", host);

	/* Until corosync tells us our nodeid, show ourselves as nodeid 0. */
	peer_add(a, 0, a->node_name);

	rc = ts_statedb_open(cfg->state_dir, &a->db, errmsg);
	if (rc < 0)
		goto fail;
	rc = ts_statedb_load_settings(a->db, a->settings);
	if (rc < 0) {
		*errmsg = ts_xasprintf("cannot read settings from %s", cfg->state_dir);
		goto fail;
	}
	rc = ts_snap_init(a, errmsg);
	if (rc < 0)
		goto fail;
	rc = ts_ipc_server_create(loop, cfg->ipc_name, cfg->admin_group, ts_agent_on_request,
				  a, &a->ipc);
	if (rc < 0) {
		*errmsg = ts_xasprintf("cannot create IPC service '%s': %s", cfg->ipc_name,
				       strerror(-rc));
		goto fail;
	}
	ts_drbd_mon_create(loop, &dcfg, on_drbd_changed, a, &a->drbd);
	ts_cluster_create(loop, cfg->cpg_group, &cluster_cb, a, &a->cluster);
	*out = a;
	return 0;
fail:
	ts_agent_destroy(a);
	return rc;
}

void ts_agent_destroy(struct ts_agent *a)
{
	if (!a)
		return;
	ts_agent_expire_pending(a, true);
	if (a->pending_timer_armed)
		qb_loop_timer_del(a->loop, a->pending_timer);
	ts_cluster_destroy(a->cluster);
	ts_snap_fini(a);
	ts_drbd_mon_destroy(a->drbd);
	ts_ipc_server_destroy(a->ipc);
	ts_statedb_close(a->db);
	ts_settings_destroy(a->settings);
	for (size_t i = 0; i < a->n_peers; i++)
		peer_forget_report(&a->peers[i]);
	free(a->report);
	free(a->published);
	free(a);
}
