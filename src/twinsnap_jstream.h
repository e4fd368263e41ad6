/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap_jstream — one JSON document {"KEY":[ROW, ...]} written a row at a
 * time, so that the CLI prints a list of any length in bounded memory
 * (`snapshot list` of 100,000 rows is ~48 MB of pretty JSON).  A row is
 * either a json-c object, or written member by member with the calls below
 * (for speed: no object is built).  Either way the bytes are those json-c
 * prints for the whole document with JSON_C_TO_STRING_NOSLASHESCAPE, pretty
 * (one member per line, two spaces per level) or plain, which
 * tests/check_jstream holds it to.  Pure: no I/O beyond the FILE.
 */
#ifndef TS_TWINSNAP_JSTREAM_H
#define TS_TWINSNAP_JSTREAM_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSTREAM_MAX_DEPTH 8     /* containers open at once, the document's two included */

struct jstream {
	FILE *f;
	char *buf;              /* what is not on @f yet (rows go out in blocks) */
	size_t len, cap;
	bool pretty;
	bool open;              /* begun and not yet ended */
	size_t rows;            /* written so far */
	int depth;              /* containers open */
	bool after_key;         /* a member's key is out, its value is next */
	bool is_array[JSTREAM_MAX_DEPTH];
	bool has_items[JSTREAM_MAX_DEPTH];
};

/**
 * Start the document on @f: '{', @key and the array's '['.  @key must be
 * plain ASCII that JSON does not escape ("snapshots").  @pretty as
 * JSON_C_TO_STRING_PRETTY, else JSON_C_TO_STRING_PLAIN.
 */
void jstream_begin(struct jstream *js, FILE *f, const char *key, bool pretty);

/** Write out what is buffered (a page of rows) and fflush @f. */
void jstream_flush(struct jstream *js);

/** Append @row (any JSON value) to the array and drop the reference to it. */
void jstream_row(struct jstream *js, struct json_object *row);

/*
 * A row written by hand: jstream_open(js, '{'), then for each member
 * jstream_key() and one value (a string, a number, or a container opened
 * with jstream_open() and closed with jstream_close()), then
 * jstream_close(js, '}').  Keys and string values are escaped as json-c
 * escapes them; invalid UTF-8 in them becomes U+FFFD (text_utf8_fix()).
 * Containers nest at most JSTREAM_MAX_DEPTH deep; a misuse is a bug (abort).
 */
void jstream_open(struct jstream *js, char bracket);    /* '{' or '[' */
void jstream_close(struct jstream *js, char bracket);   /* '}' or ']' */
void jstream_key(struct jstream *js, const char *key);
/** A key that needs no escaping (a literal of our own: ASCII, no '"', '\\' or controls). */
void jstream_key_plain(struct jstream *js, const char *key);
void jstream_str(struct jstream *js, const char *s);
void jstream_u64(struct jstream *js, uint64_t v);

/**
 * Close the array and the document, with a final newline, write it all out
 * and release the buffer.  When @error is
 * not NULL the document also gets an "error" member with it as its value
 * (a failure after some rows were written: the document stays one valid
 * JSON text, and says it is incomplete); the reference is dropped.
 */
void jstream_end(struct jstream *js, struct json_object *error);

#endif
