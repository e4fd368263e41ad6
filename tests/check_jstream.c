/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the CLI's streamed JSON document (twinsnap_jstream): a
 * {"snapshots":[...]} written a row at a time must be, byte for byte, what
 * json-c prints for the whole document (scripts read `--json snapshot list`
 * line by line as well as with JSON parsers), and one valid document with
 * every row once, whatever the rows' strings hold.  A snapshot row written
 * member by member (snapjson_write) must be the bytes of its json-c object.
 */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_common.h"
#include "twinsnap_jstream.h"
#include "twinsnap_snapjson.h"
#include "twinsnap_text.h"

#define FLAGS JSON_C_TO_STRING_NOSLASHESCAPE

/* Names a user may type, and worse: quotes, escapes, newlines, controls, bidi, emoji. */
static const char *const hostile[] = {
	"", "plain", "q\"uote", "back\\slash", "new\nline\r\n", "tab\there",
	"ctl\x01\x1f\x7f", "slash/es", "\xe2\x80\xae" "bidi", "caf\xc3\xa9 \xf0\x9f\x98\x80",
	"line\xe2\x80\xa8sep", "}{][,:\"", "    \"id\":\"0123456789abcdef0123456789abcdef\"",
	"bad\xff utf8\xc3", "\xed\xa0\x80surrogate", "overlong\xc0\xaf",
};
#define N_HOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* A row shaped like `snapshot list`'s, with empty and nested members. */
static struct json_object *row(size_t i)
{
	struct json_object *o = json_object_new_object(), *vols = json_object_new_array();
	struct json_object *bytes = json_object_new_object();
	char id[33];

	snprintf(id, sizeof(id), "%032zx", i);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "name", json_object_new_string(hostile[i % N_HOSTILE]));
	json_object_object_add(o, "description",
			       json_object_new_string(hostile[(i + 3) % N_HOSTILE]));
	for (size_t v = 0; v < i % 3; v++) {
		json_object_array_add(vols, json_object_new_string(hostile[(i + v) % N_HOSTILE]));
		json_object_object_add(bytes, hostile[(i + v) % N_HOSTILE],
				       json_object_new_uint64(i << 20));
	}
	json_object_object_add(o, "volumes", vols);
	json_object_object_add(o, "committed_on", json_object_new_array());
	json_object_object_add(o, "volume_bytes", bytes);
	json_object_object_add(o, "n", json_object_new_int64((int64_t)i));
	return o;
}

static struct json_object *error_obj(void)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string("agent_unreachable"));
	json_object_object_add(e, "message", json_object_new_string("lost \"it\"\n"));
	return e;
}

/* @n rows streamed (and the error, if @with_error); malloc'd text. */
static char *streamed(size_t n, bool pretty, bool with_error)
{
	struct jstream js;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	jstream_begin(&js, f, "snapshots", pretty);
	ck_assert(js.open);
	for (size_t i = 0; i < n; i++)
		jstream_row(&js, row(i));
	ck_assert_uint_eq(js.rows, n);
	jstream_end(&js, with_error ? error_obj() : NULL);
	ck_assert(!js.open);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* The same document built whole and printed by json-c (as puts() would). */
static char *whole(size_t n, bool pretty, bool with_error)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	int flags = FLAGS | (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN);
	char *out;

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, row(i));
	json_object_object_add(o, "snapshots", a);
	if (with_error)
		json_object_object_add(o, "error", error_obj());
	ck_assert_int_ge(asprintf(&out, "%s\n", json_object_to_json_string_ext(o, flags)), 0);
	json_object_put(o);
	return out;
}

static void same_bytes(size_t n, bool pretty, bool with_error)
{
	char *s = streamed(n, pretty, with_error), *w = whole(n, pretty, with_error);

	ck_assert_msg(strcmp(s, w) == 0, "%zu rows, %s%s: streamed\n%.400s\nwhole\n%.400s", n,
		      pretty ? "pretty" : "plain", with_error ? ", error" : "", s, w);
	free(s);
	free(w);
}

START_TEST(test_same_bytes_as_json_c)
{
	static const size_t counts[] = { 0, 1, 2, 3, N_HOSTILE * 3 + 1 };

	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		same_bytes(counts[k], true, false);
		same_bytes(counts[k], false, false);
		same_bytes(counts[k], true, true);
		same_bytes(counts[k], false, true);
	}
}
END_TEST

/* Many rows, as from many pages: one valid document, each row once and intact. */
START_TEST(test_one_document_every_row_once)
{
	const size_t n = 5003;
	char *s = streamed(n, true, false);
	struct json_object *doc = json_tokener_parse(s), *rows;

	ck_assert_ptr_nonnull(doc);
	ck_assert(json_object_object_get_ex(doc, "snapshots", &rows));
	ck_assert_uint_eq(json_object_array_length(rows), n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rows, i), *v;

		ck_assert(json_object_object_get_ex(r, "n", &v));
		ck_assert_int_eq(json_object_get_int64(v), (int64_t)i);
		ck_assert(json_object_object_get_ex(r, "name", &v));
		ck_assert_str_eq(json_object_get_string(v), hostile[i % N_HOSTILE]);
	}
	json_object_put(doc);
	free(s);
}
END_TEST

/* The line layout scripts grep: each row's "id" and "state"-like keys alone on a line. */
START_TEST(test_pretty_lines)
{
	char *s = streamed(N_HOSTILE, true, false), *line, *save = NULL;
	size_t ids = 0;

	ck_assert(strncmp(s, "{\n  \"snapshots\":[\n    {\n      \"id\":\"", 36) == 0);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "      \"id\":\"", 12) == 0)
			ids++;
	ck_assert_uint_eq(ids, N_HOSTILE);
	free(s);
	s = streamed(0, true, false);
	ck_assert_str_eq(s, "{\n  \"snapshots\":[\n  ]\n}\n");
	free(s);
}
END_TEST

/* A failure after rows went out: still one document, with the error last. */
START_TEST(test_error_ends_the_document)
{
	char *s = streamed(4, true, true);
	struct json_object *doc = json_tokener_parse(s), *v, *code;

	ck_assert_ptr_nonnull(doc);
	ck_assert(json_object_object_get_ex(doc, "snapshots", &v));
	ck_assert_uint_eq(json_object_array_length(v), 4);
	ck_assert(json_object_object_get_ex(doc, "error", &v));
	ck_assert(json_object_object_get_ex(v, "code", &code));
	ck_assert_str_eq(json_object_get_string(code), "agent_unreachable");
	json_object_put(doc);
	free(s);
}
END_TEST

/* ---- snapshot rows -------------------------------------------------------------- */

static char *vol_names[40 + N_HOSTILE];
static char vol_a[] = "a", vol_b[] = "b";
static char *repeated[] = { vol_a, vol_b, vol_a };

/* Snapshot @i: every string hostile, some rows odd (repeated or too many volumes). */
static void snap_fill(Twinsnap__Snapshot *s, size_t i, char *id, uint64_t *bytes, char **committed)
{
	twinsnap__snapshot__init(s);
	snprintf(id, 33, "%032zx", i);
	s->id = id;
	s->vm = (char *)hostile[(i + 1) % N_HOSTILE];
	s->name = (char *)hostile[i % N_HOSTILE];
	s->description = (char *)hostile[(i + 2) % N_HOSTILE];
	s->phase = (char *)(i % 4 == 0 ? "created" : i % 4 == 1 ? "normal" : "taken");
	s->state = (char *)(i % 5 == 0 ? "" : i % 5 == 1 ? hostile[i % N_HOSTILE] : "normal");
	s->consistency_requested = (char *)(i % 3 ? "application" : "");
	s->consistency_achieved = (char *)(i % 2 ? "crash" : "");
	s->created_at_ms = (int64_t)i * 86400123 - 1000;
	s->n_volumes = i % 7 == 6 ? 40 : i % 4;
	s->volumes = i % 7 == 5 ? repeated : vol_names + i % N_HOSTILE;
	if (i % 7 == 5)
		s->n_volumes = 3;
	s->n_volume_bytes = i % 6 == 3 ? s->n_volumes / 2 : s->n_volumes;
	for (size_t v = 0; v < s->n_volume_bytes; v++)
		bytes[v] = (uint64_t)i << v;
	s->volume_bytes = bytes;
	s->n_committed_on = i % 3;
	for (size_t c = 0; c < s->n_committed_on; c++)
		committed[c] = (char *)hostile[(i + c) % N_HOSTILE];
	s->committed_on = committed;
}

/* @n snapshot rows streamed, member by member or as json-c objects. */
static char *snaps_streamed(size_t n, bool pretty, bool by_hand)
{
	struct jstream js;
	char *buf = NULL, id[33], *committed[3];
	uint64_t bytes[40];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	jstream_begin(&js, f, "snapshots", pretty);
	for (size_t i = 0; i < n; i++) {
		Twinsnap__Snapshot s;

		snap_fill(&s, i, id, bytes, committed);
		if (by_hand)
			snapjson_write(&js, &s);
		else
			jstream_row(&js, snapjson_object(&s));
	}
	jstream_end(&js, NULL);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

START_TEST(test_snapshot_rows_by_hand)
{
	for (size_t v = 0; v < 40 + N_HOSTILE; v++)
		vol_names[v] = (char *)hostile[v % N_HOSTILE];
	for (int pretty = 0; pretty < 2; pretty++) {
		char *hand = snaps_streamed(N_HOSTILE * 7, pretty, true);
		char *obj = snaps_streamed(N_HOSTILE * 7, pretty, false);
		struct json_object *doc = json_tokener_parse(hand), *rows;

		ck_assert_msg(strcmp(hand, obj) == 0, "by hand\n%.2000s\njson-c\n%.2000s", hand, obj);
		ck_assert_ptr_nonnull(doc);
		ck_assert(json_object_object_get_ex(doc, "snapshots", &rows));
		ck_assert_uint_eq(json_object_array_length(rows), N_HOSTILE * 7);
		json_object_put(doc);
		free(hand);
		free(obj);
	}
}
END_TEST

/* The list's created_at: the same characters strftime() gives, over the years. */
START_TEST(test_time_utc)
{
	static const int64_t fixed[] = {
		0, -1, -999, -1000, -1001, 1, 999, 1000, 951782400000 /* 2000-02-29 */,
		4102444799999, 253402300799999 /* 9999-12-31T23:59:59 */, 253402300800000,
		-62167219200000 /* 0000-01-01 */, -62167219200001, -30610224000000 /* 1000-01-01 */,
		-30610224000001, INT64_MAX, INT64_MIN,
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) + 200000; i++) {
		int64_t ms = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i]
			   : (int64_t)(i * 2654435761u % 4000000u) * 86400123 - 100000000000000;
		int64_t secs = ms / 1000 - (ms % 1000 < 0);
		time_t t = (time_t)secs;
		char got[TEXT_TIME_LEN], want[TEXT_TIME_LEN] = "?";
		struct tm tm;

		text_time_utc(ms, got);
		if (gmtime_r(&t, &tm) && !strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm))
			strcpy(want, "?");
		ck_assert_msg(strcmp(got, want) == 0, "%lld ms: %s, strftime %s", (long long)ms,
			      got, want);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jstream");

	TS_ADD_TEST(s, test_same_bytes_as_json_c);
	TS_ADD_TEST(s, test_one_document_every_row_once);
	TS_ADD_TEST(s, test_pretty_lines);
	TS_ADD_TEST(s, test_error_ends_the_document);
	TS_ADD_TEST(s, test_snapshot_rows_by_hand);
	TS_ADD_TEST(s, test_time_utc);
	return ts_run_suite(s);
}
