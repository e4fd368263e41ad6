/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent_snap_ipc — the agent's answers to the snapshot commands of the CLI:
 * create (validate, gather the VM's facts, multicast CREATE, wait), list,
 * show, delete (multicast DELETE), snapshots enable/disable, events.
 * Input from the CLI is hostile: every name is validated here, and none
 * ever becomes a path.
 */
#include "config.h"
#include "agent_int.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/hv.h"
#include "adapters/ipc_server.h"
#include "core/tserr.h"
#include "proto/wire.h"
#include "util.h"

enum { EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NOT_FOUND = 3, EXIT_REFUSED = 4 };

/* The longest a create may wait: freeze timeout plus the time to notice a lost peer. */
#define CREATE_WAIT_SLACK_MS 30000 /* with freeze_timeout_ms <= 50 s: under the CLI's 120 s */

void ts_snap_new_id(char id[TS_SNAP_ID_LEN + 1]);

static const char *name_of(struct ts_agent *a, uint32_t nodeid)
{
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i].nodeid == nodeid)
			return a->peers[i].name;
	return "?";
}

/* PMs whose TAKEN this PM has delivered (both once normal). */
static size_t committed_on(struct ts_agent *a, const struct ts_snapshot *s, const char **names)
{
	size_t n = 0;

	if (s->phase == TS_PH_NORMAL) {
		names[n++] = name_of(a, s->primary);
		names[n++] = name_of(a, s->secondary);
		return n;
	}
	if (s->taken_by[0])
		names[n++] = name_of(a, s->primary);
	if (s->taken_by[1])
		names[n++] = name_of(a, s->secondary);
	return n;
}

void ts_agent_reply_snapshot(struct ts_agent *a, struct ts_ipc_req *req,
			     const struct ts_snapshot *s)
{
	Twinsnap__Reply r = TWINSNAP__REPLY__INIT;
	struct ts_wire_snap_pb pb;
	const char *names[TS_NODE_PAIR];
	size_t n = committed_on(a, s, names);

	ts_wire_snapshot_to_pb(s, names, n, &pb);
	r.body_case = TWINSNAP__REPLY__BODY_SNAPSHOT;
	r.snapshot = &pb.pb;
	ts_agent_send_reply(req, &r);
}

/* ---- create ------------------------------------------------------------------ */

static int fill_request(struct ts_agent *a, const Twinsnap__SnapshotCreateRequest *c,
			struct ts_cluster_msg *m, struct ts_ipc_req *req)
{
	struct ts_snapshot *s = &m->snap;
	struct ts_vm vm;
	char *err = NULL, *xml = NULL;
	int rc;

	if (!c->vm || !ts_vm_name_valid(c->vm)) {
		ts_agent_reply_error(req, EXIT_USAGE, "invalid_vm",
				     "invalid VM name (1-63 of A-Z a-z 0-9 . _ -)");
		return -EINVAL;
	}
	if (c->n_volumes > TS_SNAP_MAX_VOLUMES) {
		ts_agent_reply_error(req, EXIT_USAGE, "too_many_volumes",
				     "at most %d volumes", TS_SNAP_MAX_VOLUMES);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_volumes; i++) {
		if (!ts_volume_name_valid(c->volumes[i])) {
			ts_agent_reply_error(req, EXIT_USAGE, "invalid_volume",
					     "invalid volume name (1-63 of A-Z a-z 0-9 . _ -)");
			return -EINVAL;
		}
	}
	if (c->name && c->name[0] && !ts_snapshot_name_valid(c->name)) {
		ts_agent_reply_error(req, EXIT_USAGE, "invalid_name",
				     "invalid snapshot name: at most %d bytes of UTF-8 text "
				     "without control characters", TS_SNAP_NAME_MAX - 1);
		return -EINVAL;
	}
	if (c->description && !ts_snapshot_description_valid(c->description)) {
		ts_agent_reply_error(req, EXIT_USAGE, "invalid_description",
				     "invalid description: at most %d bytes of UTF-8 text",
				     TS_SNAP_DESC_MAX - 1);
		return -EINVAL;
	}
	if (ts_consistency_parse(c->consistency && c->consistency[0] ? c->consistency : "crash",
				 &s->consistency_requested) < 0) {
		ts_agent_reply_error(req, EXIT_USAGE, "invalid_consistency",
				     "consistency is crash, application or auto");
		return -EINVAL;
	}

	ts_snap_new_id(s->id);
	snprintf(s->vm, sizeof(s->vm), "%s", c->vm);
	snprintf(s->name, sizeof(s->name), "%s", c->name && c->name[0] ? c->name : c->vm);
	snprintf(s->description, sizeof(s->description), "%s", c->description ? c->description : "");
	s->created_at_ms = ts_wall_ms();
	s->origin = a->nodeid;

	rc = ts_hv_get(a->cfg->libvirt_uri, c->vm, &vm, &xml, &err);
	if (rc == -EIO) {
		ts_agent_reply_error(req, EXIT_FAILED, "hypervisor_unavailable", "%s", err);
		free(err);
		return rc;
	}
	/* An unknown VM is refused by the precheck on both PMs, and logged. */
	m->vm.known = rc == 0;
	if (rc == 0) {
		m->vm.uefi = vm.uefi;
		for (size_t i = 0; i < vm.n_volumes && i < TS_SNAP_MAX_VOLUMES; i++) {
			snprintf(m->vm.volumes[i], sizeof(m->vm.volumes[i]), "%s",
				 vm.volumes[i].name);
			if (vm.volumes[i].boot)
				snprintf(m->vm.boot_volume, sizeof(m->vm.boot_volume), "%s",
					 vm.volumes[i].name);
			m->vm.n_volumes++;
		}
		s->domain_xml = xml;
	}
	if (c->n_volumes) {
		for (size_t i = 0; i < c->n_volumes; i++)
			snprintf(s->volumes[i], sizeof(s->volumes[i]), "%s", c->volumes[i]);
		s->n_volumes = (uint32_t)c->n_volumes;
	} else {
		for (uint32_t i = 0; i < m->vm.n_volumes; i++)
			memcpy(s->volumes[i], m->vm.volumes[i], sizeof(s->volumes[i]));
		s->n_volumes = m->vm.n_volumes;
	}
	for (uint32_t i = 0; i < s->n_volumes && a->store; i++)
		ts_store_volume_size(a->store, s->vm, s->volumes[i], &s->volume_bytes[i]);
	m->needed_bytes = a->store ? ts_store_estimate(a->store, s->volume_bytes, s->n_volumes) : 0;
	m->no_wait = c->no_wait;
	return 0;
}

void ts_snap_ipc_create(struct ts_agent *a, struct ts_ipc_req *req, const Twinsnap__Request *rq)
{
	struct ts_cluster_msg *m = ts_agent_msg_new(a, TS_CMSG_CREATE);
	uint64_t token;

	if (fill_request(a, rq->snapshot_create, m, req) < 0) {
		ts_wire_cluster_msg_release(m);
		free(m);
		return;
	}
	if (!ts_cluster_connected(a->cluster)) {
		char msg[160];

		snprintf(msg, sizeof(msg), "refused: %s cannot reach the cluster (corosync)",
			 a->node_name);
		ts_agent_reply_error(req, EXIT_REFUSED, "cluster_unavailable", "%s", msg);
		ts_wire_cluster_msg_release(m);
		free(m);
		return;
	}
	token = ++a->next_token;
	m->snap.request = token;
	if (ts_agent_add_pending(a, token, req, a->cfg->freeze_timeout_ms + CREATE_WAIT_SLACK_MS,
				 true) < 0) {
		ts_agent_reply_error(req, EXIT_FAILED, "busy", "too many requests in progress");
		ts_wire_cluster_msg_release(m);
		free(m);
		return;
	}
	qb_log(LOG_INFO, "ipc: snapshot create %s of %s", m->snap.id, m->snap.vm);
	/* ts_agent_send frees m; a failure leaves the pending request to time out
	 * only if it was queued — report it now instead. */
	if (ts_agent_send(a, m) < 0)
		ts_agent_answer_pending(a, token, EXIT_FAILED, "cluster_unavailable",
					"cannot multicast the request", NULL);
}

/* ---- list / show ------------------------------------------------------------------ */

/* A page of `snapshot list`: at most this many rows, and well inside one
 * IPC message (TS_IPC_MAX_MSG) even with the longest names. */
#define LIST_PAGE_ROWS 1500
#define LIST_PAGE_BYTES (TS_IPC_MAX_MSG / 2)
#define LIST_ROW_HINT 160       /* bytes of an ordinary packed row, to size the buffer */

/* Which rows a page holds: the request's filters and the row it follows. */
struct list_key {
	char vm[TS_VM_NAME_LEN_MAX];    /* "" for all VMs */
	int state;                      /* -1, TS_SNAP_BROKEN or TS_SNAP_NORMAL */
	struct ts_catalog_cursor after;
};

/* One page, packed: the reply and the cursor of its last row. */
struct list_page {
	struct ts_wire_list_reply w;
	const uint8_t *out;
	size_t len;
	bool more;
	struct ts_catalog_cursor last;
};

/*
 * The page after the one last answered, read while the client unpacks that
 * one (a list of 100k rows is ~70 pages, and each would otherwise wait for
 * the client's next request before the catalog is read).  It is answered
 * only to a request for exactly these rows while the catalog has not been
 * written since it was read: then it is what a read now would return.
 * One for the whole agent: a second list at the same time only misses it.
 */
struct ts_list_ahead {
	bool queued;                    /* the reading job is on the loop */
	bool ready;                     /* page holds the next page */
	struct list_key key;
	uint64_t generation;            /* ts_catalog_generation() when read */
	struct list_page page;
};

static bool list_key_eq(const struct list_key *x, const struct list_key *y)
{
	return strcmp(x->vm, y->vm) == 0 && x->state == y->state &&
	       x->after.created_at_ms == y->after.created_at_ms &&
	       strcmp(x->after.id, y->after.id) == 0;
}

static void list_page_free(struct list_page *p)
{
	ts_wire_list_reply_free(&p->w);
	memset(p, 0, sizeof(*p));
}

/* Read and pack the rows of @key.  0, or -errno (nothing to free). */
static int list_page_read(struct ts_agent *a, const struct list_key *key, struct list_page *p)
{
	struct ts_catalog_cursor cur = key->after;
	struct ts_snapshot *rows = NULL;
	size_t n = 0, added = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = ts_catalog_list_page(a->catalog, key->vm[0] ? key->vm : NULL, key->state, &cur,
				  LIST_PAGE_ROWS, &rows, &n, &p->more);
	if (rc < 0)
		return rc;
	/* each row is packed once, into the reply */
	ts_wire_list_reply_init(&p->w, n * LIST_ROW_HINT);
	for (; added < n; added++) {
		const char *names[TS_NODE_PAIR];
		size_t k = committed_on(a, &rows[added], names);

		/* the reply must fit one IPC message: stop early, the client asks on */
		if (!ts_wire_list_reply_add(&p->w, &rows[added], names, k, LIST_PAGE_BYTES)) {
			p->more = true;
			break;
		}
	}
	if (added > 0) {
		p->last.created_at_ms = rows[added - 1].created_at_ms;
		snprintf(p->last.id, sizeof(p->last.id), "%s", rows[added - 1].id);
	}
	p->out = ts_wire_list_reply_finish(&p->w, p->more, &p->len);
	ts_catalog_rows_free(rows, n);
	return 0;
}

static void on_list_ahead(void *data)
{
	struct ts_agent *a = data;
	struct ts_list_ahead *ahead = a->list_ahead;

	ahead->queued = false;
	if (ahead->ready || !a->catalog)
		return;
	ahead->generation = ts_catalog_generation(a->catalog);
	ahead->ready = list_page_read(a, &ahead->key, &ahead->page) == 0;
}

/* After answering @p (the rows of @key): read the next page on the loop. */
static void list_read_ahead(struct ts_agent *a, const struct list_key *key,
			    const struct list_page *p)
{
	struct ts_list_ahead *ahead = a->list_ahead;

	if (!p->more)
		return;
	if (!ahead)
		ahead = a->list_ahead = ts_xcalloc(1, sizeof(*ahead));
	if (ahead->ready)
		list_page_free(&ahead->page);
	ahead->ready = false;
	ahead->key = *key;
	ahead->key.after = p->last;
	if (!ahead->queued)
		ahead->queued = qb_loop_job_add(a->loop, QB_LOOP_LOW, a, on_list_ahead) == 0;
}

/* The page read ahead if it answers @key now (then it is the caller's), else false. */
static bool list_take_ahead(struct ts_agent *a, const struct list_key *key,
			    struct list_page *p)
{
	struct ts_list_ahead *ahead = a->list_ahead;

	if (!ahead || !ahead->ready)
		return false;
	ahead->ready = false;
	if (list_key_eq(&ahead->key, key) &&
	    ahead->generation == ts_catalog_generation(a->catalog)) {
		*p = ahead->page;
		memset(&ahead->page, 0, sizeof(ahead->page));
		return true;
	}
	list_page_free(&ahead->page);
	return false;
}

void ts_snap_ipc_fini(struct ts_agent *a)
{
	struct ts_list_ahead *ahead = a->list_ahead;

	if (!ahead)
		return;
	if (ahead->queued)
		qb_loop_job_del(a->loop, QB_LOOP_LOW, a, on_list_ahead);
	if (ahead->ready)
		list_page_free(&ahead->page);
	free(ahead);
	a->list_ahead = NULL;
}

void ts_snap_ipc_list(struct ts_agent *a, struct ts_ipc_req *req, const Twinsnap__Request *rq)
{
	const Twinsnap__SnapshotListRequest *l = rq->snapshot_list;
	struct list_key key = { .state = -1, .after = TS_CATALOG_CURSOR_START };
	struct list_page p;

	if (l->state && l->state[0]) {
		if (strcmp(l->state, "broken") == 0)
			key.state = TS_SNAP_BROKEN;
		else if (strcmp(l->state, "normal") == 0)
			key.state = TS_SNAP_NORMAL;
		else {
			ts_agent_reply_error(req, EXIT_USAGE, "invalid_state",
					     "state is broken or normal");
			return;
		}
	}
	if (l->vm && l->vm[0]) {
		if (!ts_vm_name_valid(l->vm)) {
			ts_agent_reply_error(req, EXIT_USAGE, "invalid_vm", "invalid VM name");
			return;
		}
		snprintf(key.vm, sizeof(key.vm), "%s", l->vm);
	}
	if (l->after_set) {
		if (!l->after_id || !ts_snapshot_id_valid(l->after_id)) {
			ts_agent_reply_error(req, EXIT_USAGE, "invalid_id", "invalid after_id");
			return;
		}
		key.after.created_at_ms = l->after_created_ms;
		snprintf(key.after.id, sizeof(key.after.id), "%s", l->after_id);
	}
	if (!list_take_ahead(a, &key, &p) && list_page_read(a, &key, &p) < 0) {
		ts_agent_reply_error(req, EXIT_FAILED, "catalog", "cannot read the catalog");
		return;
	}
	if (ts_ipc_reply(req, p.out, p.len) < 0)
		qb_log(LOG_INFO, "ipc: client went away before its reply");
	else
		list_read_ahead(a, &key, &p);
	list_page_free(&p);
}

void ts_snap_ipc_show(struct ts_agent *a, struct ts_ipc_req *req, const Twinsnap__Request *rq)
{
	const char *id = rq->snapshot_show->id ? rq->snapshot_show->id : "";
	struct ts_snapshot row;

	if (!ts_snapshot_id_valid(id) || ts_catalog_get(a->catalog, id, &row) < 0) {
		ts_agent_reply_error(req, EXIT_NOT_FOUND, "not_found", "no snapshot with that id");
		return;
	}
	ts_agent_reply_snapshot(a, req, &row);
	ts_snapshot_release(&row);
}

/* ---- delete ----------------------------------------------------------------------- */

void ts_snap_ipc_delete(struct ts_agent *a, struct ts_ipc_req *req, const Twinsnap__Request *rq)
{
	const char *id = rq->snapshot_delete->id ? rq->snapshot_delete->id : "";
	struct ts_snapshot row;
	struct ts_cluster_msg *m;
	uint64_t token;

	if (!ts_snapshot_id_valid(id) || ts_catalog_get(a->catalog, id, &row) < 0) {
		ts_agent_reply_error(req, EXIT_NOT_FOUND, "not_found", "no snapshot with that id");
		return;
	}
	ts_snapshot_release(&row);
	if (row.phase != TS_PH_NORMAL && row.phase != TS_PH_PENDING) {
		ts_agent_reply_error(req, EXIT_FAILED, "in_progress",
				     "the snapshot is still in progress");
		return;
	}
	if (!ts_cluster_connected(a->cluster)) {
		ts_agent_reply_error(req, EXIT_FAILED, "cluster_unavailable",
				     "cannot reach the cluster (corosync)");
		return;
	}
	token = ++a->next_token;
	if (ts_agent_add_pending(a, token, req, TS_PENDING_TIMEOUT_MS, true) < 0) {
		ts_agent_reply_error(req, EXIT_FAILED, "busy", "too many requests in progress");
		return;
	}
	m = ts_agent_msg_new(a, TS_CMSG_DELETE);
	m->request = token;
	snprintf(m->snap_id, sizeof(m->snap_id), "%s", id);
	if (ts_agent_send(a, m) < 0)
		ts_agent_answer_pending(a, token, EXIT_FAILED, "cluster_unavailable",
					"cannot multicast the request", NULL);
}

/* ---- enable / events ---------------------------------------------------------------- */

void ts_snap_ipc_enable(struct ts_agent *a, struct ts_ipc_req *req, const Twinsnap__Request *rq)
{
	int rc = ts_agent_propose_setting(a, "snapshots",
					  rq->snapshots_enable->enable ? "enabled" : "disabled",
					  req);

	if (rc < 0)
		ts_agent_reply_error(req, EXIT_FAILED, "cluster_unavailable",
				     "cannot change the setting: %s", ts_strerror(rc));
}

void ts_snap_ipc_events(struct ts_agent *a, struct ts_ipc_req *req, const Twinsnap__Request *rq)
{
	const Twinsnap__EventsRequest *e = rq->events;
	Twinsnap__Reply r = TWINSNAP__REPLY__INIT;
	Twinsnap__EventsReply er = TWINSNAP__EVENTS_REPLY__INIT;
	struct ts_event *ev = NULL;
	Twinsnap__Event *pbs, **ptrs;
	size_t n = 0, limit = e->limit && e->limit < 10000 ? e->limit : 1000;

	if (ts_catalog_events(a->catalog, e->after_seq, limit, &ev, &n) < 0) {
		ts_agent_reply_error(req, EXIT_FAILED, "catalog", "cannot read the event log");
		return;
	}
	pbs = ts_xcalloc(n + 1, sizeof(*pbs));
	ptrs = ts_xcalloc(n + 1, sizeof(*ptrs));
	for (size_t i = 0; i < n; i++) {
		twinsnap__event__init(&pbs[i]);
		pbs[i].seq = ev[i].seq;
		pbs[i].time_ms = ev[i].time_ms;
		pbs[i].kind = ev[i].kind;
		pbs[i].snapshot = ev[i].snapshot;
		pbs[i].vm = ev[i].vm;
		pbs[i].reason = ev[i].reason;
		pbs[i].message = ev[i].message;
		ptrs[i] = &pbs[i];
	}
	er.n_events = n;
	er.events = ptrs;
	r.body_case = TWINSNAP__REPLY__BODY_EVENTS;
	r.events = &er;
	ts_agent_send_reply(req, &r);
	free(pbs);
	free(ptrs);
	free(ev);
}
