/* SPDX-License-Identifier: GPL-2.0-or-later */
/* twinsnap_text — terminal-safe text, widths, times and sizes (see twinsnap_text.h). */
#include "config.h"
#include "twinsnap_text.h"

#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <wchar.h>

static const char ELLIPSIS[] = "\xe2\x80\xa6";      /* U+2026, one column */
static const char REPLACEMENT[] = "\xef\xbf\xbd";   /* U+FFFD */

/* wcwidth() is only meaningful for Unicode under a UTF-8 LC_CTYPE. */
static bool have_wcwidth;

static bool ctype_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "UTF8") == 0;
}

void text_init(void)
{
	tzset();        /* localtime_r() need not */
	if (setlocale(LC_CTYPE, "") && ctype_is_utf8()) {
		have_wcwidth = true;
		return;
	}
	have_wcwidth = setlocale(LC_CTYPE, "C.UTF-8") && ctype_is_utf8();
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fputs("twinsnap: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/*
 * Decode the code point at @s into *@cp.  Returns its length in bytes, or
 * 0 when @s does not start with a valid UTF-8 sequence (the terminating
 * NUL is not a continuation byte, so a cut sequence is invalid, not read
 * past).
 */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	c &= 0x7fu >> len;              /* the lead byte's payload bits */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Characters that move the cursor, recolour, or reorder what follows. */
static bool is_unsafe(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return true;
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x2028 || cp == 0x2029;
}

static int cp_width(uint32_t cp)
{
	if (cp < 0x80 || !have_wcwidth)
		return 1;
	return wcwidth((wchar_t)cp);
}

/* One printable unit of input: its output bytes and columns. */
struct unit {
	const char *bytes;
	size_t len;
	int width;
};

/* Classify the unit at @s into *@u; returns how many input bytes it used. */
static size_t next_unit(const char *s, struct unit *u)
{
	uint32_t cp;
	size_t n = utf8_decode((const unsigned char *)s, &cp);
	int w = n ? cp_width(cp) : -1;

	if (n == 0 || w < 0 || is_unsafe(cp)) {
		u->bytes = "?";
		u->len = 1;
		u->width = 1;
		return n ? n : 1;
	}
	u->bytes = s;
	u->len = n;
	u->width = w;
	return n;
}

int text_width(const char *s)
{
	struct unit u;
	int w = 0;

	while (*s) {
		s += next_unit(s, &u);
		w += u.width;
	}
	return w;
}

char *text_safe(const char *s, int max_cols, int *width)
{
	/* '?' is never longer than what it replaces: input + ellipsis + NUL. */
	char *out = xmalloc(strlen(s) + sizeof(ELLIPSIS));
	bool cut = max_cols > 0 && text_width(s) > max_cols;
	int limit = cut ? max_cols - 1 : max_cols, w = 0;
	size_t len = 0;
	struct unit u;

	while (*s) {
		size_t used = next_unit(s, &u);

		if (cut && w + u.width > limit)
			break;
		memcpy(out + len, u.bytes, u.len);
		len += u.len;
		w += u.width;
		s += used;
	}
	if (cut) {
		memcpy(out + len, ELLIPSIS, sizeof(ELLIPSIS) - 1);
		len += sizeof(ELLIPSIS) - 1;
		w += 1;
	}
	out[len] = '\0';
	if (width)
		*width = w;
	return out;
}

void text_cell(FILE *f, const char *s, int min_cols, int max_cols)
{
	int w;
	char *safe = text_safe(s, max_cols, &w);

	fputs(safe, f);
	for (; w < min_cols; w++)
		fputc(' ', f);
	free(safe);
}

bool text_utf8_valid(const char *s)
{
	uint32_t cp;

	while (*s) {
		size_t n = utf8_decode((const unsigned char *)s, &cp);

		if (n == 0)
			return false;
		s += n;
	}
	return true;
}

char *text_utf8_fix(const char *s)
{
	char *out = xmalloc(strlen(s) * (sizeof(REPLACEMENT) - 1) + 1);
	size_t len = 0;
	uint32_t cp;

	while (*s) {
		size_t n = utf8_decode((const unsigned char *)s, &cp);

		if (n == 0) {
			memcpy(out + len, REPLACEMENT, sizeof(REPLACEMENT) - 1);
			len += sizeof(REPLACEMENT) - 1;
			s++;
			continue;
		}
		memcpy(out + len, s, n);
		len += n;
		s += n;
	}
	out[len] = '\0';
	return out;
}

static void format_time(int64_t ms, bool utc, char out[TEXT_TIME_LEN])
{
	/* Round towards minus infinity, so -1 ms is the second before the epoch. */
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;
	size_t n = 0;

	if (utc && gmtime_r(&t, &tm))
		n = strftime(out, TEXT_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else if (!utc && localtime_r(&t, &tm))
		n = strftime(out, TEXT_TIME_LEN, "%Y-%m-%d %H:%M:%S", &tm);
	if (n == 0)
		snprintf(out, TEXT_TIME_LEN, "?");
}

void text_time_local(int64_t ms, char out[TEXT_TIME_LEN])
{
	format_time(ms, false, out);
}

static void two_digits(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * strftime() is the largest cost of a row in `--json snapshot list` after
 * the JSON itself: years 1000-9999 (four digits, as %Y prints them) are
 * formatted here, the same characters; strftime() does the rest.
 */
void text_time_utc(int64_t ms, char out[TEXT_TIME_LEN])
{
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;
	int year;

	if (!gmtime_r(&t, &tm) || tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900) {
		format_time(ms, true, out);
		return;
	}
	year = tm.tm_year + 1900;
	two_digits(out, year / 100);
	two_digits(out + 2, year % 100);
	out[4] = '-';
	two_digits(out + 5, tm.tm_mon + 1);
	out[7] = '-';
	two_digits(out + 8, tm.tm_mday);
	out[10] = 'T';
	two_digits(out + 11, tm.tm_hour);
	out[13] = ':';
	two_digits(out + 14, tm.tm_min);
	out[16] = ':';
	two_digits(out + 17, tm.tm_sec);
	out[19] = 'Z';
	out[20] = '\0';
}

void text_size(uint64_t bytes, char out[TEXT_SIZE_LEN])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, TEXT_SIZE_LEN, "%u B", (unsigned)bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(out, TEXT_SIZE_LEN, "%.1f %s", v, units[u]);
}
