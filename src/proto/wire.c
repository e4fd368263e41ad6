/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wire — protobuf ⇄ core mapping for the CPG messages (see wire.h). */
#include "config.h"
#include "proto/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/tserr.h"

/* The enums are dense from 0, so a reverse lookup is a scan of *_str(). */
#define DEFINE_PARSE(fn, type, strfn, last)                    \
	type fn(const char *s)                                 \
	{                                                      \
		for (int v = 1; v <= (int)(last); v++)         \
			if (strcmp(strfn((type)v), s) == 0)    \
				return (type)v;                \
		return (type)0;                                \
	}

DEFINE_PARSE(ts_wire_role_parse, enum ts_drbd_role, ts_drbd_role_str, TS_ROLE_SECONDARY)
DEFINE_PARSE(ts_wire_conn_parse, enum ts_drbd_conn, ts_drbd_conn_str, TS_CONN_CONNECTED)
DEFINE_PARSE(ts_wire_disk_parse, enum ts_drbd_disk, ts_drbd_disk_str, TS_DISK_UPTODATE)
DEFINE_PARSE(ts_wire_repl_parse, enum ts_drbd_repl, ts_drbd_repl_str, TS_REPL_BEHIND)

void ts_wire_summary_to_pb(const struct ts_drbd_summary *s, Twinsnap__DrbdSummary *pb)
{
	twinsnap__drbd_summary__init(pb);
	pb->resource = (char *)s->resource;
	pb->role = (char *)ts_drbd_role_str(s->role);
	pb->connection = (char *)ts_drbd_conn_str(s->connection);
	pb->disk = (char *)ts_drbd_disk_str(s->disk);
	pb->peer_disk = (char *)ts_drbd_disk_str(s->peer_disk);
	pb->replication = (char *)ts_drbd_repl_str(s->replication);
	pb->suspended = s->suspended;
	pb->resyncing = s->resyncing;
	pb->has_done = s->has_done;
	pb->done = s->done;
}

static void setting_to_pb(const struct ts_setting *s, Twinsnap__Setting *pb)
{
	twinsnap__setting__init(pb);
	pb->key = (char *)s->key;
	pb->value = (char *)s->value;
	pb->version = s->version;
	pb->origin = s->origin;
}

int ts_wire_encode_cluster(const struct ts_cluster_msg *m, uint8_t **buf, size_t *len)
{
	Twinsnap__ClusterMsg pb = TWINSNAP__CLUSTER_MSG__INIT;
	Twinsnap__NodeReport report = TWINSNAP__NODE_REPORT__INIT;
	Twinsnap__DrbdSummary *sums = NULL, **sum_ptrs = NULL;
	Twinsnap__Setting set, *sets = NULL, **set_ptrs = NULL;
	Twinsnap__SettingsSync sync = TWINSNAP__SETTINGS_SYNC__INIT;
	int rc = 0;

	pb.protocol = m->protocol;
	pb.sender = (char *)m->sender;
	pb.request = m->request;

	switch (m->kind) {
	case TS_CMSG_REPORT:
		sums = calloc(m->report.n_drbd + 1, sizeof(*sums));
		sum_ptrs = calloc(m->report.n_drbd + 1, sizeof(*sum_ptrs));
		if (!sums || !sum_ptrs)
			abort();
		for (uint32_t i = 0; i < m->report.n_drbd; i++) {
			ts_wire_summary_to_pb(&m->report.drbd[i], &sums[i]);
			sum_ptrs[i] = &sums[i];
		}
		report.node = (char *)m->report.node;
		report.nodeid = m->report.nodeid;
		report.drbd_ready = m->report.drbd_ready;
		report.store_known = m->report.store_known;
		report.store_free_bytes = m->report.store_free_bytes;
		report.n_drbd = m->report.n_drbd;
		report.drbd = sum_ptrs;
		pb.body_case = TWINSNAP__CLUSTER_MSG__BODY_REPORT;
		pb.report = &report;
		break;
	case TS_CMSG_SET:
		setting_to_pb(&m->set, &set);
		pb.body_case = TWINSNAP__CLUSTER_MSG__BODY_SET;
		pb.set = &set;
		break;
	case TS_CMSG_SYNC:
		sets = calloc(m->n_settings + 1, sizeof(*sets));
		set_ptrs = calloc(m->n_settings + 1, sizeof(*set_ptrs));
		if (!sets || !set_ptrs)
			abort();
		for (uint32_t i = 0; i < m->n_settings; i++) {
			setting_to_pb(&m->settings[i], &sets[i]);
			set_ptrs[i] = &sets[i];
		}
		sync.n_settings = m->n_settings;
		sync.settings = set_ptrs;
		pb.body_case = TWINSNAP__CLUSTER_MSG__BODY_SYNC;
		pb.sync = &sync;
		break;
	default:
		rc = -EINVAL;
		goto out;
	}

	*len = twinsnap__cluster_msg__get_packed_size(&pb);
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		abort();
	twinsnap__cluster_msg__pack(&pb, *buf);
out:
	free(sums);
	free(sum_ptrs);
	free(sets);
	free(set_ptrs);
	return rc;
}

/* Copy a decoded string into a fixed field; too long is a protocol error. */
static int copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= size)
		return TS_EPROTO;
	memcpy(dst, src ? src : "", n + 1);
	return 0;
}

static int setting_from_pb(const Twinsnap__Setting *pb, struct ts_setting *out)
{
	memset(out, 0, sizeof(*out));
	if (copy_str(out->key, sizeof(out->key), pb->key) < 0 ||
	    copy_str(out->value, sizeof(out->value), pb->value) < 0)
		return TS_EPROTO;
	out->version = pb->version;
	out->origin = pb->origin;
	return 0;
}

static int summary_from_pb(const Twinsnap__DrbdSummary *pb, struct ts_drbd_summary *out)
{
	memset(out, 0, sizeof(*out));
	if (copy_str(out->resource, sizeof(out->resource), pb->resource) < 0)
		return TS_EPROTO;
	out->role = ts_wire_role_parse(pb->role);
	out->connection = ts_wire_conn_parse(pb->connection);
	out->disk = ts_wire_disk_parse(pb->disk);
	out->peer_disk = ts_wire_disk_parse(pb->peer_disk);
	out->replication = ts_wire_repl_parse(pb->replication);
	out->suspended = pb->suspended;
	out->resyncing = pb->resyncing;
	out->has_done = pb->has_done;
	out->done = pb->has_done ? pb->done : 0;
	if (out->has_done && !(out->done >= 0 && out->done <= 100))
		return TS_EPROTO;
	return 0;
}

static int decode_body(const Twinsnap__ClusterMsg *pb, struct ts_cluster_msg *m)
{
	switch (pb->body_case) {
	case TWINSNAP__CLUSTER_MSG__BODY_REPORT:
		m->kind = TS_CMSG_REPORT;
		if (pb->report->n_drbd > TS_NODE_MAX_DRBD ||
		    copy_str(m->report.node, sizeof(m->report.node), pb->report->node) < 0)
			return TS_EPROTO;
		m->report.nodeid = pb->report->nodeid;
		m->report.drbd_ready = pb->report->drbd_ready;
		m->report.store_known = pb->report->store_known;
		m->report.store_free_bytes = pb->report->store_free_bytes;
		m->report.n_drbd = (uint32_t)pb->report->n_drbd;
		for (size_t i = 0; i < pb->report->n_drbd; i++)
			if (summary_from_pb(pb->report->drbd[i], &m->report.drbd[i]) < 0)
				return TS_EPROTO;
		return 0;
	case TWINSNAP__CLUSTER_MSG__BODY_SET:
		m->kind = TS_CMSG_SET;
		return setting_from_pb(pb->set, &m->set);
	case TWINSNAP__CLUSTER_MSG__BODY_SYNC:
		m->kind = TS_CMSG_SYNC;
		if (pb->sync->n_settings > TS_SETTINGS_MAX)
			return TS_EPROTO;
		m->n_settings = (uint32_t)pb->sync->n_settings;
		for (size_t i = 0; i < pb->sync->n_settings; i++)
			if (setting_from_pb(pb->sync->settings[i], &m->settings[i]) < 0)
				return TS_EPROTO;
		return 0;
	default:
		return TS_EPROTO;
	}
}

int ts_wire_decode_cluster(const uint8_t *buf, size_t len, struct ts_cluster_msg *out)
{
	Twinsnap__ClusterMsg *pb;
	struct ts_cluster_msg *tmp;
	int rc;

	pb = twinsnap__cluster_msg__unpack(NULL, len, buf);
	if (!pb)
		return TS_EPROTO;
	tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		abort();
	tmp->protocol = pb->protocol;
	tmp->request = pb->request;
	rc = copy_str(tmp->sender, sizeof(tmp->sender), pb->sender);
	if (rc == 0)
		rc = decode_body(pb, tmp);
	if (rc == 0)
		memcpy(out, tmp, sizeof(*out));
	free(tmp);
	twinsnap__cluster_msg__free_unpacked(pb, NULL);
	return rc;
}
