/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of twinsnap.conf loading: defaults, values, and clear errors. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "check_common.h"
#include "conffile.h"
#include "core/tserr.h"

static char tmpdir[] = "/tmp/ts-check-config-XXXXXX";
static char path[256];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/twinsnap.conf", tmpdir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
	strcpy(tmpdir, "/tmp/ts-check-config-XXXXXX");
}

static void write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Load @text; expect failure with an error message containing @needle. */
static void expect_error(const char *text, const char *needle)
{
	struct ts_config *cfg = (void *)1;
	char *err = NULL;

	write_conf(text);
	ck_assert_int_eq(ts_config_load(path, true, &cfg, &err), TS_ECONFIG);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
	ck_assert_msg(strstr(err, path), "error '%s' does not name the file", err);
	free(err);
}

START_TEST(test_defaults_when_missing_and_allowed)
{
	struct ts_config *cfg = NULL;
	char *err = NULL;

	ck_assert_int_eq(ts_config_load("/nonexistent/twinsnap.conf", false, &cfg, &err), 0);
	ck_assert_ptr_null(cfg->path);
	ck_assert_str_eq(cfg->ipc_name, "twinsnap");
	ck_assert_str_eq(cfg->cpg_group, "twinsnap");
	ck_assert_ptr_null(cfg->node_name);
	ck_assert_uint_eq(cfg->poll_interval_ms, 1000);
	ck_assert_uint_eq(cfg->max_holds, 8);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ts_config_free(cfg);
}
END_TEST

START_TEST(test_missing_explicit_file_is_an_error)
{
	struct ts_config *cfg = NULL;
	char *err = NULL;

	ck_assert_int_eq(ts_config_load("/nonexistent/twinsnap.conf", true, &cfg, &err),
			 TS_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "cannot read"));
	free(err);
}
END_TEST

START_TEST(test_values_are_read)
{
	struct ts_config *cfg = NULL;
	char *err = NULL;

	write_conf("# comment\n[agent]\nstate_dir = /srv/ts\nlog_level = debug\nadmin_group =\n"
		   "[cluster]\nnode_name = pm2\ncpg_group = lab\n"
		   "[drbd]\ndrbdsetup = /opt/drbdsetup\npoll_interval_ms = 250\n"
		   "restart_min_ms = 100\nrestart_max_ms = 100\n"
		   "[libvirt]\nuri = test:///x.xml\n[snapshot]\nmax_holds = 2\n");
	ck_assert_int_eq(ts_config_load(path, true, &cfg, &err), 0);
	ck_assert_str_eq(cfg->path, path);
	ck_assert_str_eq(cfg->state_dir, "/srv/ts");
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg->admin_group, "");
	ck_assert_str_eq(cfg->node_name, "pm2");
	ck_assert_str_eq(cfg->cpg_group, "lab");
	ck_assert_str_eq(cfg->drbdsetup, "/opt/drbdsetup");
	ck_assert_uint_eq(cfg->poll_interval_ms, 250);
	ck_assert_uint_eq(cfg->restart_max_ms, 100);
	ck_assert_str_eq(cfg->libvirt_uri, "test:///x.xml");
	ck_assert_uint_eq(cfg->max_holds, 2);
	ts_config_free(cfg);
}
END_TEST

START_TEST(test_errors_name_what_is_wrong)
{
	expect_error("[agent\nstate_dir=/x\n", "syntax error");
	expect_error("[agnet]\nstate_dir=/x\n", "unknown group [agnet]");
	expect_error("[agent]\nstatedir=/x\n", "unknown key 'statedir' in [agent]");
	expect_error("[agent]\nstate_dir=relative/dir\n", "not an absolute path");
	expect_error("[agent]\nlog_level=loud\n", "'loud' is not one of");
	expect_error("[drbd]\npoll_interval_ms=abc\n", "'abc' is not a number in 50..60000");
	expect_error("[drbd]\npoll_interval_ms=-5\n", "is not a number");
	expect_error("[drbd]\npoll_interval_ms=10\n", "50..60000");
	expect_error("[snapshot]\nmax_holds=0\n", "1..64");
	expect_error("[snapshot]\nmax_holds=65\n", "1..64");
	expect_error("[drbd]\npoll_interval_ms=99999999999999999999\n", "is not a number");
	expect_error("[drbd]\nrestart_min_ms=5000\nrestart_max_ms=1000\n",
		     "restart_max_ms (1000) is below restart_min_ms (5000)");
	expect_error("[cluster]\nnode_name=../../etc\n", "not a valid name");
	expect_error("[cluster]\nnode_name=pm 1\n", "not a valid name");
	expect_error("[agent]\nipc_name=\xff\xfe\n", "not printable UTF-8");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults_when_missing_and_allowed);
	tcase_add_test(tc, test_missing_explicit_file_is_an_error);
	tcase_add_test(tc, test_values_are_read);
	tcase_add_test(tc, test_errors_name_what_is_wrong);
	tcase_set_timeout(tc, TS_TEST_TIMEOUT);
	suite_add_tcase(s, tc);
	return ts_run_suite(s);
}
