/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the snapshot row's names, parsers and validators (core/snapshot). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "core/snapshot.h"

START_TEST(test_state_follows_phase)
{
	struct ts_snapshot s = { 0 };

	for (int p = 0; p < TS_PH__COUNT; p++) {
		s.phase = (enum ts_snap_phase)p;
		ck_assert_int_eq(ts_snapshot_state(&s),
				 p == TS_PH_NORMAL ? TS_SNAP_NORMAL : TS_SNAP_BROKEN);
	}
}
END_TEST

START_TEST(test_names_and_parse)
{
	static const char *const phases[] = {
		"created", "frozen", "taken", "committing", "normal", "pending",
	};
	enum ts_consistency c = TS_CONS_CRASH;

	for (int p = 0; p < TS_PH__COUNT; p++)
		ck_assert_str_eq(ts_snap_phase_str((enum ts_snap_phase)p), phases[p]);
	ck_assert_str_eq(ts_snap_phase_str(TS_PH__COUNT), "unknown");
	ck_assert_str_eq(ts_snap_phase_str((enum ts_snap_phase)-1), "unknown");
	ck_assert_str_eq(ts_consistency_str(TS_CONS_CRASH), "crash");
	ck_assert_str_eq(ts_consistency_str(TS_CONS_APPLICATION), "application");
	ck_assert_str_eq(ts_consistency_str(TS_CONS_AUTO), "auto");
	ck_assert_str_eq(ts_consistency_str((enum ts_consistency)7), "unknown");
	ck_assert_int_eq(ts_consistency_parse("application", &c), 0);
	ck_assert_int_eq(c, TS_CONS_APPLICATION);
	ck_assert_int_eq(ts_consistency_parse("auto", &c), 0);
	ck_assert_int_eq(c, TS_CONS_AUTO);
	ck_assert_int_eq(ts_consistency_parse("crash", &c), 0);
	ck_assert_int_eq(c, TS_CONS_CRASH);
	ck_assert_int_eq(ts_consistency_parse("Crash", &c), -EINVAL);
	ck_assert_int_eq(ts_consistency_parse("crash ", &c), -EINVAL);
	ck_assert_int_eq(ts_consistency_parse("", &c), -EINVAL);
	ck_assert_int_eq(ts_consistency_parse(NULL, &c), -EINVAL);
	ck_assert_int_eq(c, TS_CONS_CRASH);
}
END_TEST

START_TEST(test_ids)
{
	ck_assert(ts_snapshot_id_valid("0123456789abcdef0123456789abcdef"));
	ck_assert(ts_snapshot_id_valid("00000000000000000000000000000000"));
	ck_assert(!ts_snapshot_id_valid("0123456789ABCDEF0123456789abcdef"));
	ck_assert(!ts_snapshot_id_valid("0123456789abcdef0123456789abcde"));
	ck_assert(!ts_snapshot_id_valid("0123456789abcdef0123456789abcdef0"));
	ck_assert(!ts_snapshot_id_valid("0123456789abcdeg0123456789abcdef"));
	ck_assert(!ts_snapshot_id_valid("../../../../../../../../etc/pass"));
	ck_assert(!ts_snapshot_id_valid(""));
	ck_assert(!ts_snapshot_id_valid(NULL));
}
END_TEST

START_TEST(test_volume_and_vm_names)
{
	char name[80];

	ck_assert(ts_volume_name_valid("boot"));
	ck_assert(ts_volume_name_valid("data_1.img-x"));
	ck_assert(ts_volume_name_valid("0"));
	ck_assert(!ts_volume_name_valid(""));
	ck_assert(!ts_volume_name_valid(NULL));
	ck_assert(!ts_volume_name_valid("."));
	ck_assert(!ts_volume_name_valid(".."));
	ck_assert(!ts_volume_name_valid("../etc"));
	ck_assert(!ts_volume_name_valid("a/b"));
	ck_assert(!ts_volume_name_valid("-rf"));
	ck_assert(!ts_volume_name_valid("a b"));
	ck_assert(!ts_volume_name_valid("a\nb"));
	ck_assert(!ts_volume_name_valid("vol\xc3\xa9"));
	ck_assert(ts_vm_name_valid("vm1"));
	ck_assert(!ts_vm_name_valid("vm;1"));
	ck_assert(!ts_vm_name_valid(".vm"));
	memset(name, 'a', sizeof(name));
	name[63] = '\0';
	ck_assert(ts_volume_name_valid(name));
	ck_assert(ts_vm_name_valid(name));
	name[63] = 'a';
	name[64] = '\0';
	ck_assert(!ts_volume_name_valid(name));
	ck_assert(!ts_vm_name_valid(name));
}
END_TEST

/* Byte strings that are not UTF-8, or not the shortest form of a scalar value. */
static const char *const bad_utf8[] = {
	"\x80",                 /* stray continuation */
	"a\xbf" "b",
	"\xc0\xaf",             /* overlong '/' */
	"\xc1\xbf",             /* overlong */
	"\xe0\x80\xaf",         /* overlong '/' */
	"\xe0\x9f\xbf",         /* overlong U+07FF */
	"\xf0\x80\x80\xaf",     /* overlong '/' */
	"\xf0\x8f\xbf\xbf",     /* overlong U+FFFF */
	"\xed\xa0\x80",         /* surrogate U+D800 */
	"\xed\xbf\xbf",         /* surrogate U+DFFF */
	"\xf4\x90\x80\x80",     /* U+110000 */
	"\xf5\x80\x80\x80",
	"\xfe",
	"\xff",
	"\xc3",                 /* truncated at the end */
	"\xe2\x82",
	"\xf0\x9f\x98",
	"\xc3" "A",             /* lead byte followed by ASCII */
	"\xe2\x82" "A",
	"x\xf0\x9f\x98\x80\x80", /* valid emoji, then a stray continuation */
};

static const char *const good_utf8[] = {
	"plain",
	"caf\xc3\xa9",                  /* U+00E9 */
	"\xc2\xa0",                     /* U+00A0, first after the C1 controls */
	"\xe2\x82\xac",                 /* U+20AC */
	"\xed\x9f\xbf",                 /* U+D7FF, last before the surrogates */
	"\xee\x80\x80",                 /* U+E000, first after */
	"\xef\xbf\xbf",                 /* U+FFFF */
	"\xf0\x90\x80\x80",             /* U+10000 */
	"\xf0\x9f\x98\x80",             /* U+1F600 */
	"\xf4\x8f\xbf\xbf",             /* U+10FFFF */
	"'; DROP TABLE snapshots; --",
	"../../etc/passwd",
	"%s%n\\\"",
};

START_TEST(test_utf8)
{
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		ck_assert_msg(!ts_snapshot_name_valid(bad_utf8[i]), "name %zu accepted", i);
		ck_assert_msg(!ts_snapshot_description_valid(bad_utf8[i]), "desc %zu accepted", i);
	}
	for (size_t i = 0; i < sizeof(good_utf8) / sizeof(good_utf8[0]); i++) {
		ck_assert_msg(ts_snapshot_name_valid(good_utf8[i]), "name %zu refused", i);
		ck_assert_msg(ts_snapshot_description_valid(good_utf8[i]), "desc %zu refused", i);
	}
}
END_TEST

START_TEST(test_controls)
{
	static const char *const both_refuse[] = {
		"a\x01", "a\x1f", "a\x7f", "a\r", "a\x1b[31m", "a\xc2\x80", "a\xc2\x85", "a\xc2\x9f",
	};

	for (size_t i = 0; i < sizeof(both_refuse) / sizeof(both_refuse[0]); i++) {
		ck_assert_msg(!ts_snapshot_name_valid(both_refuse[i]), "name %zu accepted", i);
		ck_assert_msg(!ts_snapshot_description_valid(both_refuse[i]), "desc %zu", i);
	}
	ck_assert(!ts_snapshot_name_valid("line\nbreak"));
	ck_assert(!ts_snapshot_name_valid("tab\there"));
	ck_assert(ts_snapshot_description_valid("line\nbreak\tand tab"));
	ck_assert(ts_snapshot_name_valid(""));
	ck_assert(ts_snapshot_description_valid(""));
	ck_assert(!ts_snapshot_name_valid(NULL));
	ck_assert(!ts_snapshot_description_valid(NULL));
}
END_TEST

START_TEST(test_lengths)
{
	char buf[TS_SNAP_DESC_MAX + 8];

	memset(buf, 'n', sizeof(buf));
	buf[TS_SNAP_NAME_MAX - 1] = '\0';               /* 255 bytes */
	ck_assert(ts_snapshot_name_valid(buf));
	buf[TS_SNAP_NAME_MAX - 1] = 'n';
	buf[TS_SNAP_NAME_MAX] = '\0';                   /* 256 bytes */
	ck_assert(!ts_snapshot_name_valid(buf));
	/* 253 ASCII + a 2-byte character = 255 bytes; one more ASCII = 256 */
	memset(buf, 'n', sizeof(buf));
	memcpy(buf + 253, "\xc3\xa9", 2);
	buf[255] = '\0';
	ck_assert(ts_snapshot_name_valid(buf));
	memset(buf, 'n', sizeof(buf));
	memcpy(buf + 254, "\xc3\xa9", 2);
	buf[256] = '\0';
	ck_assert(!ts_snapshot_name_valid(buf));
	/* a 4-byte character straddling the limit */
	memset(buf, 'n', sizeof(buf));
	memcpy(buf + 252, "\xf0\x9f\x98\x80", 4);
	buf[256] = '\0';
	ck_assert(!ts_snapshot_name_valid(buf));
	buf[252] = '\0';
	ck_assert(ts_snapshot_name_valid(buf));

	memset(buf, 'd', sizeof(buf));
	buf[TS_SNAP_DESC_MAX - 1] = '\0';               /* 1023 bytes */
	ck_assert(ts_snapshot_description_valid(buf));
	buf[TS_SNAP_DESC_MAX - 1] = 'd';
	buf[TS_SNAP_DESC_MAX] = '\0';
	ck_assert(!ts_snapshot_description_valid(buf));
}
END_TEST

START_TEST(test_copy_and_release)
{
	struct ts_snapshot a = { 0 }, b, c;

	strcpy(a.id, "0123456789abcdef0123456789abcdef");
	strcpy(a.name, "n");
	a.n_volumes = 2;
	strcpy(a.volumes[1], "data");
	a.volume_bytes[1] = UINT64_MAX;
	a.domain_xml = strdup("<domain/>");
	ck_assert_ptr_nonnull(a.domain_xml);
	ts_snapshot_copy(&b, &a);
	ck_assert_ptr_ne(b.domain_xml, a.domain_xml);
	ck_assert_str_eq(b.domain_xml, "<domain/>");
	ck_assert_str_eq(b.volumes[1], "data");
	ck_assert(b.volume_bytes[1] == UINT64_MAX);
	ts_snapshot_release(&a);
	ck_assert_ptr_null(a.domain_xml);
	ts_snapshot_release(&a);                /* twice is harmless */
	ck_assert_str_eq(b.domain_xml, "<domain/>");
	ts_snapshot_copy(&c, &a);
	ck_assert_ptr_null(c.domain_xml);
	ck_assert_str_eq(c.id, a.id);
	ts_snapshot_copy(&b, &b);               /* self-copy keeps the XML */
	ck_assert_str_eq(b.domain_xml, "<domain/>");
	ts_snapshot_release(&b);
	ts_snapshot_release(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot");

	TS_ADD_TEST(s, test_state_follows_phase);
	TS_ADD_TEST(s, test_names_and_parse);
	TS_ADD_TEST(s, test_ids);
	TS_ADD_TEST(s, test_volume_and_vm_names);
	TS_ADD_TEST(s, test_utf8);
	TS_ADD_TEST(s, test_controls);
	TS_ADD_TEST(s, test_lengths);
	TS_ADD_TEST(s, test_copy_and_release);
	return ts_run_suite(s);
}
