/* SPDX-License-Identifier: GPL-2.0-or-later */
/* twinsnap_jstream — a {"KEY":[...]} document written a row at a time (see twinsnap_jstream.h). */
#include "config.h"
#include "twinsnap_jstream.h"

#include <stdlib.h>
#include <string.h>

#include "twinsnap_text.h"

#define JSTREAM_FLAGS JSON_C_TO_STRING_NOSLASHESCAPE

static const char spaces[2 * JSTREAM_MAX_DEPTH + 1] = "                ";

/* Rows are written to a buffer and go out in blocks: fwrite per fragment costs more than the JSON. */
#define JSTREAM_BLOCK (256u << 10)

/* Room for @len more bytes. */
static inline void reserve(struct jstream *js, size_t len)
{
	if (js->len + len <= js->cap)
		return;
	js->cap = js->len + len > 2 * js->cap ? js->len + len : 2 * js->cap;
	js->buf = realloc(js->buf, js->cap);
	if (!js->buf)
		abort();        /* the CLI has no use for half a document */
}

static void put(struct jstream *js, const char *s, size_t len)
{
	reserve(js, len);
	memcpy(js->buf + js->len, s, len);
	js->len += len;
}

static inline void putch(struct jstream *js, char c)
{
	reserve(js, 1);
	js->buf[js->len++] = c;
}

/* Out to the FILE once a block is full. */
static void spill(struct jstream *js)
{
	if (js->len < JSTREAM_BLOCK)
		return;
	fwrite(js->buf, 1, js->len, js->f);
	js->len = 0;
}

void jstream_flush(struct jstream *js)
{
	fwrite(js->buf, 1, js->len, js->f);
	js->len = 0;
	fflush(js->f);
}

/* Pretty, a new line indented to the level of what is inside the container open. */
static void newline(struct jstream *js, int depth)
{
	size_t n = 2 * (size_t)depth;

	if (!js->pretty)
		return;
	reserve(js, n + 1);
	js->buf[js->len] = '\n';
	memset(js->buf + js->len + 1, ' ', n);
	js->len += n + 1;
}

/*
 * @s quoted as json-c quotes it (NOSLASHESCAPE): the two-letter escapes,
 * other controls as \u00xx, the rest as it is.  Returns whether it was
 * all ASCII (then it is valid UTF-8 without a second look).
 */
static bool put_quoted(struct jstream *js, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c, high = 0;
	const char *run = s;

	putch(js, '"');
	for (;;) {
		char esc[6] = { '\\', 0 };
		size_t n = 2;

		while ((c = (unsigned char)*s) >= 0x20 && c != '"' && c != '\\') {
			high |= c;
			s++;
		}
		put(js, run, (size_t)(s - run));
		if (c == '\0')
			break;
		switch (c) {
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		put(js, esc, n);
		run = ++s;
	}
	putch(js, '"');
	return !(high & 0x80);
}

/* A string or key; invalid UTF-8, which JSON cannot carry, as U+FFFD (text_utf8_fix()). */
static void put_text(struct jstream *js, const char *s)
{
	size_t mark = js->len;
	char *fixed;

	if (put_quoted(js, s) || text_utf8_valid(s))
		return;
	js->len = mark;
	fixed = text_utf8_fix(s);
	put_quoted(js, fixed);
	free(fixed);
}

/* Before a value: after its key, nothing; in an array, the separator and its line. */
static void value_prefix(struct jstream *js)
{
	int d = js->depth;

	if (js->after_key) {
		js->after_key = false;
		return;
	}
	if (d < 1 || !js->is_array[d - 1])
		abort();        /* a value in an object needs a key first */
	if (js->has_items[d - 1])
		putch(js, ',');
	js->has_items[d - 1] = true;
	if (d == 2)
		js->rows++;
	newline(js, d);
}

/*
 * Write json-c's rendering of @o as a value at the current depth.  Pretty,
 * json-c indents a value by two spaces per level, and its own rendering of
 * @o starts at level 0: every line after a newline gets two spaces per
 * open container more.  A newline is only ever structure (strings carry
 * "\n"); the value's first line follows its key or its line's indent.
 */
static void put_value(struct jstream *js, struct json_object *o)
{
	int flags = JSTREAM_FLAGS | (js->pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN);
	const char *s = json_object_to_json_string_ext(o, flags);
	const char *nl;

	value_prefix(js);
	while (js->pretty && (nl = strchr(s, '\n'))) {
		put(js, s, (size_t)(nl - s) + 1);
		put(js, spaces, 2 * (size_t)js->depth);
		s = nl + 1;
	}
	put(js, s, strlen(s));
}

void jstream_begin(struct jstream *js, FILE *f, const char *key, bool pretty)
{
	memset(js, 0, sizeof(*js));
	js->f = f;
	js->pretty = pretty;
	js->open = true;
	putch(js, '{');
	js->depth = 1;          /* the document's object */
	jstream_key(js, key);
	jstream_open(js, '[');
}

void jstream_row(struct jstream *js, struct json_object *row)
{
	put_value(js, row);
	json_object_put(row);
	spill(js);
}

void jstream_open(struct jstream *js, char bracket)
{
	if (js->depth >= JSTREAM_MAX_DEPTH)
		abort();
	value_prefix(js);
	putch(js, bracket);
	js->is_array[js->depth] = bracket == '[';
	js->has_items[js->depth] = false;
	js->depth++;
}

void jstream_close(struct jstream *js, char bracket)
{
	if (js->depth < 1 || js->after_key || js->is_array[js->depth - 1] != (bracket == ']'))
		abort();
	js->depth--;
	/* json-c puts the closing bracket on a line of its own, also after no item */
	newline(js, js->depth);
	putch(js, bracket);
	if (js->depth == 2)
		spill(js);      /* a row is whole */
}

/* The separator and line before a member; the key is next. */
static void key_prefix(struct jstream *js)
{
	int d = js->depth;

	if (d < 1 || js->is_array[d - 1] || js->after_key)
		abort();
	if (js->has_items[d - 1])
		putch(js, ',');
	js->has_items[d - 1] = true;
	newline(js, d);
	js->after_key = true;
}

void jstream_key(struct jstream *js, const char *key)
{
	key_prefix(js);
	put_text(js, key);
	putch(js, ':');
}

void jstream_key_plain(struct jstream *js, const char *key)
{
	size_t len = strlen(key);

	key_prefix(js);
	reserve(js, len + 3);
	js->buf[js->len++] = '"';
	memcpy(js->buf + js->len, key, len);
	js->len += len;
	js->buf[js->len++] = '"';
	js->buf[js->len++] = ':';
}


void jstream_str(struct jstream *js, const char *s)
{
	value_prefix(js);
	put_text(js, s);
}

void jstream_u64(struct jstream *js, uint64_t v)
{
	char buf[24];
	size_t i = sizeof(buf);

	value_prefix(js);
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(js, buf + i, sizeof(buf) - i);
}

void jstream_end(struct jstream *js, struct json_object *error)
{
	if (js->depth != 2)
		abort();        /* rows are whole: nothing can fail inside one */
	jstream_close(js, ']');
	if (error) {
		jstream_key(js, "error");
		put_value(js, error);
		json_object_put(error);
	}
	jstream_close(js, '}');
	putch(js, '\n');
	jstream_flush(js);
	free(js->buf);
	js->buf = NULL;
	js->cap = 0;
	js->open = false;
}
