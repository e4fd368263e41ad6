/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wire — protobuf ⇄ core mapping for the CPG messages (see wire.h). */
#include "config.h"
#include "proto/wire.h"

#include <errno.h>
#include <stdio.h>
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

static char *consistency_name(enum ts_consistency c)
{
	return (char *)ts_consistency_str(c);
}

void ts_wire_snapshot_to_pb(const struct ts_snapshot *s, const char *const *committed_on,
			    size_t n_committed, struct ts_wire_snap_pb *out)
{
	Twinsnap__Snapshot *pb = &out->pb;

	twinsnap__snapshot__init(pb);
	pb->id = (char *)s->id;
	pb->vm = (char *)s->vm;
	pb->name = (char *)s->name;
	pb->description = (char *)s->description;
	pb->consistency_requested = consistency_name(s->consistency_requested);
	pb->consistency_achieved = consistency_name(s->consistency_achieved);
	for (uint32_t i = 0; i < s->n_volumes && i < TS_SNAP_MAX_VOLUMES; i++) {
		out->volumes[i] = (char *)s->volumes[i];
		out->bytes[i] = s->volume_bytes[i];
	}
	pb->n_volumes = pb->n_volume_bytes = s->n_volumes;
	pb->volumes = out->volumes;
	pb->volume_bytes = out->bytes;
	pb->created_at_ms = s->created_at_ms;
	pb->origin = s->origin;
	pb->request = s->request;
	pb->primary = s->primary;
	pb->secondary = s->secondary;
	pb->phase = (char *)ts_snap_phase_str(s->phase);
	pb->taken_by_primary = s->taken_by[0];
	pb->taken_by_secondary = s->taken_by[1];
	pb->domain_xml = s->domain_xml ? s->domain_xml : (char *)"";
	for (size_t i = 0; i < n_committed && i < TS_NODE_PAIR; i++)
		out->committed[i] = (char *)committed_on[i];
	pb->n_committed_on = n_committed < TS_NODE_PAIR ? n_committed : TS_NODE_PAIR;
	pb->committed_on = out->committed;
	pb->state = (char *)(ts_snapshot_state(s) == TS_SNAP_NORMAL ? "normal" : "broken");
}

static int phase_parse(const char *str, enum ts_snap_phase *out)
{
	for (int p = 0; p < TS_PH__COUNT; p++) {
		if (strcmp(ts_snap_phase_str((enum ts_snap_phase)p), str) == 0) {
			*out = (enum ts_snap_phase)p;
			return 0;
		}
	}
	return TS_EPROTO;
}

int ts_wire_snapshot_from_pb(const Twinsnap__Snapshot *pb, struct ts_snapshot *out)
{
	struct ts_snapshot s;

	memset(&s, 0, sizeof(s));
	if (!pb->id || !ts_snapshot_id_valid(pb->id) || !pb->vm || !ts_vm_name_valid(pb->vm) ||
	    !pb->name || !ts_snapshot_name_valid(pb->name) || !pb->description ||
	    !ts_snapshot_description_valid(pb->description) ||
	    pb->n_volumes > TS_SNAP_MAX_VOLUMES || pb->n_volume_bytes != pb->n_volumes)
		return TS_EPROTO;
	snprintf(s.id, sizeof(s.id), "%s", pb->id);
	snprintf(s.vm, sizeof(s.vm), "%s", pb->vm);
	snprintf(s.name, sizeof(s.name), "%s", pb->name);
	snprintf(s.description, sizeof(s.description), "%s", pb->description);
	if (ts_consistency_parse(pb->consistency_requested ? pb->consistency_requested : "",
				 &s.consistency_requested) < 0 ||
	    ts_consistency_parse(pb->consistency_achieved ? pb->consistency_achieved : "",
				 &s.consistency_achieved) < 0 ||
	    phase_parse(pb->phase ? pb->phase : "", &s.phase) < 0)
		return TS_EPROTO;
	for (size_t i = 0; i < pb->n_volumes; i++) {
		if (!pb->volumes[i] || !ts_volume_name_valid(pb->volumes[i]))
			return TS_EPROTO;
		snprintf(s.volumes[i], sizeof(s.volumes[i]), "%s", pb->volumes[i]);
		s.volume_bytes[i] = pb->volume_bytes[i];
	}
	s.n_volumes = (uint32_t)pb->n_volumes;
	s.created_at_ms = pb->created_at_ms;
	s.origin = pb->origin;
	s.request = pb->request;
	s.primary = pb->primary;
	s.secondary = pb->secondary;
	s.taken_by[0] = pb->taken_by_primary;
	s.taken_by[1] = pb->taken_by_secondary;
	if (pb->domain_xml && pb->domain_xml[0]) {
		s.domain_xml = strdup(pb->domain_xml);
		if (!s.domain_xml)
			abort();
	}
	*out = s;
	return 0;
}

void ts_wire_cluster_msg_release(struct ts_cluster_msg *m)
{
	free(m->snap.domain_xml);
	m->snap.domain_xml = NULL;
	free(m->digest);
	m->digest = NULL;
	m->n_digest = 0;
}

/* Bodies of the snapshot messages; @pb is the message being built. */
struct snap_bodies {
	Twinsnap__SnapCreate create;
	struct ts_wire_snap_pb snap;
	Twinsnap__VmFacts vm;
	char *vm_volumes[TS_SNAP_MAX_VOLUMES];
	Twinsnap__SnapFrozen frozen;
	Twinsnap__SnapTaken taken;
	Twinsnap__SnapAbort abort_;
	Twinsnap__SnapDelete del;
	Twinsnap__CatalogDigest digest;
	Twinsnap__CatalogEntry *entries;
	Twinsnap__CatalogEntry **entry_ptrs;
};

static const char *const view_names[] = {
	[TS_VIEW_ABSENT] = "absent", [TS_VIEW_BROKEN] = "broken", [TS_VIEW_PENDING] = "pending",
	[TS_VIEW_NORMAL] = "normal", [TS_VIEW_TOMBSTONE] = "tombstone",
};

static int encode_snap_body(const struct ts_cluster_msg *m, Twinsnap__ClusterMsg *pb,
			    struct snap_bodies *b)
{
	switch (m->kind) {
	case TS_CMSG_CREATE:
		twinsnap__snap_create__init(&b->create);
		twinsnap__vm_facts__init(&b->vm);
		ts_wire_snapshot_to_pb(&m->snap, NULL, 0, &b->snap);
		b->vm.known = m->vm.known;
		b->vm.uefi = m->vm.uefi;
		for (uint32_t i = 0; i < m->vm.n_volumes && i < TS_SNAP_MAX_VOLUMES; i++)
			b->vm_volumes[i] = (char *)m->vm.volumes[i];
		b->vm.n_volumes = m->vm.n_volumes;
		b->vm.volumes = b->vm_volumes;
		b->vm.boot_volume = (char *)m->vm.boot_volume;
		b->create.snapshot = &b->snap.pb;
		b->create.vm = &b->vm;
		b->create.needed_bytes = m->needed_bytes;
		b->create.no_wait = m->no_wait;
		pb->body_case = TWINSNAP__CLUSTER_MSG__BODY_CREATE;
		pb->create = &b->create;
		return 0;
	case TS_CMSG_FROZEN:
		twinsnap__snap_frozen__init(&b->frozen);
		b->frozen.id = (char *)m->snap_id;
		b->frozen.achieved = consistency_name(m->achieved);
		pb->body_case = TWINSNAP__CLUSTER_MSG__BODY_FROZEN;
		pb->frozen = &b->frozen;
		return 0;
	case TS_CMSG_TAKEN:
		twinsnap__snap_taken__init(&b->taken);
		b->taken.id = (char *)m->snap_id;
		pb->body_case = TWINSNAP__CLUSTER_MSG__BODY_TAKEN;
		pb->taken = &b->taken;
		return 0;
	case TS_CMSG_ABORT:
		twinsnap__snap_abort__init(&b->abort_);
		b->abort_.id = (char *)m->snap_id;
		b->abort_.reason = (char *)m->reason;
		b->abort_.message = (char *)m->message;
		pb->body_case = TWINSNAP__CLUSTER_MSG__BODY_ABORT;
		pb->abort = &b->abort_;
		return 0;
	case TS_CMSG_DELETE:
		twinsnap__snap_delete__init(&b->del);
		b->del.id = (char *)m->snap_id;
		pb->body_case = TWINSNAP__CLUSTER_MSG__BODY_DELETE;
		pb->delete_ = &b->del;
		return 0;
	case TS_CMSG_DIGEST:
		twinsnap__catalog_digest__init(&b->digest);
		b->entries = calloc(m->n_digest + 1, sizeof(*b->entries));
		b->entry_ptrs = calloc(m->n_digest + 1, sizeof(*b->entry_ptrs));
		if (!b->entries || !b->entry_ptrs)
			abort();
		for (uint32_t i = 0; i < m->n_digest; i++) {
			twinsnap__catalog_entry__init(&b->entries[i]);
			b->entries[i].id = (char *)m->digest[i].id;
			b->entries[i].view = (char *)view_names[m->digest[i].view];
			b->entry_ptrs[i] = &b->entries[i];
		}
		b->digest.n_entries = m->n_digest;
		b->digest.entries = b->entry_ptrs;
		b->digest.more = m->digest_more;
		b->digest.part = m->digest_part;
		pb->body_case = TWINSNAP__CLUSTER_MSG__BODY_DIGEST;
		pb->digest = &b->digest;
		return 0;
	default:
		return -EINVAL;
	}
}

int ts_wire_encode_cluster(const struct ts_cluster_msg *m, uint8_t **buf, size_t *len)
{
	struct snap_bodies bodies;
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
		memset(&bodies, 0, sizeof(bodies));
		rc = encode_snap_body(m, &pb, &bodies);
		if (rc < 0)
			goto out;
		*len = twinsnap__cluster_msg__get_packed_size(&pb);
		*buf = malloc(*len ? *len : 1);
		if (!*buf)
			abort();
		twinsnap__cluster_msg__pack(&pb, *buf);
		free(bodies.entries);
		free(bodies.entry_ptrs);
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

static int copy_id(char *dst, const char *id)
{
	if (!id || !ts_snapshot_id_valid(id))
		return TS_EPROTO;
	memcpy(dst, id, TS_SNAP_ID_LEN + 1);
	return 0;
}

static int decode_create(const Twinsnap__SnapCreate *c, struct ts_cluster_msg *m)
{
	if (!c->snapshot || !c->vm || c->vm->n_volumes > TS_SNAP_MAX_VOLUMES ||
	    ts_wire_snapshot_from_pb(c->snapshot, &m->snap) < 0)
		return TS_EPROTO;
	m->vm.known = c->vm->known;
	m->vm.uefi = c->vm->uefi;
	m->vm.n_volumes = (uint32_t)c->vm->n_volumes;
	for (size_t i = 0; i < c->vm->n_volumes; i++)
		if (!c->vm->volumes[i] || copy_str(m->vm.volumes[i], sizeof(m->vm.volumes[i]),
						   c->vm->volumes[i]) < 0)
			return TS_EPROTO;
	if (copy_str(m->vm.boot_volume, sizeof(m->vm.boot_volume), c->vm->boot_volume) < 0)
		return TS_EPROTO;
	m->needed_bytes = c->needed_bytes;
	m->no_wait = c->no_wait;
	return 0;
}

static int decode_digest(const Twinsnap__CatalogDigest *d, struct ts_cluster_msg *m)
{
	/* One row per snapshot the sender holds: bounded by what a catalog
	 * can hold and a CPG message can carry. */
	if (d->n_entries > 1000000)
		return TS_EPROTO;
	m->digest = calloc(d->n_entries + 1, sizeof(*m->digest));
	if (!m->digest)
		abort();
	m->n_digest = (uint32_t)d->n_entries;
	m->digest_more = d->more;
	m->digest_part = d->part;
	for (size_t i = 0; i < d->n_entries; i++) {
		int v;

		if (copy_id(m->digest[i].id, d->entries[i]->id) < 0 || !d->entries[i]->view)
			return TS_EPROTO;
		for (v = 0; v <= TS_VIEW_TOMBSTONE; v++)
			if (strcmp(view_names[v], d->entries[i]->view) == 0)
				break;
		if (v > TS_VIEW_TOMBSTONE)
			return TS_EPROTO;
		m->digest[i].view = (enum ts_peer_view)v;
	}
	return 0;
}

static int decode_body(const Twinsnap__ClusterMsg *pb, struct ts_cluster_msg *m)
{
	switch (pb->body_case) {
	case TWINSNAP__CLUSTER_MSG__BODY_CREATE:
		m->kind = TS_CMSG_CREATE;
		return decode_create(pb->create, m);
	case TWINSNAP__CLUSTER_MSG__BODY_FROZEN:
		m->kind = TS_CMSG_FROZEN;
		if (ts_consistency_parse(pb->frozen->achieved ? pb->frozen->achieved : "",
					 &m->achieved) < 0)
			return TS_EPROTO;
		return copy_id(m->snap_id, pb->frozen->id);
	case TWINSNAP__CLUSTER_MSG__BODY_TAKEN:
		m->kind = TS_CMSG_TAKEN;
		return copy_id(m->snap_id, pb->taken->id);
	case TWINSNAP__CLUSTER_MSG__BODY_ABORT:
		m->kind = TS_CMSG_ABORT;
		if (copy_str(m->reason, sizeof(m->reason), pb->abort->reason) < 0)
			return TS_EPROTO;
		/* A long human message is cut, not refused. */
		snprintf(m->message, sizeof(m->message), "%s",
			 pb->abort->message ? pb->abort->message : "");
		return copy_id(m->snap_id, pb->abort->id);
	case TWINSNAP__CLUSTER_MSG__BODY_DELETE:
		m->kind = TS_CMSG_DELETE;
		return copy_id(m->snap_id, pb->delete_->id);
	case TWINSNAP__CLUSTER_MSG__BODY_DIGEST:
		m->kind = TS_CMSG_DIGEST;
		return decode_digest(pb->digest, m);
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
	else
		ts_wire_cluster_msg_release(tmp);
	free(tmp);
	twinsnap__cluster_msg__free_unpacked(pb, NULL);
	return rc;
}

/* ---- the reply to snapshot list, a row at a time ---------------------------------------- */

#define LIST_HEAD 6     /* the Reply's key for its body (1 byte) and the body's length (<= 5) */

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* The one-byte key of length-delimited (or, @varint, varint) field @name of @d. */
static uint8_t field_key(const ProtobufCMessageDescriptor *d, const char *name, bool varint)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);

	if (!f || f->id > 15)
		abort();        /* the proto changed: this needs a longer key */
	return (uint8_t)(f->id << 3 | (varint ? 0 : 2));
}

static void list_reserve(struct ts_wire_list_reply *w, size_t n)
{
	if (w->len + n <= w->cap)
		return;
	w->cap = w->len + n > 2 * w->cap ? w->len + n : 2 * w->cap;
	w->buf = realloc(w->buf, w->cap);
	if (!w->buf)
		abort();
}

static size_t row_bound_fixed(void);

void ts_wire_list_reply_init(struct ts_wire_list_reply *w, size_t hint)
{
	w->buf = NULL;
	w->len = w->cap = 0;
	list_reserve(w, LIST_HEAD + hint + 2);
	w->len = LIST_HEAD;
	w->row_key = field_key(&twinsnap__snapshot_list_reply__descriptor, "snapshots", false);
	w->row_bound = row_bound_fixed();
}

static size_t max_len(size_t a, const char *s)
{
	size_t n = strlen(s);

	return n > a ? n : a;
}

/*
 * What every row may take besides its committed_on names and domain XML,
 * without looking at it: its strings are the arrays of struct ts_snapshot
 * or the names of its enums (out of range ones included), and every field,
 * and element of a repeated one, takes at most 12 bytes besides them (a key
 * of 1 or 2 bytes, a length or a varint of at most 10).
 */
static size_t row_bound_fixed(void)
{
	const struct ts_snapshot *s = NULL;
	size_t cons = 0, phase = 0;

	for (int c = 0; c <= TS_CONS_AUTO + 1; c++)
		cons = max_len(cons, consistency_name((enum ts_consistency)c));
	for (int p = 0; p <= TS_PH__COUNT; p++)
		phase = max_len(phase, ts_snap_phase_str((enum ts_snap_phase)p));
	return 12 * (twinsnap__snapshot__descriptor.n_fields + 2 * TS_SNAP_MAX_VOLUMES +
		     TS_NODE_PAIR) +
	       sizeof(s->id) + sizeof(s->vm) + sizeof(s->name) + sizeof(s->description) +
	       sizeof(s->volumes) + 2 * cons + phase + sizeof("broken");
}

bool ts_wire_list_reply_add(struct ts_wire_list_reply *w, const struct ts_snapshot *s,
			    const char *const *committed_on, size_t n_committed, size_t budget)
{
	const size_t head = 1 + 5;      /* the row's key and its length (<= 5 bytes) */
	struct ts_wire_snap_pb pb;
	size_t bound = w->row_bound, packed, k;
	uint8_t *at;

	ts_wire_snapshot_to_pb(s, committed_on, n_committed, &pb);
	for (size_t i = 0; i < pb.pb.n_committed_on; i++)
		bound += strlen(pb.pb.committed_on[i]);
	if (s->domain_xml)
		bound += strlen(s->domain_xml);
	list_reserve(w, head + bound);
	at = w->buf + w->len;
	packed = twinsnap__snapshot__pack(&pb.pb, at + head);
	if (packed > bound)
		abort();        /* the bound is wrong: memory is already overwritten */
	k = varint_len(packed);
	if (w->len > LIST_HEAD && w->len - LIST_HEAD + 1 + k + packed > budget)
		return false;
	at[0] = w->row_key;
	varint_put(at + 1, packed);
	memmove(at + 1 + k, at + head, packed);
	w->len += 1 + k + packed;
	return true;
}

const uint8_t *ts_wire_list_reply_finish(struct ts_wire_list_reply *w, bool more, size_t *len)
{
	size_t body, start;

	if (more) {     /* proto3: false is not written */
		list_reserve(w, 2);
		w->buf[w->len++] = field_key(&twinsnap__snapshot_list_reply__descriptor, "more", true);
		w->buf[w->len++] = 1;
	}
	body = w->len - LIST_HEAD;
	/* the head ends where the rows begin */
	start = LIST_HEAD - 1 - varint_len(body);
	w->buf[start] = field_key(&twinsnap__reply__descriptor, "snapshot_list", false);
	varint_put(w->buf + start + 1, body);
	*len = w->len - start;
	return w->buf + start;
}

void ts_wire_list_reply_free(struct ts_wire_list_reply *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}
