/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap_text — turning what the agent says into text that is safe on an
 * admin's terminal and lines up in tables: names and descriptions are any
 * UTF-8 a user typed (or anything, if something upstream is broken), so
 * control characters, bidi overrides and invalid bytes never reach the
 * terminal as such.  Also the CLI's time and size formats.  Pure functions,
 * no I/O beyond the FILE given; unit-testable on their own.
 */
#ifndef TS_TWINSNAP_TEXT_H
#define TS_TWINSNAP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/**
 * Call once before the rest: selects a UTF-8 LC_CTYPE (the user's, else
 * C.UTF-8) so that column widths of wide and combining characters are
 * right.  Output is UTF-8 whatever the locale.
 */
void text_init(void);

/**
 * @s made safe for a terminal: C0/C1 control characters, DEL, bidi
 * controls, line/paragraph separators and invalid UTF-8 become '?'.  When
 * @max_cols > 0 and the result is wider, it is cut to fit and ends in "…".
 * Returns a malloc'd string (the caller frees); *@width (if not NULL) gets
 * its width in terminal columns.
 */
char *text_safe(const char *s, int max_cols, int *width);

/** Terminal columns of text_safe(@s, 0, …). */
int text_width(const char *s);

/** Print text_safe(@s, @max_cols) on @f, padded with spaces to @min_cols. */
void text_cell(FILE *f, const char *s, int min_cols, int max_cols);

/** Whether @s is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool text_utf8_valid(const char *s);

/** @s with each invalid UTF-8 byte replaced by U+FFFD; malloc'd (for JSON). */
char *text_utf8_fix(const char *s);

#define TEXT_TIME_LEN 32

/** @ms since the epoch as local time "YYYY-MM-DD HH:MM:SS". */
void text_time_local(int64_t ms, char out[TEXT_TIME_LEN]);

/** @ms since the epoch as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ". */
void text_time_utc(int64_t ms, char out[TEXT_TIME_LEN]);

#define TEXT_SIZE_LEN 24

/** @bytes for humans: "512 B", "1.5 KiB", "10.0 GiB". */
void text_size(uint64_t bytes, char out[TEXT_SIZE_LEN]);

#endif
