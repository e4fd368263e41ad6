/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent_ipc — the agent's answers to CLI requests: decode the protobuf
 * Request, dispatch through a table, build the Reply.  Exit codes are the
 * CLI's (CLI.md), chosen here so every client reports the same.
 */
#include "config.h"
#include "agent_int.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/hv.h"
#include "core/tserr.h"
#include "proto/wire.h"
#include "util.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NOT_FOUND = 3 };

void ts_agent_send_reply(struct ts_ipc_req *req, const Twinsnap__Reply *r)
{
	size_t len = twinsnap__reply__get_packed_size(r);
	uint8_t *buf = ts_xmalloc(len);

	twinsnap__reply__pack(r, buf);
	if (ts_ipc_reply(req, buf, len) < 0)
		qb_log(LOG_INFO, "ipc: client went away before its reply");
	free(buf);
}

void ts_agent_reply_error(struct ts_ipc_req *req, int exit_code, const char *code,
			  const char *fmt, ...)
{
	Twinsnap__Reply r = TWINSNAP__REPLY__INIT;
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	r.exit_code = exit_code;
	r.error_code = (char *)code;
	r.message = msg;
	ts_agent_send_reply(req, &r);
	free(msg);
}

/* ---- node views (shared by status and node list) ----------------------- */

struct views {
	size_t n;
	Twinsnap__NodeView *v;
	Twinsnap__NodeView **ptrs;
	Twinsnap__DrbdSummary **sums;           /* per view, an array */
	Twinsnap__DrbdSummary ***sum_ptrs;
};

static void build_view(struct ts_agent *a, struct ts_peer *p, Twinsnap__NodeView *v,
		       Twinsnap__DrbdSummary **sums_out, Twinsnap__DrbdSummary ***ptrs_out)
{
	bool self = p->nodeid == a->nodeid;
	const struct ts_node_report *rep = self ? a->report : p->report;
	bool member = p->member;
	bool maint = ts_settings_maintenance(a->settings, p->name);
	double done = -1;
	enum ts_node_state st;
	uint32_t n = rep ? rep->n_drbd : 0;

	/* Our own agent is running by definition, even when corosync is not. */
	if (self)
		member = true;
	st = ts_node_state_derive(member, maint, rep, &done);
	twinsnap__node_view__init(v);
	v->name = p->name;
	v->nodeid = p->nodeid;
	v->state = (char *)ts_node_state_str(st);
	v->member = self ? ts_cluster_connected(a->cluster) : p->member;
	v->maintenance = maint;
	v->has_sync_done = done >= 0;
	v->sync_done = done >= 0 ? done : 0;
	*sums_out = ts_xcalloc(n + 1, sizeof(**sums_out));
	*ptrs_out = ts_xcalloc(n + 1, sizeof(**ptrs_out));
	/* A PM that is down has no current DRBD picture to show. */
	if (st == TS_NODE_DOWN)
		n = 0;
	for (uint32_t i = 0; i < n; i++) {
		ts_wire_summary_to_pb(&rep->drbd[i], &(*sums_out)[i]);
		(*ptrs_out)[i] = &(*sums_out)[i];
	}
	v->n_drbd = n;
	v->drbd = *ptrs_out;
	v->drbd_ready = st != TS_NODE_DOWN && rep && rep->drbd_ready;
}

static void views_build(struct ts_agent *a, struct views *vs)
{
	vs->n = a->n_peers;
	vs->v = ts_xcalloc(vs->n + 1, sizeof(*vs->v));
	vs->ptrs = ts_xcalloc(vs->n + 1, sizeof(*vs->ptrs));
	vs->sums = ts_xcalloc(vs->n + 1, sizeof(*vs->sums));
	vs->sum_ptrs = ts_xcalloc(vs->n + 1, sizeof(*vs->sum_ptrs));
	for (size_t i = 0; i < vs->n; i++) {
		build_view(a, &a->peers[i], &vs->v[i], &vs->sums[i], &vs->sum_ptrs[i]);
		vs->ptrs[i] = &vs->v[i];
	}
}

static void views_free(struct views *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->sums[i]);
		free(vs->sum_ptrs[i]);
	}
	free(vs->v);
	free(vs->ptrs);
	free(vs->sums);
	free(vs->sum_ptrs);
}

/* ---- handlers ------------------------------------------------------------ */

static void handle_status(struct ts_agent *a, struct ts_ipc_req *req, const Twinsnap__Request *rq)
{
	Twinsnap__Reply r = TWINSNAP__REPLY__INIT;
	Twinsnap__StatusReply s = TWINSNAP__STATUS_REPLY__INIT;
	Twinsnap__Member *members = ts_xcalloc(a->n_peers + 1, sizeof(*members));
	Twinsnap__Member **mptrs = ts_xcalloc(a->n_peers + 1, sizeof(*mptrs));
	struct views vs;

	views_build(a, &vs);
	s.cluster = (char *)ts_cluster_name(a->cluster);
	s.cluster_connected = ts_cluster_connected(a->cluster);
	s.quorate = ts_cluster_quorate(a->cluster);
	s.local_node = a->node_name;
	for (size_t i = 0; i < a->n_peers; i++) {
		if (!a->peers[i].member)
			continue;
		twinsnap__member__init(&members[s.n_members]);
		members[s.n_members].name = a->peers[i].name;
		members[s.n_members].nodeid = a->peers[i].nodeid;
		mptrs[s.n_members] = &members[s.n_members];
		s.n_members++;
	}
	s.members = mptrs;
	s.n_nodes = vs.n;
	s.nodes = vs.ptrs;
	s.snapshots_enabled = ts_settings_snapshots_enabled(a->settings);
	for (size_t i = 0; i < TS_MAX_INFLIGHT; i++)
		s.snapshots_in_flight += a->inflight[i].used;
	r.body_case = TWINSNAP__REPLY__BODY_STATUS;
	r.status = &s;
	ts_agent_send_reply(req, &r);
	views_free(&vs);
	free(members);
	free(mptrs);
}

static void handle_node_list(struct ts_agent *a, struct ts_ipc_req *req,
			     const Twinsnap__Request *rq)
{
	Twinsnap__Reply r = TWINSNAP__REPLY__INIT;
	Twinsnap__NodeListReply nl = TWINSNAP__NODE_LIST_REPLY__INIT;
	struct views vs;

	views_build(a, &vs);
	nl.n_nodes = vs.n;
	nl.nodes = vs.ptrs;
	r.body_case = TWINSNAP__REPLY__BODY_NODE_LIST;
	r.node_list = &nl;
	ts_agent_send_reply(req, &r);
	views_free(&vs);
}

static char *known_node_names(struct ts_agent *a)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < a->n_peers; i++)
		len += strlen(a->peers[i].name) + 2;
	s = ts_xcalloc(1, len);
	for (size_t i = 0; i < a->n_peers; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, a->peers[i].name);
	}
	return s;
}

static void handle_maintenance(struct ts_agent *a, struct ts_ipc_req *req,
			       const Twinsnap__Request *rq)
{
	const char *node = rq->maintenance->node ? rq->maintenance->node : "";
	char key[TS_SETTING_KEY_MAX];
	char safe[80];
	int rc;

	ts_sanitize_for_log(node, safe, sizeof(safe));
	if (!ts_agent_peer_by_name(a, node)) {
		char *known = known_node_names(a);

		ts_agent_reply_error(req, EXIT_NOT_FOUND, "unknown_node",
				     "unknown node '%s' (known: %s)", safe,
				     known[0] ? known : "none yet: corosync not reachable");
		free(known);
		return;
	}
	if (ts_settings_maintenance_key(node, key, sizeof(key)) < 0) {
		ts_agent_reply_error(req, EXIT_USAGE, "invalid_node", "invalid node name '%s'",
				     safe);
		return;
	}
	rc = ts_agent_propose_setting(a, key, rq->maintenance->on ? "on" : "off", req);
	if (rc < 0)
		ts_agent_reply_error(req, EXIT_FAILED, "cluster_unavailable",
				     "cannot set maintenance mode of %s: %s", safe, ts_strerror(rc));
	else
		qb_log(LOG_INFO, "ipc: maintenance %s requested for %s",
		       rq->maintenance->on ? "on" : "off", safe);
}

static void handle_vm_list(struct ts_agent *a, struct ts_ipc_req *req, const Twinsnap__Request *rq)
{
	Twinsnap__Reply r = TWINSNAP__REPLY__INIT;
	Twinsnap__VmListReply vl = TWINSNAP__VM_LIST_REPLY__INIT;
	struct ts_vm *vms = NULL;
	size_t n = 0, n_vol = 0, vi = 0;
	char *err = NULL;
	Twinsnap__Vm *pvms, **pvm_ptrs;
	Twinsnap__Volume *pvols, **pvol_ptrs;

	if (ts_hv_list(a->cfg->libvirt_uri, &vms, &n, &err) < 0) {
		ts_agent_reply_error(req, EXIT_FAILED, "hypervisor_unavailable", "%s", err);
		free(err);
		return;
	}
	for (size_t i = 0; i < n; i++)
		n_vol += vms[i].n_volumes;
	pvms = ts_xcalloc(n + 1, sizeof(*pvms));
	pvm_ptrs = ts_xcalloc(n + 1, sizeof(*pvm_ptrs));
	pvols = ts_xcalloc(n_vol + 1, sizeof(*pvols));
	pvol_ptrs = ts_xcalloc(n_vol + 1, sizeof(*pvol_ptrs));
	for (size_t i = 0; i < n; i++) {
		twinsnap__vm__init(&pvms[i]);
		pvms[i].name = vms[i].name;
		pvms[i].firmware = (char *)(vms[i].uefi ? "uefi" : "bios");
		pvms[i].state = vms[i].state;
		pvms[i].volumes = &pvol_ptrs[vi];
		pvms[i].n_volumes = vms[i].n_volumes;
		for (size_t j = 0; j < vms[i].n_volumes; j++, vi++) {
			twinsnap__volume__init(&pvols[vi]);
			pvols[vi].name = vms[i].volumes[j].name;
			pvols[vi].boot = vms[i].volumes[j].boot;
			pvols[vi].path = vms[i].volumes[j].path;
			pvols[vi].target = vms[i].volumes[j].target;
			pvol_ptrs[vi] = &pvols[vi];
		}
		pvm_ptrs[i] = &pvms[i];
	}
	vl.n_vms = n;
	vl.vms = pvm_ptrs;
	r.body_case = TWINSNAP__REPLY__BODY_VM_LIST;
	r.vm_list = &vl;
	ts_agent_send_reply(req, &r);
	free(pvms);
	free(pvm_ptrs);
	free(pvols);
	free(pvol_ptrs);
	free(vms);
}

typedef void (*request_handler)(struct ts_agent *, struct ts_ipc_req *, const Twinsnap__Request *);

static const struct {
	const char *name;
	request_handler fn;
} handlers[] = {
	[TWINSNAP__REQUEST__BODY_STATUS] = { "status", handle_status },
	[TWINSNAP__REQUEST__BODY_NODE_LIST] = { "node list", handle_node_list },
	[TWINSNAP__REQUEST__BODY_MAINTENANCE] = { "node maintenance", handle_maintenance },
	[TWINSNAP__REQUEST__BODY_VM_LIST] = { "vm list", handle_vm_list },
	[TWINSNAP__REQUEST__BODY_SNAPSHOT_CREATE] = { "snapshot create", ts_snap_ipc_create },
	[TWINSNAP__REQUEST__BODY_SNAPSHOT_LIST] = { "snapshot list", ts_snap_ipc_list },
	[TWINSNAP__REQUEST__BODY_SNAPSHOT_SHOW] = { "snapshot show", ts_snap_ipc_show },
	[TWINSNAP__REQUEST__BODY_SNAPSHOT_DELETE] = { "snapshot delete", ts_snap_ipc_delete },
	[TWINSNAP__REQUEST__BODY_SNAPSHOTS_ENABLE] = { "snapshots enable", ts_snap_ipc_enable },
	[TWINSNAP__REQUEST__BODY_EVENTS] = { "events", ts_snap_ipc_events },
};

void ts_agent_on_request(void *ctx, struct ts_ipc_req *req, const uint8_t *payload, size_t len)
{
	struct ts_agent *a = ctx;
	Twinsnap__Request *rq = twinsnap__request__unpack(NULL, len, payload);
	unsigned which;

	if (!rq) {
		qb_log(LOG_WARNING, "ipc: undecodable request (%zu bytes)", len);
		ts_agent_reply_error(req, EXIT_USAGE, "bad_request", "undecodable request");
		return;
	}
	which = (unsigned)rq->body_case;
	if (which >= sizeof(handlers) / sizeof(handlers[0]) || !handlers[which].fn) {
		ts_agent_reply_error(req, EXIT_USAGE, "bad_request",
				     "request not understood by this twinsnapd");
	} else {
		qb_log(LOG_DEBUG, "ipc: %s", handlers[which].name);
		handlers[which].fn(a, req, rq);
	}
	twinsnap__request__free_unpacked(rq, NULL);
}
