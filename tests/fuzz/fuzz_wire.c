/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_wire — the CPG message decoder (proto/wire).  Every input is decoded;
 * a rejected one must leave the output untouched, an accepted one must hold
 * only what the validators allow, and must survive encode → decode
 * unchanged: the second decode equals the first byte for byte (both come
 * from the same calloc'd scratch, so padding compares equal) once the owned
 * pointers are compared by content.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tserr.h"
#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_wire"
#include "fuzz_check.h"

/* A fixed-size text field holds its NUL. */
#define CHECK_TERMINATED(field) \
	CHECK(memchr((field), '\0', sizeof(field)), "%s is not NUL-terminated", #field)

#define POISON 0xa5

static struct ts_cluster_msg *msg_alloc(int fill)
{
	struct ts_cluster_msg *m = malloc(sizeof(*m));

	if (!m)
		abort();
	memset(m, fill, sizeof(*m));
	return m;
}

static void check_snapshot(const struct ts_snapshot *s)
{
	CHECK(ts_snapshot_id_valid(s->id), "snap.id invalid");
	CHECK(ts_vm_name_valid(s->vm), "snap.vm invalid");
	CHECK(ts_snapshot_name_valid(s->name), "snap.name invalid");
	CHECK(ts_snapshot_description_valid(s->description), "snap.description invalid");
	CHECK(s->consistency_requested <= TS_CONS_AUTO && s->consistency_achieved <= TS_CONS_AUTO,
	      "snap consistency %d/%d", (int)s->consistency_requested,
	      (int)s->consistency_achieved);
	CHECK((unsigned)s->phase < TS_PH__COUNT, "snap.phase %d", (int)s->phase);
	CHECK(s->n_volumes <= TS_SNAP_MAX_VOLUMES, "snap.n_volumes %u", s->n_volumes);
	for (uint32_t i = 0; i < s->n_volumes; i++)
		CHECK(ts_volume_name_valid(s->volumes[i]), "snap.volumes[%u] invalid", i);
	CHECK(!s->domain_xml || s->domain_xml[0], "snap.domain_xml is an empty string");
}

/* What an accepted message may hold. */
static void check_decoded(const struct ts_cluster_msg *m)
{
	CHECK_TERMINATED(m->sender);
	switch (m->kind) {
	case TS_CMSG_REPORT:
		CHECK_TERMINATED(m->report.node);
		CHECK(m->report.n_drbd <= TS_NODE_MAX_DRBD, "report.n_drbd %u", m->report.n_drbd);
		for (uint32_t i = 0; i < m->report.n_drbd; i++) {
			const struct ts_drbd_summary *d = &m->report.drbd[i];

			CHECK_TERMINATED(d->resource);
			CHECK(d->role <= TS_ROLE_SECONDARY && d->connection <= TS_CONN_CONNECTED &&
			      d->disk <= TS_DISK_UPTODATE && d->peer_disk <= TS_DISK_UPTODATE &&
			      d->replication <= TS_REPL_BEHIND, "report.drbd[%u]: enum out of range",
			      i);
			CHECK(!d->has_done || (d->done >= 0 && d->done <= 100),
			      "report.drbd[%u].done %g", i, d->done);
		}
		break;
	case TS_CMSG_SET:
		CHECK_TERMINATED(m->set.key);
		CHECK_TERMINATED(m->set.value);
		break;
	case TS_CMSG_SYNC:
		CHECK(m->n_settings <= TS_SETTINGS_MAX, "n_settings %u", m->n_settings);
		for (uint32_t i = 0; i < m->n_settings; i++) {
			CHECK_TERMINATED(m->settings[i].key);
			CHECK_TERMINATED(m->settings[i].value);
		}
		break;
	case TS_CMSG_CREATE:
		check_snapshot(&m->snap);
		CHECK(m->vm.n_volumes <= TS_SNAP_MAX_VOLUMES, "vm.n_volumes %u", m->vm.n_volumes);
		for (uint32_t i = 0; i < m->vm.n_volumes; i++)
			CHECK_TERMINATED(m->vm.volumes[i]);
		CHECK_TERMINATED(m->vm.boot_volume);
		break;
	case TS_CMSG_FROZEN:
		CHECK(m->achieved <= TS_CONS_AUTO, "achieved %d", (int)m->achieved);
		/* fall through */
	case TS_CMSG_TAKEN:
	case TS_CMSG_DELETE:
		CHECK(ts_snapshot_id_valid(m->snap_id), "snap_id invalid");
		break;
	case TS_CMSG_ABORT:
		CHECK(ts_snapshot_id_valid(m->snap_id), "snap_id invalid");
		CHECK_TERMINATED(m->reason);
		CHECK_TERMINATED(m->message);
		break;
	case TS_CMSG_DIGEST:
		CHECK(m->n_digest == 0 || m->digest, "digest of %u entries is NULL", m->n_digest);
		for (uint32_t i = 0; i < m->n_digest; i++)
			CHECK(ts_snapshot_id_valid(m->digest[i].id) &&
			      m->digest[i].view <= TS_VIEW_TOMBSTONE, "digest[%u] invalid", i);
		break;
	default:
		fail("decoded kind %d", (int)m->kind);
	}
	if (m->kind != TS_CMSG_CREATE)
		CHECK(!m->snap.domain_xml, "domain_xml owned by a kind %d message", (int)m->kind);
	if (m->kind != TS_CMSG_DIGEST)
		CHECK(!m->digest && !m->n_digest, "digest owned by a kind %d message", (int)m->kind);
}

/* Report the first differing byte of two messages, for the crash log. */
static void fail_diff(const struct ts_cluster_msg *a, const struct ts_cluster_msg *b)
{
	const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
	size_t i = 0;

	while (i < sizeof(*a) && pa[i] == pb[i])
		i++;
	fail("kind %d: decode(encode(decode(x))) differs from decode(x) at byte %zu of %zu "
	     "(0x%02x vs 0x%02x)", (int)a->kind, i, sizeof(*a), pa[i], pb[i]);
}

static void check_equal(const struct ts_cluster_msg *a, const struct ts_cluster_msg *b)
{
	struct ts_cluster_msg *ca = msg_alloc(0), *cb = msg_alloc(0);

	CHECK(!a->snap.domain_xml == !b->snap.domain_xml &&
	      (!a->snap.domain_xml || strcmp(a->snap.domain_xml, b->snap.domain_xml) == 0),
	      "domain_xml differs after a round trip");
	CHECK(a->n_digest == b->n_digest, "n_digest %u became %u", a->n_digest, b->n_digest);
	if (a->n_digest)
		CHECK(memcmp(a->digest, b->digest, a->n_digest * sizeof(*a->digest)) == 0,
		      "digest differs after a round trip");
	memcpy(ca, a, sizeof(*ca));
	memcpy(cb, b, sizeof(*cb));
	ca->snap.domain_xml = cb->snap.domain_xml = NULL;
	ca->digest = cb->digest = NULL;
	if (memcmp(ca, cb, sizeof(*ca)) != 0)
		fail_diff(ca, cb);
	free(ca);
	free(cb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_cluster_msg *first = msg_alloc(POISON), *second;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = ts_wire_decode_cluster(data, size, first);
	if (rc != 0) {
		struct ts_cluster_msg *untouched = msg_alloc(POISON);

		CHECK(rc == TS_EPROTO, "decode failed with %d, not TS_EPROTO", rc);
		CHECK(memcmp(first, untouched, sizeof(*first)) == 0,
		      "a rejected decode wrote to its output");
		free(untouched);
		memset(first, 0, sizeof(*first));
		ts_wire_cluster_msg_release(first);
		free(first);
		return 0;
	}
	check_decoded(first);

	rc = ts_wire_encode_cluster(first, &buf, &len);
	CHECK(rc == 0, "re-encoding a decoded kind %d message failed: %d", (int)first->kind, rc);
	second = msg_alloc(POISON);
	rc = ts_wire_decode_cluster(buf, len, second);
	CHECK(rc == 0, "decoding the re-encoded kind %d message failed: %d", (int)first->kind,
	      rc);
	check_decoded(second);
	check_equal(first, second);

	free(buf);
	ts_wire_cluster_msg_release(second);
	ts_wire_cluster_msg_release(first);
	free(second);
	free(first);
	return 0;
}
