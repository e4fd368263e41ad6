/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapshot — names, parsers and validators for the snapshot row (see
 * snapshot.h).  Pure: no I/O, no globals.  The validators are the one place
 * that decides what text may enter a snapshot row, so UTF-8 is checked by
 * hand here rather than trusted to a locale.
 */
#include "config.h"
#include "core/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum ts_snap_state ts_snapshot_state(const struct ts_snapshot *s)
{
	return s->phase == TS_PH_NORMAL ? TS_SNAP_NORMAL : TS_SNAP_BROKEN;
}

static const char *const phase_names[TS_PH__COUNT] = {
	[TS_PH_CREATED] = "created",
	[TS_PH_FROZEN] = "frozen",
	[TS_PH_TAKEN] = "taken",
	[TS_PH_COMMITTING] = "committing",
	[TS_PH_NORMAL] = "normal",
	[TS_PH_PENDING] = "pending",
};

static const char *const consistency_names[] = {
	[TS_CONS_CRASH] = "crash",
	[TS_CONS_APPLICATION] = "application",
	[TS_CONS_AUTO] = "auto",
};

#define N_CONSISTENCY (sizeof(consistency_names) / sizeof(consistency_names[0]))

const char *ts_snap_phase_str(enum ts_snap_phase p)
{
	if ((unsigned)p >= TS_PH__COUNT)
		return "unknown";
	return phase_names[p];
}

const char *ts_consistency_str(enum ts_consistency c)
{
	if ((unsigned)c >= N_CONSISTENCY)
		return "unknown";
	return consistency_names[c];
}

int ts_consistency_parse(const char *s, enum ts_consistency *out)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < N_CONSISTENCY; i++) {
		if (strcmp(s, consistency_names[i]) == 0) {
			*out = (enum ts_consistency)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool ts_snapshot_id_valid(const char *id)
{
	size_t i;

	if (!id)
		return false;
	for (i = 0; i < TS_SNAP_ID_LEN; i++) {
		char c = id[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;   /* also stops at an early NUL */
	}
	return id[i] == '\0';
}

/* The bytes of a plain name (a catalog read checks every row's: a table). */
#define PLAIN_RANGE(a, z) [a ... z] = true
static const bool plain_byte[256] = {
	PLAIN_RANGE('a', 'z'), PLAIN_RANGE('A', 'Z'), PLAIN_RANGE('0', '9'),
	['.'] = true, ['_'] = true, ['-'] = true,
};

/* [A-Za-z0-9._-], 1..max-1 bytes, not starting with '.' or '-'. */
static bool plain_name_valid(const char *name, size_t max)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t i;

	if (!name || name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; p[i]; i++)
		if (!plain_byte[p[i]] || i + 1 >= max)
			return false;
	return true;
}

bool ts_volume_name_valid(const char *name)
{
	return plain_name_valid(name, TS_VOLUME_NAME_MAX);
}

bool ts_vm_name_valid(const char *name)
{
	return plain_name_valid(name, TS_VM_NAME_LEN_MAX);
}

/*
 * Decode the UTF-8 sequence at @p into *cp and return its length (1..4), or
 * 0 when it is not the shortest form of a Unicode scalar value: overlong
 * forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code
 * points above U+10FFFF (F4 90.., F5..FF) are refused by narrowing the range
 * of the second byte.  @p is NUL-terminated, and NUL is never a continuation
 * byte, so checking the bytes in order never reads past the terminator.
 */
static size_t utf8_decode(const unsigned char *p, unsigned long *cp)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0fu;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07u;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;       /* stray continuation byte, C0/C1, F5..FF */
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3fu);
	}
	return len;
}

/*
 * Valid UTF-8 of fewer than @max bytes without control characters (C0,
 * DEL and the C1 range U+0080..U+009F) other than those in @allowed.
 */
bool ts_utf8_text_valid(const char *s, size_t max, const char *allowed)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0;

	if (!s)
		return false;
	while (p[off]) {
		unsigned long cp;
		size_t len = utf8_decode(p + off, &cp);

		if (len == 0)
			return false;
		if ((cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) &&
		    (cp == 0 || !strchr(allowed, (int)cp)))
			return false;
		off += len;
		if (off >= max)
			return false;
	}
	return true;
}

bool ts_snapshot_name_valid(const char *name)
{
	return ts_utf8_text_valid(name, TS_SNAP_NAME_MAX, "");
}

bool ts_snapshot_description_valid(const char *desc)
{
	return ts_utf8_text_valid(desc, TS_SNAP_DESC_MAX, "\n\t");
}

void ts_snapshot_copy(struct ts_snapshot *dst, const struct ts_snapshot *src)
{
	if (dst == src)
		return;
	memcpy(dst, src, sizeof(*dst));
	if (src->domain_xml) {
		/* The core links no util.c; out of memory here is as fatal as there. */
		dst->domain_xml = strdup(src->domain_xml);
		if (!dst->domain_xml)
			abort();
	}
}

void ts_snapshot_release(struct ts_snapshot *s)
{
	if (!s)
		return;
	free(s->domain_xml);
	s->domain_xml = NULL;
}
