/* SPDX-License-Identifier: GPL-2.0-or-later */
/* settings — replicated cluster settings with a convergent merge rule. */
#include "config.h"
#include "core/settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nodestate.h"

#define MAINT_PREFIX "maintenance/"

struct ts_settings {
	size_t n;
	struct ts_setting items[TS_SETTINGS_MAX];
};

struct ts_settings *ts_settings_create(void)
{
	struct ts_settings *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	return s;
}

void ts_settings_destroy(struct ts_settings *s)
{
	free(s);
}

int ts_setting_validate(const char *key, const char *value)
{
	if (strncmp(key, MAINT_PREFIX, strlen(MAINT_PREFIX)) == 0) {
		if (!ts_node_name_valid(key + strlen(MAINT_PREFIX)))
			return -EINVAL;
		return strcmp(value, "on") == 0 || strcmp(value, "off") == 0 ? 0 : -EINVAL;
	}
	if (strcmp(key, "snapshots") == 0)
		return strcmp(value, "enabled") == 0 || strcmp(value, "disabled") == 0
		       ? 0 : -EINVAL;
	return -EINVAL;
}

int ts_settings_maintenance_key(const char *node, char *buf, size_t len)
{
	int n;

	if (!ts_node_name_valid(node))
		return -EINVAL;
	n = snprintf(buf, len, MAINT_PREFIX "%s", node);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static struct ts_setting *find(const struct ts_settings *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].key, key) == 0)
			return (struct ts_setting *)&s->items[i];
	return NULL;
}

const struct ts_setting *ts_settings_get(const struct ts_settings *s, const char *key)
{
	return find(s, key);
}

int ts_settings_propose(const struct ts_settings *s, const char *key,
			const char *value, uint32_t origin, struct ts_setting *out)
{
	const struct ts_setting *cur;

	if (ts_setting_validate(key, value) < 0)
		return -EINVAL;
	cur = find(s, key);
	memset(out, 0, sizeof(*out));
	snprintf(out->key, sizeof(out->key), "%s", key);
	snprintf(out->value, sizeof(out->value), "%s", value);
	out->version = cur ? cur->version + 1 : 1;
	out->origin = origin;
	return 0;
}

/* The one ordering both PMs apply: version first, then origin nodeid. */
static bool newer(const struct ts_setting *a, const struct ts_setting *b)
{
	if (a->version != b->version)
		return a->version > b->version;
	return a->origin > b->origin;
}

int ts_settings_merge(struct ts_settings *s, const struct ts_setting *in)
{
	struct ts_setting *cur;
	bool changed;

	if (memchr(in->key, '\0', sizeof(in->key)) == NULL ||
	    memchr(in->value, '\0', sizeof(in->value)) == NULL ||
	    ts_setting_validate(in->key, in->value) < 0)
		return -EINVAL;
	cur = find(s, in->key);
	if (!cur) {
		if (s->n == TS_SETTINGS_MAX)
			return -ENOSPC;
		s->items[s->n++] = *in;
		return 1;
	}
	if (!newer(in, cur))
		return 0;
	changed = strcmp(cur->value, in->value) != 0;
	*cur = *in;
	return changed ? 1 : 0;
}

size_t ts_settings_count(const struct ts_settings *s)
{
	return s->n;
}

const struct ts_setting *ts_settings_at(const struct ts_settings *s, size_t i)
{
	return i < s->n ? &s->items[i] : NULL;
}

bool ts_settings_maintenance(const struct ts_settings *s, const char *node)
{
	char key[TS_SETTING_KEY_MAX];
	const struct ts_setting *st;

	if (ts_settings_maintenance_key(node, key, sizeof(key)) < 0)
		return false;
	st = find(s, key);
	return st && strcmp(st->value, "on") == 0;
}

bool ts_settings_snapshots_enabled(const struct ts_settings *s)
{
	const struct ts_setting *st = find(s, "snapshots");

	return !st || strcmp(st->value, "enabled") == 0;
}
