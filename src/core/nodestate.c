/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nodestate — node-state derivation rules (see nodestate.h). */
#include "config.h"
#include "core/nodestate.h"

#include <math.h>
#include <string.h>

static const char *const state_names[] = {
	[TS_NODE_UNKNOWN] = "unknown",
	[TS_NODE_RUNNING] = "running",
	[TS_NODE_MAINTENANCE] = "maintenance",
	[TS_NODE_SYNCING] = "syncing",
	[TS_NODE_DOWN] = "down",
};

const char *ts_node_state_str(enum ts_node_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[s];
}

bool ts_node_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= TS_NODE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

/*
 * DRBD's disk-state enum is ordered from worst to best (Diskless ..
 * UpToDate), so "worst" is the smallest value; UNKNOWN (no volume yet)
 * only counts when nothing else is known.
 */
static enum ts_drbd_disk worse_disk(enum ts_drbd_disk a, enum ts_drbd_disk b)
{
	if (a == TS_DISK_UNKNOWN)
		return b;
	if (b == TS_DISK_UNKNOWN)
		return a;
	return a < b ? a : b;
}

void ts_drbd_summarise(const struct ts_drbd_resource *res, struct ts_drbd_summary *out)
{
	double done = -1;

	memset(out, 0, sizeof(*out));
	memcpy(out->resource, res->name, sizeof(out->resource));
	out->role = res->role;
	out->suspended = res->suspended;
	out->connection = res->n_connections ? res->connections[0].state : TS_CONN_UNKNOWN;

	for (size_t i = 0; i < res->n_devices; i++)
		out->disk = worse_disk(out->disk, res->devices[i].disk);

	out->replication = res->n_peer_devices ? TS_REPL_ESTABLISHED : TS_REPL_UNKNOWN;
	for (size_t i = 0; i < res->n_peer_devices; i++) {
		const struct ts_drbd_peer_device *pd = &res->peer_devices[i];

		out->peer_disk = worse_disk(out->peer_disk, pd->peer_disk);
		if (pd->replication != TS_REPL_ESTABLISHED &&
		    out->replication == TS_REPL_ESTABLISHED)
			out->replication = pd->replication;
	}

	out->resyncing = ts_drbd_resource_resyncing(res, &done);
	if (out->resyncing && done >= 0) {
		out->has_done = true;
		out->done = done;
	}
}

unsigned ts_node_report_fill(struct ts_node_report *r, const struct ts_drbd_model *m)
{
	size_t n = ts_drbd_model_count(m);
	unsigned left_out = 0;

	r->drbd_ready = ts_drbd_model_dump_complete(m);
	r->n_drbd = 0;
	for (size_t i = 0; i < n; i++) {
		if (r->n_drbd == TS_NODE_MAX_DRBD) {
			left_out++;
			continue;
		}
		ts_drbd_summarise(ts_drbd_model_at(m, i), &r->drbd[r->n_drbd++]);
	}
	return left_out;
}

enum ts_node_state ts_node_state_derive(bool member, bool maintenance,
					const struct ts_node_report *report,
					double *sync_done)
{
	bool syncing = false;
	double lowest = INFINITY;

	*sync_done = -1;
	if (!member)
		return TS_NODE_DOWN;
	if (maintenance)
		return TS_NODE_MAINTENANCE;
	if (!report)
		return TS_NODE_UNKNOWN;

	for (uint32_t i = 0; i < report->n_drbd; i++) {
		const struct ts_drbd_summary *s = &report->drbd[i];

		if (!s->resyncing)
			continue;
		syncing = true;
		if (s->has_done && s->done < lowest)
			lowest = s->done;
	}
	if (!syncing)
		return TS_NODE_RUNNING;
	if (lowest != INFINITY)
		*sync_done = lowest;
	return TS_NODE_SYNCING;
}

static bool summary_equal(const struct ts_drbd_summary *a, const struct ts_drbd_summary *b)
{
	return strcmp(a->resource, b->resource) == 0 && a->role == b->role &&
	       a->connection == b->connection && a->disk == b->disk &&
	       a->peer_disk == b->peer_disk && a->replication == b->replication &&
	       a->suspended == b->suspended && a->resyncing == b->resyncing &&
	       a->has_done == b->has_done && (!a->has_done || a->done == b->done);
}

bool ts_node_report_equal(const struct ts_node_report *a, const struct ts_node_report *b)
{
	if (strcmp(a->node, b->node) != 0 || a->nodeid != b->nodeid ||
	    a->drbd_ready != b->drbd_ready || a->n_drbd != b->n_drbd ||
	    a->store_known != b->store_known || a->store_free_bytes != b->store_free_bytes)
		return false;
	for (uint32_t i = 0; i < a->n_drbd; i++)
		if (!summary_equal(&a->drbd[i], &b->drbd[i]))
			return false;
	return true;
}
