/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnapd — the twinsnap agent, one per PM.  main() reads the
 * configuration, sets up logging and the libqb main loop, and hands over to
 * the agent; SIGTERM/SIGINT stop the loop and everything is torn down in
 * reverse order.
 */
#include "config.h"
#include "conffile.h"

#include <getopt.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "core/tserr.h"
#include "fault.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: twinsnapd [--foreground] [--config FILE] [--check-config]\n"
		"  -f, --foreground     stay in the foreground, log to stderr\n"
		"  -c, --config FILE    configuration file (default %s)\n"
		"  -t, --check-config   validate the configuration and exit\n"
		"  -V, --version        print the version and exit\n",
		TS_DEFAULT_CONFIG);
}

static int on_stop_signal(int32_t sig, void *data)
{
	qb_log(LOG_NOTICE, "signal %d: stopping", sig);
	qb_loop_stop(data);
	return 0;
}

static int on_hup_signal(int32_t sig, void *data)
{
	qb_log(LOG_NOTICE, "SIGHUP: configuration reload is not supported; "
	       "restart twinsnapd to apply changes");
	return 0;
}

/*
 * libqb logs its own internals (every IPC connection's ring buffers) at
 * debug level; at our debug level only our own files say that much.
 */
static void set_filters(int32_t target, int level)
{
	qb_log_filter_ctl(target, QB_LOG_FILTER_REMOVE, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  level < LOG_INFO ? level : LOG_INFO);
	if (level > LOG_INFO)
		qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE_REGEX,
				  "src/", level); /* a basic regex: our sources only */
}

static void setup_logging(bool foreground, int level)
{
	qb_log_init("twinsnapd", LOG_DAEMON, LOG_INFO);
	qb_log_format_set(QB_LOG_SYSLOG, "%b");
	set_filters(QB_LOG_SYSLOG, level);
	if (foreground) {
		qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
		qb_log_format_set(QB_LOG_STDERR, "%t %p %b");
		set_filters(QB_LOG_STDERR, level);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = TS_DEFAULT_CONFIG;
	bool explicit_config = false, foreground = false, check_only = false;
	struct ts_config *cfg = NULL;
	struct ts_agent *agent = NULL;
	qb_loop_t *loop;
	char *err = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "fc:tVh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': foreground = true; break;
		case 'c': config_path = optarg; explicit_config = true; break;
		case 't': check_only = true; break;
		case 'V': printf("twinsnapd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "twinsnapd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	rc = ts_config_load(config_path, explicit_config, &cfg, &err);
	if (rc < 0) {
		fprintf(stderr, "twinsnapd: %s\n", err);
		free(err);
		return 1;
	}
	if (check_only) {
		printf("twinsnapd: %s: configuration OK\n", cfg->path ? cfg->path : "(defaults)");
		ts_config_free(cfg);
		return 0;
	}
	if (!foreground && daemon(0, 0) < 0) {
		perror("twinsnapd: daemon");
		ts_config_free(cfg);
		return 1;
	}
	setup_logging(foreground, cfg->log_level);
	signal(SIGPIPE, SIG_IGN);

	loop = qb_loop_create();
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGTERM, loop, on_stop_signal, NULL);
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGINT, loop, on_stop_signal, NULL);
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGHUP, loop, on_hup_signal, NULL);

	rc = ts_agent_create(loop, cfg, &agent, &err);
	if (rc < 0) {
		qb_log(LOG_CRIT, "cannot start: %s", err ? err : ts_strerror(rc));
		free(err);
		qb_loop_destroy(loop);
		ts_config_free(cfg);
		qb_log_fini();
		return 1;
	}
	{
		/* a no-op unless built with --enable-fault-injection (fault.h) */
		char *ctl = ts_xasprintf("%s/fault-control", cfg->state_dir);

		if (ts_fault_init(loop, ctl, &err) < 0) {
			qb_log(LOG_ERR, "fault injection unavailable: %s", err);
			free(err);
			err = NULL;
		}
		free(ctl);
	}
	qb_log(LOG_NOTICE, "twinsnapd %s started (config %s)", PACKAGE_VERSION,
	       cfg->path ? cfg->path : "defaults");
	qb_loop_run(loop);

	ts_fault_fini();
	ts_agent_destroy(agent);
	qb_loop_destroy(loop);
	qb_log(LOG_NOTICE, "twinsnapd stopped");
	ts_config_free(cfg);
	qb_log_fini();
	return 0;
}
