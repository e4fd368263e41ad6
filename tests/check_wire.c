/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the CPG message encoding (proto/wire): round trips and hostile bytes. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "core/tserr.h"
#include "proto/wire.h"

static struct ts_cluster_msg *sample_report(void)
{
	struct ts_cluster_msg *m = calloc(1, sizeof(*m));

	m->protocol = TS_PROTOCOL_VERSION;
	strcpy(m->sender, "pm2");
	m->request = 77;
	m->kind = TS_CMSG_REPORT;
	strcpy(m->report.node, "pm2");
	m->report.nodeid = 2;
	m->report.drbd_ready = true;
	m->report.store_known = true;
	m->report.store_free_bytes = 123456789012ULL;
	m->report.n_drbd = 2;
	strcpy(m->report.drbd[0].resource, "vm1-boot");
	m->report.drbd[0].role = TS_ROLE_SECONDARY;
	m->report.drbd[0].connection = TS_CONN_CONNECTED;
	m->report.drbd[0].disk = TS_DISK_UPTODATE;
	m->report.drbd[0].peer_disk = TS_DISK_UPTODATE;
	m->report.drbd[0].replication = TS_REPL_ESTABLISHED;
	strcpy(m->report.drbd[1].resource, "vm1-data");
	m->report.drbd[1].role = TS_ROLE_SECONDARY;
	m->report.drbd[1].connection = TS_CONN_CONNECTED;
	m->report.drbd[1].disk = TS_DISK_INCONSISTENT;
	m->report.drbd[1].peer_disk = TS_DISK_UPTODATE;
	m->report.drbd[1].replication = TS_REPL_SYNCTARGET;
	m->report.drbd[1].suspended = true;
	m->report.drbd[1].resyncing = true;
	m->report.drbd[1].has_done = true;
	m->report.drbd[1].done = 41.25;
	return m;
}

static void roundtrip(const struct ts_cluster_msg *in, struct ts_cluster_msg *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	ck_assert_int_eq(ts_wire_encode_cluster(in, &buf, &len), 0);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(ts_wire_decode_cluster(buf, len, out), 0);
	free(buf);
}

START_TEST(test_report_roundtrip)
{
	struct ts_cluster_msg *in = sample_report(), *out = calloc(1, sizeof(*out));

	roundtrip(in, out);
	ck_assert_uint_eq(out->protocol, TS_PROTOCOL_VERSION);
	ck_assert_str_eq(out->sender, "pm2");
	ck_assert_uint_eq(out->request, 77);
	ck_assert_int_eq(out->kind, TS_CMSG_REPORT);
	ck_assert(ts_node_report_equal(&in->report, &out->report));
	ck_assert_double_eq(out->report.drbd[1].done, 41.25);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_set_and_sync_roundtrip)
{
	struct ts_cluster_msg *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));

	in->protocol = TS_PROTOCOL_VERSION;
	strcpy(in->sender, "pm1");
	in->kind = TS_CMSG_SET;
	strcpy(in->set.key, "maintenance/pm2");
	strcpy(in->set.value, "on");
	in->set.version = 9;
	in->set.origin = 1;
	roundtrip(in, out);
	ck_assert_int_eq(out->kind, TS_CMSG_SET);
	ck_assert_str_eq(out->set.key, "maintenance/pm2");
	ck_assert_str_eq(out->set.value, "on");
	ck_assert_uint_eq(out->set.version, 9);
	ck_assert_uint_eq(out->set.origin, 1);

	in->kind = TS_CMSG_SYNC;
	in->n_settings = 2;
	in->settings[0] = in->set;
	strcpy(in->settings[1].key, "snapshots");
	strcpy(in->settings[1].value, "disabled");
	in->settings[1].version = 3;
	in->settings[1].origin = 2;
	roundtrip(in, out);
	ck_assert_int_eq(out->kind, TS_CMSG_SYNC);
	ck_assert_uint_eq(out->n_settings, 2);
	ck_assert_str_eq(out->settings[1].key, "snapshots");
	ck_assert_uint_eq(out->settings[1].version, 3);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_enum_spellings_roundtrip)
{
	for (int v = 0; v <= TS_REPL_BEHIND; v++)
		ck_assert_int_eq(ts_wire_repl_parse(ts_drbd_repl_str((enum ts_drbd_repl)v)), v);
	for (int v = 0; v <= TS_DISK_UPTODATE; v++)
		ck_assert_int_eq(ts_wire_disk_parse(ts_drbd_disk_str((enum ts_drbd_disk)v)), v);
	for (int v = 0; v <= TS_CONN_CONNECTED; v++)
		ck_assert_int_eq(ts_wire_conn_parse(ts_drbd_conn_str((enum ts_drbd_conn)v)), v);
	for (int v = 0; v <= TS_ROLE_SECONDARY; v++)
		ck_assert_int_eq(ts_wire_role_parse(ts_drbd_role_str((enum ts_drbd_role)v)), v);
	ck_assert_int_eq(ts_wire_disk_parse("Bogus"), TS_DISK_UNKNOWN);
}
END_TEST

/* Truncations and bit flips of a valid message: rejected or decoded, never a crash,
 * and a rejected decode leaves the output untouched. */
START_TEST(test_hostile_bytes)
{
	struct ts_cluster_msg *in = sample_report(), *out = calloc(1, sizeof(*out));
	struct ts_cluster_msg *canary = calloc(1, sizeof(*canary));
	uint8_t *buf = NULL;
	size_t len = 0;
	unsigned seed = 7;
	int rejected = 0;

	ck_assert_int_eq(ts_wire_encode_cluster(in, &buf, &len), 0);
	memset(canary, 0xA5, sizeof(*canary));
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(out, canary, sizeof(*out));
		if (ts_wire_decode_cluster(buf, cut, out) < 0) {
			rejected++;
			ck_assert_int_eq(memcmp(out, canary, sizeof(*out)), 0);
		}
	}
	ck_assert_int_gt(rejected, 0);
	for (int i = 0; i < 5000; i++) {
		uint8_t *mut = malloc(len);

		memcpy(mut, buf, len);
		mut[rand_r(&seed) % len] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		memcpy(out, canary, sizeof(*out));
		if (ts_wire_decode_cluster(mut, len, out) < 0)
			ck_assert_int_eq(memcmp(out, canary, sizeof(*out)), 0);
		free(mut);
	}
	free(buf);
	free(in);
	free(out);
	free(canary);
}
END_TEST

START_TEST(test_oversized_strings_rejected)
{
	Twinsnap__ClusterMsg pb = TWINSNAP__CLUSTER_MSG__INIT;
	Twinsnap__Setting set = TWINSNAP__SETTING__INIT;
	struct ts_cluster_msg *out = calloc(1, sizeof(*out));
	char big[200];
	uint8_t *buf;
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pb.protocol = TS_PROTOCOL_VERSION;
	pb.sender = (char *)"pm1";
	set.key = big;
	set.value = (char *)"on";
	pb.body_case = TWINSNAP__CLUSTER_MSG__BODY_SET;
	pb.set = &set;
	len = twinsnap__cluster_msg__get_packed_size(&pb);
	buf = malloc(len);
	twinsnap__cluster_msg__pack(&pb, buf);
	ck_assert_int_eq(ts_wire_decode_cluster(buf, len, out), TS_EPROTO);

	/* No body at all is not a message either. */
	pb.body_case = TWINSNAP__CLUSTER_MSG__BODY__NOT_SET;
	free(buf);
	len = twinsnap__cluster_msg__get_packed_size(&pb);
	buf = malloc(len + 1);
	twinsnap__cluster_msg__pack(&pb, buf);
	ck_assert_int_eq(ts_wire_decode_cluster(buf, len, out), TS_EPROTO);
	free(buf);
	free(out);
}
END_TEST

static struct ts_cluster_msg *sample_create(void)
{
	struct ts_cluster_msg *m = calloc(1, sizeof(*m));

	m->protocol = TS_PROTOCOL_VERSION;
	strcpy(m->sender, "pm1");
	m->kind = TS_CMSG_CREATE;
	strcpy(m->snap.id, "00112233445566778899aabbccddeeff");
	strcpy(m->snap.vm, "vm1");
	strcpy(m->snap.name, "before upgrade \xc3\xa9t\xc3\xa9");
	strcpy(m->snap.description, "line one\nline \"two\"");
	m->snap.consistency_requested = TS_CONS_AUTO;
	m->snap.n_volumes = 2;
	strcpy(m->snap.volumes[0], "boot");
	strcpy(m->snap.volumes[1], "data");
	m->snap.volume_bytes[0] = 64ull << 20;
	m->snap.volume_bytes[1] = 1ull << 30;
	m->snap.created_at_ms = 1795000000123;
	m->snap.origin = 2;
	m->snap.request = 99;
	m->snap.domain_xml = strdup("<domain type='test'><name>vm1</name></domain>");
	m->vm.known = true;
	m->vm.n_volumes = 2;
	strcpy(m->vm.volumes[0], "boot");
	strcpy(m->vm.volumes[1], "data");
	strcpy(m->vm.boot_volume, "boot");
	m->needed_bytes = 1088ull << 20;
	m->no_wait = true;
	return m;
}

START_TEST(test_create_roundtrip)
{
	struct ts_cluster_msg *in = sample_create(), *out = calloc(1, sizeof(*out));

	roundtrip(in, out);
	ck_assert_int_eq(out->kind, TS_CMSG_CREATE);
	ck_assert_str_eq(out->snap.id, in->snap.id);
	ck_assert_str_eq(out->snap.name, in->snap.name);
	ck_assert_str_eq(out->snap.description, in->snap.description);
	ck_assert_int_eq(out->snap.consistency_requested, TS_CONS_AUTO);
	ck_assert_uint_eq(out->snap.n_volumes, 2);
	ck_assert_str_eq(out->snap.volumes[1], "data");
	ck_assert_uint_eq(out->snap.volume_bytes[1], 1ull << 30);
	ck_assert_int_eq(out->snap.created_at_ms, 1795000000123);
	ck_assert_uint_eq(out->snap.request, 99);
	ck_assert_str_eq(out->snap.domain_xml, in->snap.domain_xml);
	ck_assert(out->vm.known && !out->vm.uefi);
	ck_assert_str_eq(out->vm.boot_volume, "boot");
	ck_assert_uint_eq(out->needed_bytes, 1088ull << 20);
	ck_assert(out->no_wait);
	ts_wire_cluster_msg_release(in);
	ts_wire_cluster_msg_release(out);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_small_snapshot_messages_roundtrip)
{
	static const enum ts_cmsg_kind kinds[] = {
		TS_CMSG_FROZEN, TS_CMSG_TAKEN, TS_CMSG_ABORT, TS_CMSG_DELETE,
	};
	struct ts_cluster_msg *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));

	in->protocol = TS_PROTOCOL_VERSION;
	strcpy(in->sender, "pm2");
	strcpy(in->snap_id, "ffeeddccbbaa99887766554433221100");
	in->achieved = TS_CONS_APPLICATION;
	strcpy(in->reason, "failover");
	strcpy(in->message, "a DRBD role change");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		in->kind = kinds[i];
		memset(out, 0, sizeof(*out));
		roundtrip(in, out);
		ck_assert_int_eq(out->kind, kinds[i]);
		ck_assert_str_eq(out->snap_id, in->snap_id);
	}
	in->kind = TS_CMSG_FROZEN;
	roundtrip(in, out);
	ck_assert_int_eq(out->achieved, TS_CONS_APPLICATION);
	in->kind = TS_CMSG_ABORT;
	roundtrip(in, out);
	ck_assert_str_eq(out->reason, "failover");
	ck_assert_str_eq(out->message, "a DRBD role change");

	in->kind = TS_CMSG_DIGEST;
	in->n_digest = 2;
	in->digest = calloc(2, sizeof(*in->digest));
	strcpy(in->digest[0].id, "ffeeddccbbaa99887766554433221100");
	in->digest[0].view = TS_VIEW_PENDING;
	strcpy(in->digest[1].id, "00112233445566778899aabbccddeeff");
	in->digest[1].view = TS_VIEW_TOMBSTONE;
	roundtrip(in, out);
	ck_assert_uint_eq(out->n_digest, 2);
	ck_assert_int_eq(out->digest[0].view, TS_VIEW_PENDING);
	ck_assert_int_eq(out->digest[1].view, TS_VIEW_TOMBSTONE);
	ts_wire_cluster_msg_release(in);
	ts_wire_cluster_msg_release(out);
	free(in);
	free(out);
}
END_TEST

/* Ids that could be paths, names that are not UTF-8: never decoded. */
START_TEST(test_hostile_snapshot_fields_rejected)
{
	static const char *const bad_ids[] = {
		"../../../../etc/passwd0000000000", "00112233445566778899AABBCCDDEEFF",
		"0011223344556677", "",
	};
	struct ts_cluster_msg *in = sample_create(), *out = calloc(1, sizeof(*out));
	uint8_t *buf = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		strcpy(in->snap.id, bad_ids[i]);
		ck_assert_int_eq(ts_wire_encode_cluster(in, &buf, &len), 0);
		ck_assert_int_eq(ts_wire_decode_cluster(buf, len, out), TS_EPROTO);
		free(buf);
	}
	strcpy(in->snap.id, "00112233445566778899aabbccddeeff");
	strcpy(in->snap.name, "bad \xff utf8");
	ck_assert_int_eq(ts_wire_encode_cluster(in, &buf, &len), 0);
	ck_assert_int_eq(ts_wire_decode_cluster(buf, len, out), TS_EPROTO);
	free(buf);
	strcpy(in->snap.name, "ok");
	strcpy(in->snap.volumes[1], "../data");
	ck_assert_int_eq(ts_wire_encode_cluster(in, &buf, &len), 0);
	ck_assert_int_eq(ts_wire_decode_cluster(buf, len, out), TS_EPROTO);
	free(buf);
	ts_wire_cluster_msg_release(in);
	free(in);
	free(out);
}
END_TEST

/*
 * The reply to `snapshot list` packed a row at a time is, byte for byte,
 * protobuf-c's packing of the same Reply, for no, one and many rows (row
 * lengths of one and two bytes, a body length of three) and with more set
 * or not; and it unpacks to the rows.
 */
START_TEST(test_list_reply_by_rows)
{
	static const size_t counts[] = { 0, 1, 2, 700 };
	static struct ts_snapshot rows[700];
	static struct ts_wire_snap_pb pbs[700];
	static Twinsnap__Snapshot *ptrs[700];
	const char *names[TS_NODE_PAIR] = { "pm1", "pm\"2\n" };
	static char xml[5000];

	memset(xml, 'x', sizeof(xml) - 1);
	for (size_t i = 0; i < 700; i++) {
		struct ts_snapshot *r = &rows[i];

		memset(r, 0, sizeof(*r));
		snprintf(r->id, sizeof(r->id), "%032zx", i * 7919);
		snprintf(r->vm, sizeof(r->vm), "vm%zu", i % 5);
		/* from empty to ~1 KB: row lengths of one and two bytes */
		memset(r->description, 'd', i % 9 == 0 ? 1000 : i % 3);
		snprintf(r->name, sizeof(r->name), "caf\xc3\xa9 \"%zu\"", i);
		r->n_volumes = (uint32_t)(i % 3);
		for (uint32_t v = 0; v < r->n_volumes; v++) {
			snprintf(r->volumes[v], sizeof(r->volumes[v]), "vol%u", v);
			r->volume_bytes[v] = (uint64_t)i << (20 + v);
		}
		r->created_at_ms = (int64_t)i * 1000 - 5000;
		r->phase = (enum ts_snap_phase)(i % TS_PH__COUNT);
		r->primary = 1;
		r->secondary = 2;
		r->request = i * 0x10001;
		if (i == 1)     /* what a list row never has, and a row may */
			r->domain_xml = xml;
		if (i == 2) {   /* out of range: the names of unknown values */
			r->phase = (enum ts_snap_phase)(TS_PH__COUNT + 3);
			r->consistency_achieved = (enum ts_consistency)(TS_CONS_AUTO + 7);
		}
		ts_wire_snapshot_to_pb(r, names, i % 3, &pbs[i]);
		ptrs[i] = &pbs[i].pb;
	}
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		for (int more = 0; more < 2; more++) {
			Twinsnap__Reply r = TWINSNAP__REPLY__INIT, *back;
			Twinsnap__SnapshotListReply lr = TWINSNAP__SNAPSHOT_LIST_REPLY__INIT;
			struct ts_wire_list_reply w;
			const uint8_t *got;
			uint8_t *want;
			size_t len, want_len, rows_bytes = 0;

			ts_wire_list_reply_init(&w, 0);
			for (size_t i = 0; i < counts[c]; i++) {
				size_t packed = twinsnap__snapshot__get_packed_size(ptrs[i]);

				ck_assert(ts_wire_list_reply_add(&w, &rows[i], names, i % 3,
								 SIZE_MAX));
				rows_bytes += packed;
			}
			got = ts_wire_list_reply_finish(&w, more, &len);
			lr.snapshots = ptrs;
			lr.n_snapshots = counts[c];
			lr.more = more;
			r.body_case = TWINSNAP__REPLY__BODY_SNAPSHOT_LIST;
			r.snapshot_list = &lr;
			want_len = twinsnap__reply__get_packed_size(&r);
			want = malloc(want_len);
			ck_assert_uint_eq(twinsnap__reply__pack(&r, want), want_len);
			ck_assert_msg(len == want_len && memcmp(got, want, len) == 0,
				      "%zu rows, more %d: %zu bytes, protobuf-c %zu", counts[c], more,
				      len, want_len);
			ck_assert_uint_le(rows_bytes, len);
			back = twinsnap__reply__unpack(NULL, len, got);
			ck_assert_ptr_nonnull(back);
			ck_assert_int_eq(back->body_case, TWINSNAP__REPLY__BODY_SNAPSHOT_LIST);
			ck_assert_uint_eq(back->snapshot_list->n_snapshots, counts[c]);
			ck_assert_int_eq(back->snapshot_list->more, more);
			if (counts[c])
				ck_assert_str_eq(back->snapshot_list->snapshots[counts[c] - 1]->id,
						 rows[counts[c] - 1].id);
			twinsnap__reply__free_unpacked(back, NULL);
			free(want);
			ts_wire_list_reply_free(&w);
		}
	}
}
END_TEST

/* Each row must fit the budget, counted in the rows' bytes, except the first. */
START_TEST(test_list_reply_budget)
{
	static struct ts_snapshot rows[40];
	static struct ts_wire_snap_pb pbs[40];
	const char *names[TS_NODE_PAIR] = { "pm1", "pm2" };
	size_t sizes[40], total = 0;

	for (size_t i = 0; i < 40; i++) {
		memset(&rows[i], 0, sizeof(rows[i]));
		snprintf(rows[i].id, sizeof(rows[i].id), "%032zx", i);
		snprintf(rows[i].vm, sizeof(rows[i].vm), "vm1");
		/* the longest fields there are: the bound must hold for them */
		memset(rows[i].description, 'x', sizeof(rows[i].description) - 1);
		memset(rows[i].name, 'n', sizeof(rows[i].name) - 1);
		rows[i].n_volumes = TS_SNAP_MAX_VOLUMES;
		for (uint32_t v = 0; v < TS_SNAP_MAX_VOLUMES; v++) {
			memset(rows[i].volumes[v], 'v', TS_VOLUME_NAME_MAX - 1);
			rows[i].volumes[v][0] = (char)('a' + v % 26);
			rows[i].volume_bytes[v] = UINT64_MAX - v;
		}
		rows[i].created_at_ms = INT64_MIN + (int64_t)i;
		rows[i].request = UINT64_MAX;
		rows[i].primary = rows[i].secondary = UINT32_MAX;
		ts_wire_snapshot_to_pb(&rows[i], names, 2, &pbs[i]);
		sizes[i] = twinsnap__snapshot__get_packed_size(&pbs[i].pb);
		sizes[i] += 1 + (sizes[i] >= 128) + (sizes[i] >= 16384);
	}
	for (size_t want = 1; want < 40; want += 13) {
		struct ts_wire_list_reply w;
		Twinsnap__Reply *back;
		const uint8_t *got;
		size_t len, n = 0;

		total = 0;
		for (size_t i = 0; i < want; i++)
			total += sizes[i];
		ts_wire_list_reply_init(&w, 0);
		/* a budget one byte short of the next row (of none, at 1: too small for any) */
		while (n < 40 && ts_wire_list_reply_add(&w, &rows[n], names, 2,
							want == 1 ? 1 : total + sizes[want] - 1))
			n++;
		ck_assert_uint_eq(n, want);
		got = ts_wire_list_reply_finish(&w, true, &len);
		back = twinsnap__reply__unpack(NULL, len, got);
		ck_assert_ptr_nonnull(back);
		ck_assert_uint_eq(back->snapshot_list->n_snapshots, want);
		ck_assert_str_eq(back->snapshot_list->snapshots[want - 1]->description,
				 rows[want - 1].description);
		ck_assert_uint_eq(back->snapshot_list->snapshots[want - 1]->n_volumes,
				  TS_SNAP_MAX_VOLUMES);
		twinsnap__reply__free_unpacked(back, NULL);
		ts_wire_list_reply_free(&w);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");

	TS_ADD_TEST(s, test_report_roundtrip);
	TS_ADD_TEST(s, test_set_and_sync_roundtrip);
	TS_ADD_TEST(s, test_enum_spellings_roundtrip);
	TS_ADD_TEST(s, test_hostile_bytes);
	TS_ADD_TEST(s, test_oversized_strings_rejected);
	TS_ADD_TEST(s, test_create_roundtrip);
	TS_ADD_TEST(s, test_small_snapshot_messages_roundtrip);
	TS_ADD_TEST(s, test_hostile_snapshot_fields_rejected);
	TS_ADD_TEST(s, test_list_reply_by_rows);
	TS_ADD_TEST(s, test_list_reply_budget);
	return ts_run_suite(s);
}
