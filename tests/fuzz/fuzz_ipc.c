/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_ipc — the CLI → twinsnapd request decoder.  The bytes are unpacked
 * as a Request (twinsnap__request__unpack, as ts_agent_on_request does) and
 * each kind's fields go through the validators the agent applies to them
 * (agent_ipc.c, agent_snap_ipc.c).  Checked: what a validator accepts fits
 * the row field it is copied into and matches an independent reading of the
 * rule (glib's UTF-8 decoder for text); a snapshot the agent would build
 * from an accepted create request is accepted by the peer's wire decoder.
 */
#include "config.h"

#include <glib.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nodestate.h"
#include "core/settings.h"
#include "core/snapshot.h"
#include "proto/wire.h"
#include "twinsnap.pb-c.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_ipc"
#include "fuzz_check.h"

/* ---- independent readings of the rules in snapshot.h ------------------------ */

/* [A-Za-z0-9._-], 1..max-1 bytes, not starting with '.' or '-'. */
static bool ref_plain_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Valid UTF-8 shorter than @max bytes, no C0/DEL/C1 controls but @allowed. */
static bool ref_text(const char *s, size_t max, const char *allowed)
{
	if (strlen(s) >= max || !g_utf8_validate(s, -1, NULL))
		return false;
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if ((c < 0x20 || (c >= 0x7f && c <= 0x9f)) && !strchr(allowed, (int)c))
			return false;
	}
	return true;
}

static bool ref_id(const char *s)
{
	return strlen(s) == TS_SNAP_ID_LEN && strspn(s, "0123456789abcdef") == TS_SNAP_ID_LEN;
}

/* ---- validators, each checked against its reference -------------------------- */

static bool vm_ok(const char *s)
{
	bool ok = ts_vm_name_valid(s);

	CHECK(ok == ref_plain_name(s, TS_VM_NAME_LEN_MAX), "ts_vm_name_valid(\"%s\") = %d", s, ok);
	return ok;
}

static bool volume_ok(const char *s)
{
	bool ok = ts_volume_name_valid(s);

	CHECK(ok == ref_plain_name(s, TS_VOLUME_NAME_MAX), "ts_volume_name_valid(\"%s\") = %d",
	      s, ok);
	return ok;
}

static bool name_ok(const char *s)
{
	bool ok = ts_snapshot_name_valid(s);

	CHECK(ok == ref_text(s, TS_SNAP_NAME_MAX, ""), "ts_snapshot_name_valid = %d for %zu bytes",
	      ok, strlen(s));
	return ok;
}

static bool description_ok(const char *s)
{
	bool ok = ts_snapshot_description_valid(s);

	CHECK(ok == ref_text(s, TS_SNAP_DESC_MAX, "\n\t"),
	      "ts_snapshot_description_valid = %d for %zu bytes", ok, strlen(s));
	return ok;
}

static bool id_ok(const char *s)
{
	bool ok = ts_snapshot_id_valid(s);

	CHECK(ok == ref_id(s), "ts_snapshot_id_valid(\"%s\") = %d", s, ok);
	return ok;
}

static bool consistency_ok(const char *s, enum ts_consistency *out)
{
	enum ts_consistency c = (enum ts_consistency)-1;
	int rc = ts_consistency_parse(s, &c);
	bool ref = strcmp(s, "crash") == 0 || strcmp(s, "application") == 0 ||
		   strcmp(s, "auto") == 0;

	CHECK((rc == 0) == ref, "ts_consistency_parse(\"%s\") = %d", s, rc);
	if (rc == 0) {
		CHECK(c <= TS_CONS_AUTO && strcmp(ts_consistency_str(c), s) == 0,
		      "ts_consistency_parse(\"%s\") gave %d", s, (int)c);
		*out = c;
	}
	return rc == 0;
}

/* The agent logs hostile text only through ts_sanitize_for_log(). */
static void check_sanitized(const char *s)
{
	char safe[80];
	size_t n = strlen(s) < sizeof(safe) - 1 ? strlen(s) : sizeof(safe) - 1;

	ts_sanitize_for_log(s, safe, sizeof(safe));
	CHECK(strlen(safe) == n, "sanitized %zu bytes into %zu", strlen(s), strlen(safe));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		CHECK(safe[i] == (c < 0x20 || c >= 0x7f ? '?' : (char)c),
		      "sanitized byte %zu: 0x%02x became 0x%02x", i, c, (unsigned char)safe[i]);
	}
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- per kind ------------------------------------------------------------------ */

static void on_maintenance(const Twinsnap__MaintenanceRequest *r)
{
	const char *node = str_or_empty(r->node);
	char key[TS_SETTING_KEY_MAX];
	bool valid = ts_node_name_valid(node);
	int rc;

	check_sanitized(node);
	CHECK(valid == ref_plain_name(node, TS_NODE_NAME_MAX), "ts_node_name_valid(\"%s\") = %d",
	      node, valid);
	rc = ts_settings_maintenance_key(node, key, sizeof(key));
	CHECK((rc == 0) == valid, "maintenance key for \"%s\": %d", node, rc);
	if (rc == 0) {
		CHECK(strncmp(key, "maintenance/", 12) == 0 && strcmp(key + 12, node) == 0,
		      "maintenance key \"%s\"", key);
		CHECK(ts_setting_validate(key, r->on ? "on" : "off") == 0,
		      "the agent's own setting %s is invalid", key);
	}
}

/*
 * What ts_snap_ipc_create() validates, then the row it fills: every
 * accepted value must fit its field, and the peer must accept the row.
 */
static void on_create(const Twinsnap__SnapshotCreateRequest *c)
{
	struct ts_snapshot *s;
	struct ts_wire_snap_pb spb;
	Twinsnap__Snapshot *back;
	uint8_t *buf;
	size_t len;
	bool ok = true;
	int n;

	if (c->vm)
		check_sanitized(c->vm);
	/* The agent stops at the first refusal; go on to exercise every validator. */
	if (!c->vm || !vm_ok(c->vm))
		ok = false;
	if (c->n_volumes > TS_SNAP_MAX_VOLUMES)
		ok = false;
	for (size_t i = 0; i < c->n_volumes; i++)
		if (!c->volumes[i] || !volume_ok(c->volumes[i]))
			ok = false;
	if (c->name && c->name[0] && !name_ok(c->name))
		ok = false;
	if (c->description && !description_ok(c->description))
		ok = false;
	s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	if (!consistency_ok(c->consistency && c->consistency[0] ? c->consistency : "crash",
			    &s->consistency_requested))
		ok = false;
	if (!ok) {
		free(s);
		return;
	}

	/* The row as fill_request() builds it; the id is the agent's to choose. */
	memcpy(s->id, "0123456789abcdef0123456789abcdef", TS_SNAP_ID_LEN + 1);
	n = snprintf(s->vm, sizeof(s->vm), "%s", c->vm);
	CHECK((size_t)n < sizeof(s->vm), "accepted VM name does not fit: %d bytes", n);
	n = snprintf(s->name, sizeof(s->name), "%s", c->name && c->name[0] ? c->name : c->vm);
	CHECK((size_t)n < sizeof(s->name), "accepted name does not fit: %d bytes", n);
	n = snprintf(s->description, sizeof(s->description), "%s", str_or_empty(c->description));
	CHECK((size_t)n < sizeof(s->description), "accepted description does not fit: %d", n);
	for (size_t i = 0; i < c->n_volumes; i++) {
		n = snprintf(s->volumes[i], sizeof(s->volumes[i]), "%s", c->volumes[i]);
		CHECK((size_t)n < sizeof(s->volumes[i]), "accepted volume does not fit");
	}
	s->n_volumes = (uint32_t)c->n_volumes;
	s->primary = 1;
	s->secondary = 2;
	s->origin = 2;

	/* What the peer does with the CREATE's snapshot. */
	ts_wire_snapshot_to_pb(s, NULL, 0, &spb);
	len = twinsnap__snapshot__get_packed_size(&spb.pb);
	buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	twinsnap__snapshot__pack(&spb.pb, buf);
	back = twinsnap__snapshot__unpack(NULL, len, buf);
	CHECK(back, "a packed snapshot does not unpack");
	{
		struct ts_snapshot *peer = calloc(1, sizeof(*peer));

		if (!peer)
			abort();
		CHECK(ts_wire_snapshot_from_pb(back, peer) == 0,
		      "the peer refuses a snapshot the agent accepted from the CLI");
		CHECK(strcmp(peer->vm, s->vm) == 0 && strcmp(peer->name, s->name) == 0 &&
		      strcmp(peer->description, s->description) == 0 &&
		      peer->n_volumes == s->n_volumes &&
		      peer->consistency_requested == s->consistency_requested,
		      "the snapshot changed on its way to the peer");
		for (uint32_t i = 0; i < s->n_volumes; i++)
			CHECK(strcmp(peer->volumes[i], s->volumes[i]) == 0, "volume %u changed", i);
		ts_snapshot_release(peer);
		free(peer);
	}
	twinsnap__snapshot__free_unpacked(back, NULL);
	free(buf);
	free(s);
}

static void on_list(const Twinsnap__SnapshotListRequest *l)
{
	if (l->vm && l->vm[0])
		(void)vm_ok(l->vm);
}

static void on_id(const char *id)
{
	const char *s = str_or_empty(id);

	if (id_ok(s))
		CHECK(strlen(s) == TS_SNAP_ID_LEN, "accepted id of %zu bytes", strlen(s));
}

static void on_events(const Twinsnap__EventsRequest *e)
{
	/* ts_snap_ipc_events: 0 or >= 10000 means the default of 1000. */
	size_t limit = e->limit && e->limit < 10000 ? e->limit : 1000;

	CHECK(limit >= 1 && limit < 10000, "events limit %zu", limit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Twinsnap__Request *rq = twinsnap__request__unpack(NULL, size, data);

	if (!rq)
		return 0;
	switch (rq->body_case) {
	case TWINSNAP__REQUEST__BODY_STATUS:
	case TWINSNAP__REQUEST__BODY_NODE_LIST:
	case TWINSNAP__REQUEST__BODY_VM_LIST:
	case TWINSNAP__REQUEST__BODY_SNAPSHOTS_ENABLE:
		break;
	case TWINSNAP__REQUEST__BODY_MAINTENANCE:
		on_maintenance(rq->maintenance);
		break;
	case TWINSNAP__REQUEST__BODY_SNAPSHOT_CREATE:
		on_create(rq->snapshot_create);
		break;
	case TWINSNAP__REQUEST__BODY_SNAPSHOT_LIST:
		on_list(rq->snapshot_list);
		break;
	case TWINSNAP__REQUEST__BODY_SNAPSHOT_SHOW:
		on_id(rq->snapshot_show->id);
		break;
	case TWINSNAP__REQUEST__BODY_SNAPSHOT_DELETE:
		on_id(rq->snapshot_delete->id);
		break;
	case TWINSNAP__REQUEST__BODY_EVENTS:
		on_events(rq->events);
		break;
	default:
		/* No body or an unknown one: the agent answers bad_request. */
		break;
	}
	twinsnap__request__free_unpacked(rq, NULL);
	return 0;
}
