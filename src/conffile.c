/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conffile — load and validate twinsnap.conf (see conffile.h). */
#include "config.h"
#include "conffile.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core/nodestate.h"
#include "core/tserr.h"

#ifndef TS_LOCALSTATEDIR
#define TS_LOCALSTATEDIR "/var"
#endif
#ifndef TS_DEFAULT_DRBDSETUP
#define TS_DEFAULT_DRBDSETUP "/usr/sbin/drbdsetup"
#endif

enum key_type { K_STRING, K_PATH, K_NAME, K_UINT, K_LOGLEVEL, K_BOOL };

struct key_spec {
	const char *group;
	const char *key;
	enum key_type type;
	size_t offset;
	unsigned min, max;      /* K_UINT range; K_STRING/K_NAME max length */
};

#define OFF(f) offsetof(struct ts_config, f)

static const struct key_spec keys[] = {
	{ "agent", "state_dir", K_PATH, OFF(state_dir), 0, 0 },
	{ "agent", "ipc_name", K_NAME, OFF(ipc_name), 0, 63 },
	{ "agent", "admin_group", K_STRING, OFF(admin_group), 0, 63 },
	{ "agent", "log_level", K_LOGLEVEL, OFF(log_level), 0, 0 },
	{ "cluster", "cpg_group", K_NAME, OFF(cpg_group), 0, 63 },
	{ "cluster", "node_name", K_NAME, OFF(node_name), 0, 63 },
	{ "drbd", "drbdsetup", K_PATH, OFF(drbdsetup), 0, 0 },
	{ "drbd", "poll_interval_ms", K_UINT, OFF(poll_interval_ms), 50, 60000 },
	{ "drbd", "restart_min_ms", K_UINT, OFF(restart_min_ms), 10, 60000 },
	{ "drbd", "restart_max_ms", K_UINT, OFF(restart_max_ms), 10, 600000 },
	{ "libvirt", "uri", K_STRING, OFF(libvirt_uri), 0, 1023 },
	{ "store", "backend", K_NAME, OFF(store_backend), 0, 63 },
	{ "store", "dir", K_PATH, OFF(store_dir), 0, 0 },
	{ "snapshot", "freeze_timeout_ms", K_UINT, OFF(freeze_timeout_ms), 100, 50000 },
	{ "snapshot", "drain", K_BOOL, OFF(drain), 0, 0 },
	{ "snapshot", "max_holds", K_UINT, OFF(max_holds), 1, 64 },
};

static const struct { const char *name; int level; } log_levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static struct ts_config *config_defaults(void)
{
	struct ts_config *c = calloc(1, sizeof(*c));

	if (!c)
		abort();
	c->state_dir = xstrdup(TS_LOCALSTATEDIR "/lib/twinsnap");
	c->ipc_name = xstrdup("twinsnap");
	c->admin_group = xstrdup("twinsnap");
	c->log_level = LOG_INFO;
	c->cpg_group = xstrdup("twinsnap");
	c->node_name = NULL;
	c->drbdsetup = xstrdup(TS_DEFAULT_DRBDSETUP);
	c->poll_interval_ms = 1000;
	c->restart_min_ms = 500;
	c->restart_max_ms = 30000;
	c->libvirt_uri = xstrdup("qemu:///system");
	c->store_backend = xstrdup("reflink");
	c->store_dir = xstrdup(TS_LOCALSTATEDIR "/lib/twinsnap/volumes");
	c->freeze_timeout_ms = 10000;
	c->drain = true;
	c->max_holds = 8;
	return c;
}

void ts_config_free(struct ts_config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->state_dir);
	free(c->ipc_name);
	free(c->admin_group);
	free(c->cpg_group);
	free(c->node_name);
	free(c->drbdsetup);
	free(c->libvirt_uri);
	free(c->store_backend);
	free(c->store_dir);
	free(c);
}

static int fail(char **errmsg, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char **errmsg, const char *path, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (asprintf(errmsg, "%s: %s", path, msg) < 0)
		abort();
	free(msg);
	return TS_ECONFIG;
}

static const struct key_spec *find_key(const char *group, const char *key)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].group, group) == 0 && strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

static bool group_known(const char *group)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].group, group) == 0)
			return true;
	return false;
}

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Store one value into @c after checking it against @k; 0 or TS_ECONFIG. */
static int set_value(struct ts_config *c, const struct key_spec *k, const char *v,
		     const char *path, char **errmsg)
{
	char **sp = (char **)((char *)c + k->offset);
	char *end;
	unsigned long n;

	if (!g_utf8_validate(v, -1, NULL) || has_control_chars(v))
		return fail(errmsg, path, "[%s] %s: value is not printable UTF-8",
			    k->group, k->key);
	switch (k->type) {
	case K_PATH:
		if (v[0] != '/')
			return fail(errmsg, path, "[%s] %s: '%s' is not an absolute path",
				    k->group, k->key, v);
		break;
	case K_NAME:
		if (!ts_node_name_valid(v) || strlen(v) > k->max)
			return fail(errmsg, path,
				    "[%s] %s: '%s' is not a valid name (1-%u of A-Z a-z 0-9 . _ -)",
				    k->group, k->key, v, k->max);
		break;
	case K_STRING:
		if (strlen(v) > k->max)
			return fail(errmsg, path, "[%s] %s: longer than %u characters",
				    k->group, k->key, k->max);
		break;
	case K_UINT:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || v[0] == '-' || n < k->min || n > k->max)
			return fail(errmsg, path, "[%s] %s: '%s' is not a number in %u..%u",
				    k->group, k->key, v, k->min, k->max);
		*(unsigned *)((char *)c + k->offset) = (unsigned)n;
		return 0;
	case K_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0) {
			*(bool *)((char *)c + k->offset) = true;
			return 0;
		}
		if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0) {
			*(bool *)((char *)c + k->offset) = false;
			return 0;
		}
		return fail(errmsg, path, "[%s] %s: '%s' is not yes or no", k->group, k->key, v);
	case K_LOGLEVEL:
		for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
			if (strcmp(log_levels[i].name, v) == 0) {
				c->log_level = log_levels[i].level;
				return 0;
			}
		}
		return fail(errmsg, path,
			    "[%s] %s: '%s' is not one of error, warning, notice, info, debug",
			    k->group, k->key, v);
	}
	free(*sp);
	*sp = xstrdup(v);
	return 0;
}

static int apply_file(struct ts_config *c, GKeyFile *kf, const char *path, char **errmsg)
{
	gchar **groups = g_key_file_get_groups(kf, NULL);
	int rc = 0;

	for (gchar **g = groups; *g && rc == 0; g++) {
		gchar **names;

		if (!group_known(*g)) {
			rc = fail(errmsg, path, "unknown group [%s]", *g);
			break;
		}
		names = g_key_file_get_keys(kf, *g, NULL, NULL);
		for (gchar **k = names; names && *k && rc == 0; k++) {
			const struct key_spec *spec = find_key(*g, *k);
			gchar *v;

			if (!spec) {
				rc = fail(errmsg, path, "unknown key '%s' in [%s]", *k, *g);
				break;
			}
			v = g_key_file_get_string(kf, *g, *k, NULL);
			if (!v) {
				rc = fail(errmsg, path,
					  "[%s] %s: value is not printable UTF-8 or has a bad escape",
					  *g, *k);
				break;
			}
			rc = set_value(c, spec, v, path, errmsg);
			g_free(v);
		}
		g_strfreev(names);
	}
	g_strfreev(groups);
	if (rc == 0 && c->restart_max_ms < c->restart_min_ms)
		rc = fail(errmsg, path, "[drbd] restart_max_ms (%u) is below restart_min_ms (%u)",
			  c->restart_max_ms, c->restart_min_ms);
	return rc;
}

int ts_config_load(const char *path, bool must_exist, struct ts_config **out, char **errmsg)
{
	struct ts_config *c = config_defaults();
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;
	int rc = 0;

	*out = NULL;
	*errmsg = NULL;
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
		if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT) && !must_exist) {
			g_clear_error(&gerr);
			goto done;
		}
		if (gerr->domain == G_FILE_ERROR)
			rc = fail(errmsg, path, "cannot read: %s", gerr->message);
		else
			rc = fail(errmsg, path, "syntax error: %s", gerr->message);
		g_clear_error(&gerr);
		goto fail_free;
	}
	c->path = xstrdup(path);
	rc = apply_file(c, kf, path, errmsg);
	if (rc < 0)
		goto fail_free;
done:
	g_key_file_free(kf);
	*out = c;
	return 0;

fail_free:
	g_key_file_free(kf);
	ts_config_free(c);
	return rc;
}
