/* SPDX-License-Identifier: GPL-2.0-or-later */
/* precheck — the refusal rules of a snapshot request (see precheck.h). */
#include "config.h"
#include "core/precheck.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ts_drbd_resource_name(const char *vm, const char *volume, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s-%s", vm, volume);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int refuse(struct ts_precheck_out *out, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct ts_precheck_out *out, const char *code, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(out->code, sizeof(out->code), "%s", code);
	snprintf(out->message, sizeof(out->message), "refused: %s", why);
	return 1;
}

static bool vm_has_volume(const struct ts_vm_facts *vm, const char *volume)
{
	for (uint32_t i = 0; i < vm->n_volumes; i++)
		if (strcmp(vm->volumes[i], volume) == 0)
			return true;
	return false;
}

static bool selected(const struct ts_snapshot *req, const char *volume)
{
	for (uint32_t i = 0; i < req->n_volumes; i++)
		if (strcmp(req->volumes[i], volume) == 0)
			return true;
	return false;
}

static const struct ts_drbd_summary *find_res(const struct ts_node_report *r, const char *res)
{
	for (uint32_t i = 0; i < r->n_drbd; i++)
		if (strcmp(r->drbd[i].resource, res) == 0)
			return &r->drbd[i];
	return NULL;
}

static int check_request(const struct ts_precheck_in *in, struct ts_precheck_out *out)
{
	const struct ts_snapshot *req = in->req;
	const struct ts_vm_facts *vm = in->vm;

	if (!in->snapshots_enabled)
		return refuse(out, "snapshots_disabled", "snapshots are disabled on this cluster");
	if (!vm->known)
		return refuse(out, "unknown_vm", "no VM named '%s'", req->vm);
	if (req->n_volumes == 0)
		return refuse(out, "no_volume", "VM %s: no volume selected", req->vm);
	for (uint32_t i = 0; i < req->n_volumes; i++) {
		if (!vm_has_volume(vm, req->volumes[i]))
			return refuse(out, "unknown_volume", "VM %s has no volume '%s'", req->vm,
				      req->volumes[i]);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(req->volumes[i], req->volumes[j]) == 0)
				return refuse(out, "duplicate_volume",
					      "volume '%s' selected twice", req->volumes[i]);
	}
	if (!vm->boot_volume[0] || !selected(req, vm->boot_volume))
		return refuse(out, "boot_volume_not_selected",
			      "VM %s: the boot volume '%s' must be part of every snapshot", req->vm,
			      vm->boot_volume);
	if (vm->uefi)
		return refuse(out, "uefi_firmware",
			      "VM %s boots with UEFI firmware, which twinsnap cannot snapshot",
			      req->vm);
	return 0;
}

static int check_node(const struct ts_precheck_node *n, struct ts_precheck_out *out)
{
	if (!n->member)
		return refuse(out, "node_down", "%s is down (not a cluster member)", n->name);
	if (n->maintenance)
		return refuse(out, "node_in_maintenance", "%s is in maintenance mode", n->name);
	if (!n->report || !n->report->drbd_ready)
		return refuse(out, "drbd_state_unknown", "%s has not reported its DRBD state",
			      n->name);
	return 0;
}

/* Every selected volume's resource is healthy on @n; *is_primary says its role. */
static int check_drbd(const struct ts_precheck_in *in, const struct ts_precheck_node *n,
		      int *primaries, struct ts_precheck_out *out)
{
	const struct ts_snapshot *req = in->req;
	char res[TS_DRBD_NAME_MAX];

	*primaries = 0;
	for (uint32_t i = 0; i < req->n_volumes; i++) {
		const struct ts_drbd_summary *d;

		if (ts_drbd_resource_name(req->vm, req->volumes[i], res, sizeof(res)) < 0)
			return refuse(out, "unknown_volume", "volume name '%s-%s' too long",
				      req->vm, req->volumes[i]);
		d = find_res(n->report, res);
		if (!d)
			return refuse(out, "drbd_resource_missing",
				      "%s has no DRBD resource %s", n->name, res);
		if (d->resyncing) {
			if (d->has_done)
				return refuse(out, "drbd_resyncing",
					      "DRBD resource %s is resyncing on %s (%.1f%% done)",
					      res, n->name, d->done);
			return refuse(out, "drbd_resyncing", "DRBD resource %s is resyncing on %s",
				      res, n->name);
		}
		if (d->connection != TS_CONN_CONNECTED || d->replication != TS_REPL_ESTABLISHED)
			return refuse(out, "drbd_disconnected",
				      "DRBD resource %s is not connected on %s (%s, %s)", res,
				      n->name, ts_drbd_conn_str(d->connection),
				      ts_drbd_repl_str(d->replication));
		if (d->disk != TS_DISK_UPTODATE || d->peer_disk != TS_DISK_UPTODATE)
			return refuse(out, "drbd_not_uptodate",
				      "DRBD resource %s is %s/%s on %s, not UpToDate/UpToDate", res,
				      ts_drbd_disk_str(d->disk), ts_drbd_disk_str(d->peer_disk),
				      n->name);
		if (d->suspended)
			return refuse(out, "drbd_suspended",
				      "DRBD resource %s has I/O suspended on %s", res, n->name);
		if (d->role == TS_ROLE_PRIMARY)
			(*primaries)++;
	}
	return 0;
}

int ts_precheck(const struct ts_precheck_in *in, struct ts_precheck_out *out)
{
	int primaries[TS_NODE_PAIR] = { 0, 0 };
	int rc, p;

	memset(out, 0, sizeof(*out));
	rc = check_request(in, out);
	if (rc)
		return rc;
	/* Before the DRBD rules: a snapshot in flight holds the VM's I/O
	 * suspended, and "another snapshot is in progress" is the reason. */
	if (in->in_flight_same_vm > 0)
		return refuse(out, "snapshot_in_flight",
			      "another snapshot of VM %s is in progress", in->req->vm);
	for (int i = 0; i < TS_NODE_PAIR; i++) {
		rc = check_node(&in->nodes[i], out);
		if (rc)
			return rc;
	}
	for (int i = 0; i < TS_NODE_PAIR; i++) {
		rc = check_drbd(in, &in->nodes[i], &primaries[i], out);
		if (rc)
			return rc;
	}
	/* All selected resources Primary on exactly one PM, Secondary on the other. */
	if (primaries[0] == (int)in->req->n_volumes && primaries[1] == 0)
		p = 0;
	else if (primaries[1] == (int)in->req->n_volumes && primaries[0] == 0)
		p = 1;
	else
		return refuse(out, "no_single_primary",
			      "VM %s's DRBD resources are not all Primary on one PM", in->req->vm);
	for (int i = 0; i < TS_NODE_PAIR; i++) {
		const struct ts_node_report *r = in->nodes[i].report;

		if (!r->store_known)
			return refuse(out, "store_unavailable", "the volume store of %s is unavailable",
				      in->nodes[i].name);
		if (r->store_free_bytes < in->needed_bytes)
			return refuse(out, "insufficient_space",
				      "not enough room in the volume store of %s (%llu MiB free, "
				      "%llu MiB needed)", in->nodes[i].name,
				      (unsigned long long)(r->store_free_bytes >> 20),
				      (unsigned long long)(in->needed_bytes >> 20));
	}
	out->primary = in->nodes[p].nodeid;
	out->secondary = in->nodes[1 - p].nodeid;
	return 0;
}
