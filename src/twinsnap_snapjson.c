/* SPDX-License-Identifier: GPL-2.0-or-later */
/* twinsnap_snapjson — a snapshot in the CLI's JSON (see twinsnap_snapjson.h). */
#include "config.h"
#include "twinsnap_snapjson.h"

#include <stdlib.h>
#include <string.h>

#include "twinsnap_text.h"

/* Beyond this many volumes a row is rendered by json-c (see write_fast()). */
#define FAST_MAX_VOLUMES 32

const char *snapjson_requested(const Twinsnap__Snapshot *s)
{
	return s->consistency_requested[0] ? s->consistency_requested : "crash";
}

/*
 * It is settled at the freeze, so before it (phase "created") whatever the
 * field holds is a default, not a fact.
 */
const char *snapjson_achieved(const Twinsnap__Snapshot *s)
{
	if (!s->consistency_achieved[0] || strcmp(s->phase, "created") == 0)
		return NULL;
	return s->consistency_achieved;
}

const char *snapjson_shown(const Twinsnap__Snapshot *s)
{
	const char *achieved = snapjson_achieved(s);

	return achieved ? achieved : snapjson_requested(s);
}

const char *snapjson_state(const Twinsnap__Snapshot *s)
{
	if (s->state[0])
		return s->state;
	return strcmp(s->phase, "normal") == 0 ? "normal" : "broken";
}

struct json_object *snapjson_str(const char *s)
{
	struct json_object *o;
	char *fixed;

	if (text_utf8_valid(s))
		return json_object_new_string(s);
	fixed = text_utf8_fix(s);
	o = json_object_new_string(fixed);
	free(fixed);
	return o;
}

static struct json_object *str_array(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, snapjson_str(v[i]));
	return a;
}

static size_t n_volume_bytes(const Twinsnap__Snapshot *s)
{
	return s->n_volumes < s->n_volume_bytes ? s->n_volumes : s->n_volume_bytes;
}

static struct json_object *volume_bytes_json(const Twinsnap__Snapshot *s)
{
	struct json_object *o = json_object_new_object();
	size_t n = n_volume_bytes(s);

	for (size_t i = 0; i < n; i++) {
		char *key = text_utf8_fix(s->volumes[i]);

		json_object_object_add(o, key, json_object_new_uint64(s->volume_bytes[i]));
		free(key);
	}
	return o;
}

struct json_object *snapjson_object(const Twinsnap__Snapshot *s)
{
	struct json_object *o = json_object_new_object();
	char created[TEXT_TIME_LEN];

	text_time_utc(s->created_at_ms, created);
	json_object_object_add(o, "id", snapjson_str(s->id));
	json_object_object_add(o, "vm", snapjson_str(s->vm));
	json_object_object_add(o, "name", snapjson_str(s->name));
	json_object_object_add(o, "description", snapjson_str(s->description));
	json_object_object_add(o, "state", snapjson_str(snapjson_state(s)));
	json_object_object_add(o, "volumes", str_array(s->volumes, s->n_volumes));
	json_object_object_add(o, "consistency", snapjson_str(snapjson_shown(s)));
	json_object_object_add(o, "created_at", json_object_new_string(created));
	json_object_object_add(o, "committed_on", str_array(s->committed_on, s->n_committed_on));
	json_object_object_add(o, "phase", snapjson_str(s->phase));
	json_object_object_add(o, "consistency_requested", snapjson_str(snapjson_requested(s)));
	json_object_object_add(o, "volume_bytes", volume_bytes_json(s));
	return o;
}

/* ---- written straight into a list ------------------------------------------------- */

static void put_member(struct jstream *js, const char *key, const char *value)
{
	jstream_key_plain(js, key);
	jstream_str(js, value);
}

static void put_str_array(struct jstream *js, const char *key, char *const *v, size_t n)
{
	jstream_key_plain(js, key);
	jstream_open(js, '[');
	for (size_t i = 0; i < n; i++)
		jstream_str(js, v[i]);
	jstream_close(js, ']');
}

/*
 * Whether the volume_bytes keys can be written as they come: json-c keeps
 * one member per key (a repeated key keeps its first place and takes the
 * last value), which only matters for names repeated after U+FFFD fixing.
 * The agent never sends such rows; json-c renders them when it does.
 */
static bool volumes_plain(const Twinsnap__Snapshot *s)
{
	size_t n = n_volume_bytes(s);

	if (n > FAST_MAX_VOLUMES)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!text_utf8_valid(s->volumes[i]))
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->volumes[i], s->volumes[j]) == 0)
				return false;
	}
	return true;
}

void snapjson_write(struct jstream *js, const Twinsnap__Snapshot *s)
{
	char created[TEXT_TIME_LEN];
	size_t n = n_volume_bytes(s);

	if (!volumes_plain(s)) {
		jstream_row(js, snapjson_object(s));
		return;
	}
	text_time_utc(s->created_at_ms, created);
	/* the members of snapjson_object(), in its order */
	jstream_open(js, '{');
	put_member(js, "id", s->id);
	put_member(js, "vm", s->vm);
	put_member(js, "name", s->name);
	put_member(js, "description", s->description);
	put_member(js, "state", snapjson_state(s));
	put_str_array(js, "volumes", s->volumes, s->n_volumes);
	put_member(js, "consistency", snapjson_shown(s));
	put_member(js, "created_at", created);
	put_str_array(js, "committed_on", s->committed_on, s->n_committed_on);
	put_member(js, "phase", s->phase);
	put_member(js, "consistency_requested", snapjson_requested(s));
	jstream_key_plain(js, "volume_bytes");
	jstream_open(js, '{');
	for (size_t i = 0; i < n; i++) {
		jstream_key(js, s->volumes[i]);
		jstream_u64(js, s->volume_bytes[i]);
	}
	jstream_close(js, '}');
	jstream_close(js, '}');
}
