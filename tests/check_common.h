/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_common.h — shared glue for twinsnap's Check unit tests: add a test
 * with the project-wide timeout, and run a suite the way `make check` expects.
 * Header-only so each test program stays a single .c file.
 */
#ifndef TS_CHECK_COMMON_H
#define TS_CHECK_COMMON_H

#include <check.h>
#include <stdlib.h>

/* Seconds per test; CK_TIMEOUT_MULTIPLIER still scales it (e.g. under valgrind). */
#define TS_TEST_TIMEOUT 30

/* Check 0.13 changed what START_TEST declares: a TTest pointer, no longer a TFun. */
#if CHECK_MAJOR_VERSION > 0 || CHECK_MINOR_VERSION >= 13
typedef const TTest *ts_test_t;
#else
typedef TFun ts_test_t;
#endif

/** Give @tc the standard timeout, add test @fn to it and @tc to @s. */
static inline void add_tcase(Suite *s, TCase *tc, ts_test_t fn)
{
	tcase_set_timeout(tc, TS_TEST_TIMEOUT);
	tcase_add_test(tc, fn);
	suite_add_tcase(s, tc);
}

/** One test case per test, named after the test function. */
#define TS_ADD_TEST(suite, fn) add_tcase((suite), tcase_create(#fn), (fn))

/**
 * Run every test of @s and free it.  Verbosity is CK_NORMAL unless
 * CK_VERBOSITY says otherwise; fork mode is left to Check, so CK_FORK=no
 * works for debuggers and valgrind.  Returns an exit status for main().
 */
static inline int ts_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
