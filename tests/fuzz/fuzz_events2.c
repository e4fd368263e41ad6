/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_events2 — the `drbdsetup events2` parser (core/drbd_model).  The
 * input is split at '\n' (a NUL byte ends a line too, so no line ever holds
 * one) and the lines are applied in order to one model.  After every line
 * the model's invariants are checked through the public API, and a line
 * answered with anything but TS_E2_APPLIED must leave the model as it was
 * (TS_E2_DUMP_DONE may only set the dump-complete flag).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/drbd_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_events2"
#include "fuzz_check.h"

/* A growable byte buffer for a dump of the model. */
struct dump {
	uint8_t *p;
	size_t len, cap;
};

static void dump_put(struct dump *d, const void *src, size_t n)
{
	if (d->len + n > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		uint8_t *np;

		while (cap < d->len + n)
			cap *= 2;
		np = realloc(d->p, cap);
		if (!np)
			abort();
		d->p = np;
		d->cap = cap;
	}
	memcpy(d->p + d->len, src, n);
	d->len += n;
}

/*
 * Everything the public API shows: the used part of every resource, byte
 * for byte (the structs are copies of the model's own memory, so padding
 * compares equal when nothing was written).  The dump-complete flag is
 * left out: TS_E2_DUMP_DONE is allowed to change it.
 */
static void dump_model(const struct ts_drbd_model *m, struct dump *d)
{
	size_t n = ts_drbd_model_count(m);

	d->len = 0;
	dump_put(d, &n, sizeof(n));
	for (size_t i = 0; i < n; i++) {
		const struct ts_drbd_resource *r = ts_drbd_model_at(m, i);

		if (!r)
			fail("resource %zu of %zu is NULL", i, n);
		dump_put(d, r, offsetof(struct ts_drbd_resource, devices));
		dump_put(d, r->devices, r->n_devices * sizeof(r->devices[0]));
		dump_put(d, r->connections, r->n_connections * sizeof(r->connections[0]));
		dump_put(d, r->peer_devices, r->n_peer_devices * sizeof(r->peer_devices[0]));
	}
}

/* DRBD names as the parser accepts them: 1..63 bytes, no '/', no controls. */
static void check_name(const char *what, const char *name, size_t size)
{
	const char *nul = memchr(name, '\0', size);

	CHECK(nul, "%s is not NUL-terminated", what);
	CHECK(nul != name, "%s is empty", what);
	for (const char *p = name; p < nul; p++) {
		unsigned char c = (unsigned char)*p;

		CHECK(c != '/' && c >= 0x20 && c != 0x7f, "%s '%s' holds byte 0x%02x", what,
		      name, c);
	}
}

static void check_resource(const struct ts_drbd_model *m, const struct ts_drbd_resource *r)
{
	double pct = -2;
	bool resyncing;

	check_name("resource name", r->name, sizeof(r->name));
	CHECK(ts_drbd_model_find(m, r->name) == r, "resource '%s' not found by its name",
	      r->name);
	CHECK(r->role <= TS_ROLE_SECONDARY, "%s: role %d", r->name, (int)r->role);
	CHECK(memchr(r->suspended_reason, '\0', sizeof(r->suspended_reason)),
	      "%s: suspended_reason not NUL-terminated", r->name);
	if (strcmp(r->suspended_reason, "no") == 0)
		CHECK(!r->suspended, "%s: suspended:no yet suspended", r->name);
	if (!r->suspended)
		CHECK(!r->suspended_reason[0] || strcmp(r->suspended_reason, "no") == 0,
		      "%s: not suspended, reason '%s'", r->name, r->suspended_reason);

	CHECK(r->n_devices <= TS_DRBD_MAX_VOLUMES, "%s: %zu devices", r->name, r->n_devices);
	CHECK(r->n_connections <= TS_DRBD_MAX_PEERS, "%s: %zu connections", r->name,
	      r->n_connections);
	CHECK(r->n_peer_devices <= TS_DRBD_MAX_VOLUMES * TS_DRBD_MAX_PEERS,
	      "%s: %zu peer devices", r->name, r->n_peer_devices);

	for (size_t i = 0; i < r->n_devices; i++) {
		const struct ts_drbd_device *d = &r->devices[i];

		CHECK(d->volume >= 0 && d->minor >= -1 && d->disk <= TS_DISK_UPTODATE,
		      "%s: device %zu: volume %d minor %d disk %d", r->name, i, d->volume,
		      d->minor, (int)d->disk);
		for (size_t j = 0; j < i; j++)
			CHECK(r->devices[j].volume != d->volume, "%s: volume %d twice", r->name,
			      d->volume);
	}
	for (size_t i = 0; i < r->n_connections; i++) {
		const struct ts_drbd_connection *c = &r->connections[i];

		/* 8.4 (peer-node-id:0) may leave conn-name out: then the only one of its id */
		if (c->conn_name[0])
			check_name("conn-name", c->conn_name, sizeof(c->conn_name));
		else
			CHECK(c->peer_node_id == 0, "%s: connection %zu: no conn-name, peer %d",
			      r->name, i, c->peer_node_id);
		CHECK(c->peer_node_id >= 0 && c->state <= TS_CONN_CONNECTED &&
		      c->peer_role <= TS_ROLE_SECONDARY,
		      "%s: connection %zu: peer %d state %d role %d", r->name, i,
		      c->peer_node_id, (int)c->state, (int)c->peer_role);
		for (size_t j = 0; j < i; j++)
			CHECK(r->connections[j].peer_node_id != c->peer_node_id ||
			      (c->conn_name[0] && r->connections[j].conn_name[0] &&
			       strcmp(r->connections[j].conn_name, c->conn_name) != 0),
			      "%s: connection %d:%s twice", r->name, c->peer_node_id,
			      c->conn_name);
	}
	for (size_t i = 0; i < r->n_peer_devices; i++) {
		const struct ts_drbd_peer_device *pd = &r->peer_devices[i];

		CHECK(pd->peer_node_id >= 0 && pd->volume >= 0 &&
		      pd->replication <= TS_REPL_BEHIND && pd->peer_disk <= TS_DISK_UPTODATE,
		      "%s: peer device %zu: peer %d volume %d repl %d pdsk %d", r->name, i,
		      pd->peer_node_id, pd->volume, (int)pd->replication, (int)pd->peer_disk);
		CHECK(ts_drbd_repl_is_resync(pd->replication) || pd->resync_total == 0,
		      "%s: peer device %d/%d not resyncing, resync_total %llu", r->name,
		      pd->peer_node_id, pd->volume, (unsigned long long)pd->resync_total);
		for (size_t j = 0; j < i; j++)
			CHECK(r->peer_devices[j].peer_node_id != pd->peer_node_id ||
			      r->peer_devices[j].volume != pd->volume,
			      "%s: peer device %d/%d twice", r->name, pd->peer_node_id, pd->volume);
	}

	resyncing = ts_drbd_resource_resyncing(r, &pct);
	if (resyncing)
		CHECK(pct == -1 || (pct >= 0 && pct <= 100),
		      "%s: resyncing, done %.17g%% (expected 0..100 or -1)", r->name, pct);
	else
		CHECK(pct == -1, "%s: not resyncing, done %.17g%%", r->name, pct);
}

static void check_model(const struct ts_drbd_model *m)
{
	size_t n = ts_drbd_model_count(m);

	CHECK(n <= TS_DRBD_MAX_RESOURCES, "%zu resources", n);
	CHECK(ts_drbd_model_at(m, n) == NULL, "model_at(count) is not NULL");
	for (size_t i = 0; i < n; i++)
		check_resource(m, ts_drbd_model_at(m, i));
}

static void apply_checked(struct ts_drbd_model *m, const char *line, struct dump *before,
			  struct dump *after)
{
	bool was_complete = ts_drbd_model_dump_complete(m);
	int rc;

	dump_model(m, before);
	rc = ts_drbd_model_apply_line(m, line);
	CHECK(rc == TS_E2_APPLIED || rc == TS_E2_IGNORED || rc == TS_E2_DUMP_DONE ||
	      rc == -EINVAL || rc == -ENOSPC, "unexpected result %d for line '%s'", rc, line);
	check_model(m);
	if (rc == TS_E2_APPLIED)
		return;
	dump_model(m, after);
	CHECK(before->len == after->len && memcmp(before->p, after->p, before->len) == 0,
	      "line answered %d changed the model: '%s'", rc, line);
	if (rc == TS_E2_DUMP_DONE)
		CHECK(ts_drbd_model_dump_complete(m), "exists - did not complete the dump");
	else
		CHECK(ts_drbd_model_dump_complete(m) == was_complete,
		      "line answered %d changed the dump flag: '%s'", rc, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	struct dump before = { 0 }, after = { 0 };
	char *line = malloc(size + 2);
	size_t start = 0;

	if (!line)
		abort();
	while (start < size) {
		size_t end = start, len;

		while (end < size && data[end] != '\n' && data[end] != '\0')
			end++;
		len = end - start;
		memcpy(line, data + start, len);
		/* Keep a real newline: the parser strips one, and that is input too. */
		if (end < size && data[end] == '\n')
			line[len++] = '\n';
		line[len] = '\0';
		apply_checked(m, line, &before, &after);
		start = end + 1;
	}
	ts_drbd_model_reset(m);
	CHECK(ts_drbd_model_count(m) == 0 && !ts_drbd_model_dump_complete(m),
	      "reset left state behind");
	ts_drbd_model_destroy(m);
	free(line);
	free(before.p);
	free(after.p);
	return 0;
}
