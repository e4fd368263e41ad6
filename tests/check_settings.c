/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the replicated settings and their convergent merge (core/settings). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "core/settings.h"

static struct ts_setting mk(const char *key, const char *value, uint64_t version, uint32_t origin)
{
	struct ts_setting s;

	memset(&s, 0, sizeof(s));
	strcpy(s.key, key);
	strcpy(s.value, value);
	s.version = version;
	s.origin = origin;
	return s;
}

START_TEST(test_validate)
{
	ck_assert_int_eq(ts_setting_validate("maintenance/pm1", "on"), 0);
	ck_assert_int_eq(ts_setting_validate("maintenance/pm1", "off"), 0);
	ck_assert_int_eq(ts_setting_validate("maintenance/pm1", "yes"), -EINVAL);
	ck_assert_int_eq(ts_setting_validate("maintenance/../x", "on"), -EINVAL);
	ck_assert_int_eq(ts_setting_validate("maintenance/", "on"), -EINVAL);
	ck_assert_int_eq(ts_setting_validate("snapshots", "disabled"), 0);
	ck_assert_int_eq(ts_setting_validate("snapshots", "off"), -EINVAL);
	ck_assert_int_eq(ts_setting_validate("colour", "blue"), -EINVAL);
}
END_TEST

START_TEST(test_propose_does_not_apply)
{
	struct ts_settings *s = ts_settings_create();
	struct ts_setting p;

	ck_assert_int_eq(ts_settings_propose(s, "maintenance/pm2", "on", 1, &p), 0);
	ck_assert_uint_eq(p.version, 1);
	ck_assert(!ts_settings_maintenance(s, "pm2"));
	ck_assert_int_eq(ts_settings_merge(s, &p), 1);
	ck_assert(ts_settings_maintenance(s, "pm2"));
	ck_assert_int_eq(ts_settings_propose(s, "maintenance/pm2", "off", 2, &p), 0);
	ck_assert_uint_eq(p.version, 2);
	ck_assert_int_eq(ts_settings_propose(s, "maintenance/pm2", "maybe", 2, &p), -EINVAL);
	ts_settings_destroy(s);
}
END_TEST

START_TEST(test_stale_is_ignored)
{
	struct ts_settings *s = ts_settings_create();
	struct ts_setting v3 = mk("maintenance/pm1", "on", 3, 1);
	struct ts_setting v2 = mk("maintenance/pm1", "off", 2, 2);

	ck_assert_int_eq(ts_settings_merge(s, &v3), 1);
	ck_assert_int_eq(ts_settings_merge(s, &v2), 0);
	ck_assert(ts_settings_maintenance(s, "pm1"));
	ck_assert_uint_eq(ts_settings_get(s, "maintenance/pm1")->version, 3);
	ts_settings_destroy(s);
}
END_TEST

START_TEST(test_tie_broken_by_origin)
{
	struct ts_settings *s = ts_settings_create();
	struct ts_setting from1 = mk("snapshots", "disabled", 4, 1);
	struct ts_setting from2 = mk("snapshots", "enabled", 4, 2);

	ck_assert_int_eq(ts_settings_merge(s, &from2), 1);
	ck_assert_int_eq(ts_settings_merge(s, &from1), 0);
	ck_assert(ts_settings_snapshots_enabled(s));
	ts_settings_destroy(s);
}
END_TEST

/* Two replicas that deliver the same set of updates in any order end equal. */
START_TEST(test_merge_converges_in_any_order)
{
	struct ts_setting ups[6] = {
		mk("maintenance/pm1", "on", 1, 1), mk("maintenance/pm1", "off", 2, 2),
		mk("maintenance/pm1", "on", 2, 1), mk("snapshots", "disabled", 1, 2),
		mk("snapshots", "enabled", 1, 1), mk("maintenance/pm2", "on", 7, 1),
	};
	unsigned seed = 12345;

	for (int round = 0; round < 200; round++) {
		struct ts_settings *a = ts_settings_create(), *b = ts_settings_create();
		int order[6] = { 0, 1, 2, 3, 4, 5 };

		for (int i = 5; i > 0; i--) {
			int j = (int)(rand_r(&seed) % (unsigned)(i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int i = 0; i < 6; i++) {
			ts_settings_merge(a, &ups[i]);
			ts_settings_merge(b, &ups[order[i]]);
		}
		ck_assert_uint_eq(ts_settings_count(a), ts_settings_count(b));
		for (size_t i = 0; i < ts_settings_count(a); i++) {
			const struct ts_setting *x = ts_settings_at(a, i);
			const struct ts_setting *y = ts_settings_get(b, x->key);

			ck_assert_ptr_nonnull(y);
			ck_assert_str_eq(x->value, y->value);
			ck_assert_uint_eq(x->version, y->version);
		}
		/* The winners, by the rule: version, then origin. */
		ck_assert(ts_settings_maintenance(a, "pm1") == false);
		ck_assert(!ts_settings_snapshots_enabled(a));
		ts_settings_destroy(a);
		ts_settings_destroy(b);
	}
}
END_TEST

START_TEST(test_invalid_merge_changes_nothing)
{
	struct ts_settings *s = ts_settings_create();
	struct ts_setting bad = mk("maintenance/pm1", "on", 1, 1);

	bad.value[0] = 'x';
	ck_assert_int_eq(ts_settings_merge(s, &bad), -EINVAL);
	memset(bad.key, 'k', sizeof(bad.key));       /* no terminator */
	ck_assert_int_eq(ts_settings_merge(s, &bad), -EINVAL);
	ck_assert_uint_eq(ts_settings_count(s), 0);
	ts_settings_destroy(s);
}
END_TEST

START_TEST(test_full)
{
	struct ts_settings *s = ts_settings_create();
	char node[16], key[TS_SETTING_KEY_MAX];

	for (int i = 0; i < TS_SETTINGS_MAX; i++) {
		struct ts_setting v;

		snprintf(node, sizeof(node), "n%d", i);
		ck_assert_int_eq(ts_settings_maintenance_key(node, key, sizeof(key)), 0);
		v = mk(key, "on", 1, 1);
		ck_assert_int_eq(ts_settings_merge(s, &v), 1);
	}
	{
		struct ts_setting v = mk("snapshots", "enabled", 1, 1);

		ck_assert_int_eq(ts_settings_merge(s, &v), -ENOSPC);
	}
	ts_settings_destroy(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("settings");

	TS_ADD_TEST(s, test_validate);
	TS_ADD_TEST(s, test_propose_does_not_apply);
	TS_ADD_TEST(s, test_stale_is_ignored);
	TS_ADD_TEST(s, test_tie_broken_by_origin);
	TS_ADD_TEST(s, test_merge_converges_in_any_order);
	TS_ADD_TEST(s, test_invalid_merge_changes_nothing);
	TS_ADD_TEST(s, test_full);
	return ts_run_suite(s);
}
