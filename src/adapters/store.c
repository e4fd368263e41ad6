/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store — backend choice, the name checks at the boundary, and dispatch
 * (see store.h).  Every snapshot id, VM name and volume name is validated
 * here, once, before any backend turns it into a path component.
 */
#include "config.h"
#include "adapters/store.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qblog.h>

#include "core/snapshot.h"
#include "fault.h"
#include "util.h"

struct ts_store {
	const struct ts_store_ops *ops;
	void *priv;
};

static const struct ts_store_ops *const backends[] = {
	&ts_store_reflink_ops,
};

#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

static const struct ts_store_ops *find_backend(const char *name)
{
	for (size_t i = 0; i < N_BACKENDS; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

static char *backend_names(void)
{
	char *names = ts_xstrdup("");

	for (size_t i = 0; i < N_BACKENDS; i++) {
		char *more = ts_xasprintf("%s%s%s", names, i ? ", " : "", backends[i]->name);

		free(names);
		names = more;
	}
	return names;
}

int ts_store_open(const char *backend, const char *dir, struct ts_store **out, char **errmsg)
{
	const struct ts_store_ops *ops;
	struct ts_store *s;
	char *names;
	int rc;

	assert(backend && dir && out && errmsg);
	*out = NULL;
	*errmsg = NULL;
	ops = find_backend(backend);
	if (!ops) {
		names = backend_names();
		*errmsg = ts_xasprintf("unknown store backend '%s' (known: %s)", backend, names);
		free(names);
		return -EINVAL;
	}
	if (dir[0] == '\0') {
		*errmsg = ts_xasprintf("store directory is empty");
		return -EINVAL;
	}
	s = ts_xcalloc(1, sizeof(*s));
	s->ops = ops;
	rc = ops->open(dir, &s->priv, errmsg);
	if (rc < 0) {
		if (!*errmsg)
			*errmsg = ts_xasprintf("%s: %s", dir, strerror(-rc));
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void ts_store_close(struct ts_store *s)
{
	if (!s)
		return;
	s->ops->close(s->priv);
	free(s);
}

const char *ts_store_backend(const struct ts_store *s)
{
	return s->ops->name;
}

/* Log rejected names sanitised: they may come from a peer or a client. */
static bool names_ok(const char *what, const char *id, const char *vm, const char *volume)
{
	char safe[80];
	const char *bad = NULL;
	const char *kind = NULL;

	if (id && !ts_snapshot_id_valid(id)) {
		bad = id;
		kind = "snapshot id";
	} else if (vm && !ts_vm_name_valid(vm)) {
		bad = vm;
		kind = "VM name";
	} else if (volume && !ts_volume_name_valid(volume)) {
		bad = volume;
		kind = "volume name";
	}
	if (!bad)
		return true;
	ts_sanitize_for_log(bad, safe, sizeof(safe));
	qb_log(LOG_WARNING, "store: %s: invalid %s '%s'", what, kind, safe);
	return false;
}

int ts_store_volume_path(struct ts_store *s, const char *vm, const char *volume,
			 char *buf, size_t len)
{
	assert(s && vm && volume && buf);
	if (!names_ok("volume path", NULL, vm, volume))
		return -EINVAL;
	return s->ops->volume_path(s->priv, vm, volume, buf, len);
}

int ts_store_volume_size(struct ts_store *s, const char *vm, const char *volume,
			 uint64_t *bytes)
{
	assert(s && vm && volume && bytes);
	if (!names_ok("volume size", NULL, vm, volume))
		return -EINVAL;
	return s->ops->volume_size(s->priv, vm, volume, bytes);
}

int ts_store_take(struct ts_store *s, const char *id, const char *vm, const char *volume,
		  char *piece_path, size_t len)
{
	assert(s && id && vm && volume && (piece_path || len == 0));
	if (!names_ok("take", id, vm, volume))
		return -EINVAL;
	if (ts_fault("store/take"))
		return -ENOSPC;
	return s->ops->take(s->priv, id, vm, volume, piece_path, len);
}

int ts_store_remove(struct ts_store *s, const char *id, const char *volume)
{
	assert(s && id);
	if (!names_ok("remove", id, NULL, volume))
		return -EINVAL;
	return s->ops->remove(s->priv, id, volume);
}

int ts_store_list(struct ts_store *s, ts_store_list_cb cb, void *ctx)
{
	assert(s && cb);
	return s->ops->list(s->priv, cb, ctx);
}

int ts_store_space(struct ts_store *s, uint64_t *free_bytes, uint64_t *total_bytes)
{
	assert(s && free_bytes && total_bytes);
	return s->ops->space(s->priv, free_bytes, total_bytes);
}

uint64_t ts_store_estimate(struct ts_store *s, const uint64_t *volume_bytes, size_t n)
{
	assert(s && (volume_bytes || n == 0));
	return s->ops->estimate(s->priv, volume_bytes, n);
}
