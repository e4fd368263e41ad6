/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the short drbdsetup commands (adapters/drbd: ts_drbd_run,
 * ts_drbd_in_flight, jobs on a loop) against fake drbdsetup scripts: output
 * captured, exit status and stderr reported, a hanging command killed at
 * its deadline, in-flight writes summed from real events2 syntax, a job
 * that lets the loop run and reports once.
 */
#include "config.h"

#include <check.h>
#include <qb/qbloop.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/drbd.h"
#include "check_common.h"
#include "util.h"

static char dir[] = "/tmp/ts-check-drbd-XXXXXX";
static char script[256];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/drbdsetup", dir);
}

static void teardown(void)
{
	unlink(script);
	rmdir(dir);
	strcpy(dir, "/tmp/ts-check-drbd-XXXXXX");
}

static void fake(const char *body)
{
	FILE *f = fopen(script, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
}

START_TEST(test_output_and_arguments)
{
	const char *args[] = { "suspend-io", "7", NULL };
	char *out = NULL, *err = NULL;

	fake("echo \"args: $*\"");
	ck_assert_int_eq(ts_drbd_run(script, args, 5000, &out, &err), 0);
	ck_assert_str_eq(out, "args: suspend-io 7\n");
	free(out);
}
END_TEST

START_TEST(test_failure_reports_stderr_and_status)
{
	const char *args[] = { "resume-io", "99", NULL };
	char *out = NULL, *err = NULL;

	fake("echo '99: No such minor' >&2; exit 10");
	ck_assert_int_eq(ts_drbd_run(script, args, 5000, &out, &err), -EIO);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err, "exit 10"));
	ck_assert_ptr_nonnull(strstr(err, "No such minor"));
	free(err);
}
END_TEST

START_TEST(test_hanging_command_is_killed)
{
	const char *args[] = { "suspend-io", "1", NULL };
	char *err = NULL;
	uint64_t t0 = ts_now_ms();

	fake("exec sleep 30");
	ck_assert_int_eq(ts_drbd_run(script, args, 300, NULL, &err), -ETIMEDOUT);
	ck_assert_uint_lt(ts_now_ms() - t0, 5000);
	ck_assert_ptr_nonnull(strstr(err, "did not finish"));
	free(err);
}
END_TEST

START_TEST(test_missing_binary)
{
	const char *args[] = { "status", NULL };
	char *err = NULL;

	int rc = ts_drbd_run("/nonexistent/drbdsetup", args, 2000, NULL, &err);

	/*
	 * posix_spawn reports the exec's failure itself (glibc's child shares
	 * the parent's memory until it execs); under valgrind, which runs
	 * that clone as a fork, the child exits 127 instead.  Either way the
	 * run fails and says which program.
	 */
	ck_assert_msg(rc == -ENOENT || rc == -EIO, "rc %d", rc);
	ck_assert_msg(strstr(err, "/nonexistent/drbdsetup") &&
		      strstr(err, rc == -ENOENT ? "No such file" : "exit 127"), "message: %s", err);
	free(err);
}
END_TEST

/*
 * The suspend-io (resume-io) of a snapshot's minors run at the same time:
 * each fake drbdsetup waits until all three have started, so run one
 * after another they would all time out.  Minor 1 refuses.
 */
START_TEST(test_run_each_at_once)
{
	const int minors[] = { 0, 1, 2 };
	bool failed[3] = { true, true, true };
	char *err = NULL, *body;
	int rc;

	body = ts_xasprintf("touch %s/started.$2\n"
			    "i=0; while [ $(ls %s | grep -c '^started') -lt 3 ] && [ $i -lt 40 ]; do\n"
			    "  sleep 0.05; i=$((i + 1)); done\n"
			    "[ $i -lt 40 ] || { echo 'ran alone' >&2; exit 3; }\n"
			    "[ \"$2\" != 1 ] || { echo 'minor 1 refuses' >&2; exit 10; }", dir, dir);
	fake(body);
	free(body);
	rc = ts_drbd_run_each(script, "suspend-io", minors, 3, 5000, failed, &err);
	for (int i = 0; i < 3; i++) {
		char path[300];

		snprintf(path, sizeof(path), "%s/started.%d", dir, i);
		unlink(path);
	}
	ck_assert_int_eq(rc, -EIO);
	ck_assert_msg(strstr(err, "minor 1 refuses"), "error: %s", err);
	ck_assert(!failed[0] && failed[1] && !failed[2]);
	free(err);
}
END_TEST

/* What the agent does with a drain read: the output into a model, judged. */
static int drain_state(const char *const *res, size_t n, struct ts_drbd_drain *d, char **err)
{
	const char *args[] = { "events2", "--now", "--statistics", res[0], NULL };
	struct ts_drbd_model *m;
	char *out = NULL;
	int rc = ts_drbd_run(script, args, 5000, &out, err);

	if (rc < 0)
		return rc;
	m = ts_drbd_model_create();
	ts_drbd_model_apply_text(m, out);
	free(out);
	rc = ts_drbd_drain_eval(m, res, n, d, err);
	ts_drbd_model_destroy(m);
	return rc;
}

START_TEST(test_in_flight_summed)
{
	struct ts_drbd_drain d;
	char *err = NULL;

	fake("cat <<'X'\n"
	     "exists resource name:vm1-boot role:Primary suspended:user\n"
	     "exists connection name:vm1-boot peer-node-id:1 conn-name:pm2 connection:Connected "
	     "role:Secondary congested:no ap-in-flight:16 rs-in-flight:0\n"
	     "exists device name:vm1-boot volume:0 minor:0 disk:UpToDate\n"
	     "exists peer-device name:vm1-boot peer-node-id:1 conn-name:pm2 volume:0 "
	     "replication:Established peer-disk:UpToDate resync-suspended:no pending:2 unacked:1\n"
	     "exists -\nX");
	const char *one[] = { "vm1-boot" }, *unknown[] = { "vm1-boot", "vm9-boot" };

	ck_assert_int_eq(drain_state(one, 1, &d, &err), 0);
	ck_assert_uint_eq(d.in_flight, 19);
	ck_assert(d.replicating);
	ck_assert_int_eq(drain_state(unknown, 2, &d, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "vm9-boot"));
	free(err);
}
END_TEST

START_TEST(test_drained)
{
	struct ts_drbd_drain d;
	char *err = NULL;

	fake("cat <<'X'\n"
	     "exists resource name:r name:r role:Primary suspended:user\n"
	     "exists connection name:r peer-node-id:1 conn-name:p connection:Connected "
	     "role:Secondary ap-in-flight:0\n"
	     "exists -\nX");
	const char *r[] = { "r" };

	ck_assert_int_eq(drain_state(r, 1, &d, &err), 0);
	ck_assert_uint_eq(d.in_flight, 0);
	ck_assert(d.replicating);
}
END_TEST

/*
 * A connection lost with writes in flight: DRBD drops them from the
 * in-flight counters (they are out of sync now), so 0 in flight is not
 * drained.  Each way replication can be broken is reported.
 */
START_TEST(test_replication_broken)
{
	static const struct {
		const char *conn, *peer_dev, *why;
	} cases[] = {
		{ "connection:StandAlone", "replication:Off peer-disk:DUnknown",
		  "connection to pm2 is StandAlone" },
		{ "connection:Connected", "replication:SyncSource peer-disk:Inconsistent",
		  "volume 0 replication is SyncSource" },
		{ "connection:Connected", "replication:Established peer-disk:Outdated",
		  "volume 0 peer disk is Outdated" },
		{ "connection:Connected", "replication:Established peer-disk:UpToDate out-of-sync:8",
		  "volume 0 has 8 KiB out of sync" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ts_drbd_drain d;
		char *err = NULL, *body;

		body = ts_xasprintf("cat <<'X'\n"
				    "exists resource name:r role:Primary suspended:user\n"
				    "exists connection name:r peer-node-id:1 conn-name:pm2 %s "
				    "role:Secondary ap-in-flight:0\n"
				    "exists device name:r volume:0 minor:0 disk:UpToDate\n"
				    "exists peer-device name:r peer-node-id:1 conn-name:pm2 volume:0 "
				    "%s pending:0 unacked:0\n"
				    "exists -\nX", cases[i].conn, cases[i].peer_dev);
		fake(body);
		free(body);
		const char *r[] = { "r" };
		char want[200];

		ck_assert_int_eq(drain_state(r, 1, &d, &err), 0);
		ck_assert_uint_eq(d.in_flight, 0);
		ck_assert_msg(!d.replicating, "case %zu counted as replicating", i);
		snprintf(want, sizeof(want), "r: %s", cases[i].why);
		ck_assert_str_eq(d.why, want);
	}
}
END_TEST

/* ---- jobs on a loop ---- */

struct job_result {
	int calls, rc;
	char out[256], err[256];
	qb_loop_t *loop;
};

static void job_done(void *data, int rc, const char *out, const char *err)
{
	struct job_result *r = data;

	r->calls++;
	r->rc = rc;
	snprintf(r->out, sizeof(r->out), "%s", out ? out : "(null)");
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "(null)");
	qb_loop_stop(r->loop);
}

static void give_up(void *data)
{
	qb_loop_stop(data);
}

/* Run the loop until a job reports (or 10 s). */
static void run_until_done(qb_loop_t *loop)
{
	qb_loop_timer_handle t;

	ck_assert_int_eq(qb_loop_timer_add(loop, QB_LOOP_LOW, 10000ULL * 1000000ULL, loop, give_up,
					   &t), 0);
	qb_loop_run(loop);
	qb_loop_timer_del(loop, t);
}

/* A job of a fake drbdsetup running @body, run on @loop until it reports once. */
static void run_job(qb_loop_t *loop, const char *body, int timeout_ms, struct job_result *r)
{
	const char *args[] = { "events2", "--now", NULL };
	struct ts_drbd_job *job = NULL;

	r->calls = 0;
	fake(body);
	ck_assert_int_eq(ts_drbd_job_start(loop, script, args, timeout_ms, job_done, r, &job), 0);
	run_until_done(loop);
	ck_assert_int_eq(r->calls, 1);
}

/*
 * A job runs while the loop goes on (a timer of the loop fires while the
 * command still sleeps), then reports its output once; a failing one its
 * stderr; a hanging one is killed at its deadline.
 */
static void tick(void *data)
{
	(*(int *)data)++;
}

START_TEST(test_job_on_the_loop)
{
	qb_loop_t *loop = qb_loop_create();
	struct job_result r = { .loop = loop };
	qb_loop_timer_handle t;
	int ticks = 0;

	ck_assert_int_eq(qb_loop_timer_add(loop, QB_LOOP_HIGH, 50ULL * 1000000ULL, &ticks, tick,
					   &t), 0);
	run_job(loop, "sleep 0.3; echo \"args: $*\"", 5000, &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.out, "args: events2 --now\n");
	ck_assert_str_eq(r.err, "(null)");
	ck_assert_int_eq(ticks, 1);     /* the loop ran while the command slept */

	run_job(loop, "echo 'no such minor' >&2; exit 10", 5000, &r);
	ck_assert_int_eq(r.rc, -EIO);
	ck_assert_msg(strstr(r.err, "exit 10") && strstr(r.err, "no such minor"), "%s", r.err);

	run_job(loop, "exec sleep 30", 300, &r);
	ck_assert_int_eq(r.rc, -ETIMEDOUT);
	ck_assert_msg(strstr(r.err, "did not finish within 300 ms"), "%s", r.err);
	qb_loop_destroy(loop);
}
END_TEST

/* A job reaped before it ends is waited for and never reports. */
START_TEST(test_job_reaped_silently)
{
	qb_loop_t *loop = qb_loop_create();
	struct job_result r = { .loop = loop };
	const char *args[] = { "suspend-io", "0", NULL };
	struct ts_drbd_job *job = NULL;
	char done_file[300], *cmd;
	struct stat st;

	snprintf(done_file, sizeof(done_file), "%s/done", dir);
	cmd = ts_xasprintf("sleep 0.2; touch %s", done_file);
	fake(cmd);
	free(cmd);
	ck_assert_int_eq(ts_drbd_job_start(loop, script, args, 5000, job_done, &r, &job), 0);
	ts_drbd_job_reap(job);
	ck_assert_int_eq(stat(done_file, &st), 0);      /* it ran to its end */
	unlink(done_file);
	ck_assert_int_eq(r.calls, 0);
	qb_loop_destroy(loop);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("drbd_run");
	TCase *tc = tcase_create("drbd_run");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_output_and_arguments);
	tcase_add_test(tc, test_failure_reports_stderr_and_status);
	tcase_add_test(tc, test_hanging_command_is_killed);
	tcase_add_test(tc, test_missing_binary);
	tcase_add_test(tc, test_run_each_at_once);
	tcase_add_test(tc, test_in_flight_summed);
	tcase_add_test(tc, test_drained);
	tcase_add_test(tc, test_replication_broken);
	tcase_add_test(tc, test_job_on_the_loop);
	tcase_add_test(tc, test_job_reaped_silently);
	tcase_set_timeout(tc, TS_TEST_TIMEOUT);
	suite_add_tcase(s, tc);
	return ts_run_suite(s);
}
