/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A drbdsetup stuck in the kernel does not stop the agent.  Real DRBD 8.4's
 * resume-io can wait uninterruptibly for ever (docs/reliability.md, "What
 * real DRBD showed"); SIGKILL does not end such a process, so an agent that
 * waits for its child after killing it waits for ever.  Here the fake
 * drbdsetup writes to a frozen XFS (fsfreeze): it sleeps uninterruptibly
 * in the kernel exactly like that resume-io, and outlives SIGKILL until the
 * filesystem is thawed.  ts_drbd_run and ts_drbd_run_each must give up at
 * their deadline plus a short grace, say why, and reap the process once the
 * kernel lets it go (ts_drbd_reap_stuck).  Needs root, a loop device and
 * mkfs.xfs; exits 77 (skipped, saying why) without them.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters/drbd.h"
#include "check_common.h"
#include "util.h"

#define FS_IMAGE_BYTES (320ULL << 20)   /* mkfs.xfs refuses less than 300 MB */

static char base[] = "/var/tmp/ts-check-stuck-XXXXXX";
static char image[300], mnt[300], script[300];
static bool mounted;

static int run_quiet(const char *cmd)
{
	char line[1024];
	int status;

	snprintf(line, sizeof(line), "%s >/dev/null 2>&1", cmd);
	status = system(line);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void thaw(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "fsfreeze -u %s", mnt);
	run_quiet(cmd);          /* fails when it is not frozen: fine */
}

static void freeze(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "fsfreeze -f %s", mnt);
	ck_assert_int_eq(run_quiet(cmd), 0);
}

/* The fake drbdsetup: a write to the (frozen) filesystem, then exit 0. */
static void fake_writer(void)
{
	FILE *f = fopen(script, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho \"$*\" >>%s/written\n", mnt);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
}

/* The fake writer on a frozen filesystem: its start time. */
static uint64_t start_frozen(void)
{
	fake_writer();
	freeze();
	return ts_now_ms();
}

/*
 * The call that began at t0 gave up with -ETIMEDOUT within limit_ms (its
 * deadline, the grace after SIGKILL, slack for a loaded machine), leaving
 * `stuck` children, which are reaped once the filesystem is thawed.
 */
static void assert_gave_up(int rc, uint64_t t0, uint64_t limit_ms, int stuck)
{
	uint64_t until;

	ck_assert_int_eq(rc, -ETIMEDOUT);
	ck_assert_uint_lt(ts_now_ms() - t0, limit_ms);
	ck_assert_int_eq(ts_drbd_reap_stuck(), stuck);
	thaw();
	until = ts_now_ms() + 10000;
	while (ts_drbd_reap_stuck() > 0 && ts_now_ms() < until)
		usleep(20000);
	ck_assert_int_eq(ts_drbd_reap_stuck(), 0);
}

START_TEST(test_run_gives_up_on_a_child_that_outlives_sigkill)
{
	const char *args[] = { "resume-io", "1", NULL };
	char *err = NULL;
	uint64_t t0 = start_frozen();
	int rc = ts_drbd_run(script, args, 300, NULL, &err);

	assert_gave_up(rc, t0, 3000, 1);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "outlives SIGKILL") != NULL, "message: %s", err);
	free(err);
}
END_TEST

START_TEST(test_run_each_gives_up_on_every_stuck_child)
{
	const int minors[] = { 3, 4 };
	bool failed[2] = { false, false };
	char *err = NULL;
	uint64_t t0 = start_frozen();
	int rc = ts_drbd_run_each(script, "resume-io", minors, 2, 300, failed, &err);

	assert_gave_up(rc, t0, 4000, 2);
	ck_assert(failed[0] && failed[1]);
	free(err);
}
END_TEST

/* The same fake, not frozen: it runs and is reaped as usual. */
START_TEST(test_thawed_writer_runs)
{
	const char *args[] = { "resume-io", "5", NULL };
	char *err = NULL;

	fake_writer();
	thaw();
	ck_assert_int_eq(ts_drbd_run(script, args, 5000, NULL, &err), 0);
	ck_assert_int_eq(ts_drbd_reap_stuck(), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("drbd_stuck");
	TCase *tc = tcase_create("stuck");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_run_gives_up_on_a_child_that_outlives_sigkill);
	tcase_add_test(tc, test_run_each_gives_up_on_every_stuck_child);
	tcase_add_test(tc, test_thawed_writer_runs);
	suite_add_tcase(s, tc);
	return s;
}

/* A fresh XFS on a loop device at base/mnt; NULL, or why it cannot be had. */
static const char *mount_xfs(void)
{
	static char why[200];
	char cmd[700];
	int fd, rc;

	if (geteuid() != 0)
		return "not root";
	if (access("/dev/loop-control", F_OK) < 0)
		return "no loop device (/dev/loop-control)";
	if (run_quiet("command -v fsfreeze") != 0)
		return "no fsfreeze (util-linux)";
	if (!mkdtemp(base))
		return "cannot make a directory in /var/tmp";
	snprintf(image, sizeof(image), "%s/xfs.img", base);
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	snprintf(script, sizeof(script), "%s/drbdsetup", base);
	fd = open(image, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)FS_IMAGE_BYTES) < 0) {
		snprintf(why, sizeof(why), "cannot make a sparse image: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return why;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "mkfs.xfs -q %s", image);
	rc = run_quiet(cmd);
	if (rc != 0) {
		snprintf(why, sizeof(why), rc == 127 ? "mkfs.xfs not found"
			 : "mkfs.xfs failed (exit %d)", rc);
		return why;
	}
	if (mkdir(mnt, 0700) < 0)
		return "cannot make the mount point";
	snprintf(cmd, sizeof(cmd), "mount -o loop %s %s", image, mnt);
	if (run_quiet(cmd) != 0)
		return "mount -o loop failed: no loop device?";
	mounted = true;
	return NULL;
}

static void unmount_xfs(void)
{
	char cmd[400];

	if (mounted) {
		thaw();
		snprintf(cmd, sizeof(cmd), "umount %s", mnt);
		run_quiet(cmd);
	}
	unlink(script);
	rmdir(mnt);
	unlink(image);
	rmdir(base);
}

int main(void)
{
	const char *why = mount_xfs();
	int rc;

	if (why) {
		printf("SKIP: check_drbd_stuck needs a frozen XFS: %s\n", why);
		unmount_xfs();
		return 77;
	}
	rc = ts_run_suite(suite());
	unmount_xfs();
	return rc;
}
