/* SPDX-License-Identifier: GPL-2.0-or-later */
/* twinsnap_jstream — a {"KEY":[...]} document written a row at a time (see twinsnap_jstream.h). */
#include "config.h"
#include "twinsnap_jstream.h"

#include <string.h>

#define JSTREAM_FLAGS JSON_C_TO_STRING_NOSLASHESCAPE
#define JSTREAM_MAX_DEPTH 2     /* a row in the array */

static const char indent[2 * JSTREAM_MAX_DEPTH + 1] = "    ";

/*
 * Write json-c's rendering of @o as a value @depth levels down.  Pretty,
 * json-c indents a value by two spaces per level, and its own rendering of
 * @o starts at level 0: every line after a newline gets 2 * @depth more
 * spaces.  A newline is only ever structure (strings carry "\n"); the
 * value's first line follows whatever the caller wrote.
 */
static void put_value(struct jstream *js, struct json_object *o, int depth)
{
	int flags = JSTREAM_FLAGS | (js->pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN);
	const char *s = json_object_to_json_string_ext(o, flags);
	const char *nl;

	while (js->pretty && (nl = strchr(s, '\n'))) {
		fwrite(s, 1, (size_t)(nl - s) + 1, js->f);
		fwrite(indent, 1, 2 * (size_t)depth, js->f);
		s = nl + 1;
	}
	fputs(s, js->f);
}

void jstream_begin(struct jstream *js, FILE *f, const char *key, bool pretty)
{
	js->f = f;
	js->pretty = pretty;
	js->open = true;
	js->rows = 0;
	fprintf(f, pretty ? "{\n  \"%s\":[" : "{\"%s\":[", key);
}

void jstream_row(struct jstream *js, struct json_object *row)
{
	if (js->rows++)
		fputc(',', js->f);
	if (js->pretty)
		fputs("\n    ", js->f);
	put_value(js, row, 2);
	json_object_put(row);
}

void jstream_end(struct jstream *js, struct json_object *error)
{
	fputs(js->pretty ? "\n  ]" : "]", js->f);
	if (error) {
		fputs(js->pretty ? ",\n  \"error\":" : ",\"error\":", js->f);
		put_value(js, error, 1);
		json_object_put(error);
	}
	fputs(js->pretty ? "\n}\n" : "}\n", js->f);
	js->open = false;
}
