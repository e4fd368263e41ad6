/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap_jstream — one JSON document {"KEY":[ROW, ...]} written a row at a
 * time, so that the CLI prints a list of any length in bounded memory
 * (`snapshot list` of 100,000 rows is ~48 MB of pretty JSON).  Each row is
 * rendered by json-c and only the frame around the rows is written here, so
 * the bytes are those json-c prints for the whole document: pretty (one key
 * per line, two spaces per level) or plain.  Pure: no I/O beyond the FILE.
 */
#ifndef TS_TWINSNAP_JSTREAM_H
#define TS_TWINSNAP_JSTREAM_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct jstream {
	FILE *f;
	bool pretty;
	bool open;              /* begun and not yet ended */
	size_t rows;            /* written so far */
};

/**
 * Start the document on @f: '{', @key and the array's '['.  @key must be
 * plain ASCII that JSON does not escape ("snapshots").  @pretty as
 * JSON_C_TO_STRING_PRETTY, else JSON_C_TO_STRING_PLAIN.
 */
void jstream_begin(struct jstream *js, FILE *f, const char *key, bool pretty);

/** Append @row (any JSON value) to the array and drop the reference to it. */
void jstream_row(struct jstream *js, struct json_object *row);

/**
 * Close the array and the document, with a final newline.  When @error is
 * not NULL the document also gets an "error" member with it as its value
 * (a failure after some rows were written: the document stays one valid
 * JSON text, and says it is incomplete); the reference is dropped.
 */
void jstream_end(struct jstream *js, struct json_object *error);

#endif
