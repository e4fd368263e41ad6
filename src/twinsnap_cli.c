/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap_cli — what the CLI's command modules share (see twinsnap_cli.h):
 * error reporting, argument parsing, and the round trip with twinsnapd with
 * its progress line.
 */
#include "config.h"
#include "twinsnap_cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "twinsnap_text.h"

/* ---- output helpers -------------------------------------------------------- */

void cli_print_json(const struct cli *cli, struct json_object *o)
{
	int flags = cli->ndjson ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY;

	puts(json_object_to_json_string_ext(o, flags | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void vfail(const struct cli *cli, const char *err_code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vfail(const struct cli *cli, const char *err_code, const char *fmt, va_list ap)
{
	char msg[1024], *safe;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Messages quote names users chose: keep escapes off the terminal. */
	safe = text_safe(msg, 0, NULL);
	fprintf(stderr, "twinsnap: %s\n", safe);
	free(safe);
	if (cli->json) {
		struct json_object *o, *e = json_object_new_object();
		char *fixed = text_utf8_fix(msg);

		json_object_object_add(e, "code", json_object_new_string(err_code));
		json_object_object_add(e, "message", json_object_new_string(fixed));
		free(fixed);
		if (cli->stream && cli->stream->open) {
			/* rows are out already: one document still, with the error last */
			jstream_end(cli->stream, e);
			return;
		}
		o = json_object_new_object();
		json_object_object_add(o, "error", e);
		cli_print_json(cli, o);
	}
}

int cli_fail(const struct cli *cli, int code, const char *err_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(cli, err_code, fmt, ap);
	va_end(ap);
	return code;
}

int cli_usage(const struct cli *cli, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_fail(cli, EXIT_USAGE, "usage", "%s (see twinsnap --help)", msg);
}

/* ---- arguments ------------------------------------------------------------- */

/* The option @arg names ("--name" or "--name=TEXT"); *@val: the inline value. */
static int find_opt(const struct cli_spec *spec, char *arg, char **val)
{
	char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);

	*val = eq ? eq + 1 : NULL;
	for (size_t i = 0; i < spec->n_opts; i++)
		if (strlen(spec->opts[i].name) == len && strncmp(spec->opts[i].name, arg, len) == 0)
			return (int)i;
	return -1;
}

static int unknown_option(const struct cli *cli, const struct cli_spec *spec, const char *arg)
{
	static const char *const global[] = { "--json", "--socket", "-j", "-s" };

	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		size_t len = strlen(global[i]);

		if (strncmp(arg, global[i], len) == 0 && (arg[len] == '\0' || arg[len] == '='))
			return cli_usage(cli, "%s: %s is a global option, it goes before the "
					 "command: twinsnap [--json] [--socket NAME] %s ...",
					 spec->cmd, global[i], spec->cmd);
	}
	return cli_usage(cli, "%s: unknown option '%s'", spec->cmd, arg);
}

/* Take the option at argv[*i] (and its value, which may be argv[*i + 1]). */
static int take_option(const struct cli *cli, const struct cli_spec *spec, int argc,
		       char **argv, int *i, struct cli_args *out)
{
	char *val;
	int k = find_opt(spec, argv[*i], &val);
	const struct cli_opt *o;
	struct cli_optval *v;

	if (k < 0)
		return unknown_option(cli, spec, argv[*i]);
	o = &spec->opts[k];
	v = &out->opt[k];
	if (o->kind == CLI_OPT_FLAG) {
		if (val)
			return cli_usage(cli, "%s: %s takes no value", spec->cmd, o->name);
		v->set = true;
		return EXIT_OK;
	}
	if (!val && *i + 1 >= argc)
		return cli_usage(cli, "%s: %s needs a value", spec->cmd, o->name);
	if (!val)
		val = argv[++*i];
	if (o->kind == CLI_OPT_VALUE && v->set)
		return cli_usage(cli, "%s: %s given more than once", spec->cmd, o->name);
	if (o->kind == CLI_OPT_VALUE) {
		v->value = val;
	} else {
		if (!v->list && !(v->list = calloc((size_t)argc, sizeof(*v->list))))
			return cli_fail(cli, EXIT_FAILED, "out_of_memory", "out of memory");
		v->list[v->n++] = val;
	}
	v->set = true;
	return EXIT_OK;
}

int cli_parse(const struct cli *cli, const struct cli_spec *spec, int argc, char **argv,
	      struct cli_args *out)
{
	size_t n_pos = 0, want = 0;
	bool options = true;
	int rc;

	memset(out, 0, sizeof(*out));
	while (want < CLI_MAX_POS && spec->pos[want])
		want++;
	for (int i = 0; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0) {
			options = false;
		} else if (options && argv[i][0] == '-' && argv[i][1] != '\0') {
			rc = take_option(cli, spec, argc, argv, &i, out);
			if (rc != EXIT_OK)
				return rc;
		} else if (n_pos < want) {
			out->pos[n_pos++] = argv[i];
		} else {
			return cli_usage(cli, "%s: unexpected argument '%s'", spec->cmd, argv[i]);
		}
	}
	if (n_pos < want)
		return cli_usage(cli, "%s: missing %s", spec->cmd, spec->pos[n_pos]);
	return EXIT_OK;
}

void cli_args_free(struct cli_args *a)
{
	for (size_t i = 0; i < CLI_MAX_OPTS; i++) {
		free(a->opt[i].list);
		a->opt[i].list = NULL;
	}
}

/* ---- progress ------------------------------------------------------------------ */

/*
 * "MESSAGE Ns" on stderr, once a second, while a slow request is out.  A
 * thread, because the request blocks in libqb and a signal would cut it.
 */
struct progress {
	const char *msg;
	bool running, done;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	struct timespec at;
	unsigned secs = 0;

	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_sec++;
	pthread_mutex_lock(&p->lock);
	while (!p->done) {
		if (pthread_cond_timedwait(&p->cond, &p->lock, &at) != ETIMEDOUT)
			continue;
		fprintf(stderr, "\r%s %us", p->msg, ++secs);
		at.tv_sec++;
	}
	pthread_mutex_unlock(&p->lock);
	if (secs)
		fputs("\r\033[K", stderr);      /* leave the terminal as it was */
	return NULL;
}

static void progress_start(struct progress *p, const char *msg)
{
	pthread_condattr_t ca;

	p->msg = msg;
	p->running = false;
	p->done = false;
	if (!msg || !isatty(STDERR_FILENO))
		return;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->running = pthread_create(&p->thread, NULL, progress_main, p) == 0;
	if (!p->running) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
	}
}

static void progress_stop(struct progress *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->done = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

/* ---- talking to the agent ------------------------------------------------------ */

int cli_connect(const struct cli *cli, struct ts_client **out)
{
	int rc = ts_client_connect(cli->service, CLI_CONNECT_TIMEOUT_MS, out);

	if (rc == -EACCES || rc == -EPERM)
		return cli_fail(cli, EXIT_DENIED, "permission_denied",
				"permission denied: twinsnapd admits root and its admin group only");
	if (rc == -ETIMEDOUT)
		return cli_fail(cli, EXIT_UNREACHABLE, "agent_unreachable",
				"twinsnapd (IPC service '%s') did not take the connection within "
				"%d s: is it stopped or hung?", cli->service,
				CLI_CONNECT_TIMEOUT_MS / 1000);
	if (rc < 0)
		return cli_fail(cli, EXIT_UNREACHABLE, "agent_unreachable",
				"cannot reach twinsnapd (IPC service '%s'): %s; is it running?",
				cli->service, strerror(-rc));
	return EXIT_OK;
}

/* The agent's refusal or failure, as it worded it; @r is freed unless in an arena. */
static int agent_error(const struct cli *cli, Twinsnap__Reply *r, bool in_arena)
{
	int code = r->exit_code;

	/* Only codes of the contract leave this program. */
	if (code < EXIT_FAILED || code > EXIT_DENIED)
		code = EXIT_FAILED;
	cli_fail(cli, code, r->error_code[0] ? r->error_code : "failed", "%s",
		 r->message[0] ? r->message : "twinsnapd reported a failure without a reason");
	if (!in_arena)
		twinsnap__reply__free_unpacked(r, NULL);
	return code;
}

/* A failure of the IPC itself (not the agent's answer), reported. */
static int ipc_failure(const struct cli *cli, int rc, int timeout_ms)
{
	if (rc == -ETIMEDOUT)
		return cli_fail(cli, EXIT_UNREACHABLE, "agent_unreachable",
				"twinsnapd did not answer within %d s (it may still be working on it)",
				timeout_ms / 1000);
	if (rc == -ENOTCONN || rc == -ECONNRESET || rc == -EPIPE || rc == -ESHUTDOWN)
		return cli_fail(cli, EXIT_UNREACHABLE, "agent_unreachable",
				"lost the connection to twinsnapd (%s); did it stop?", strerror(-rc));
	return cli_fail(cli, EXIT_UNREACHABLE, "agent_unreachable",
			"no answer from twinsnapd: %s", strerror(-rc));
}

int cli_send(const struct cli *cli, struct ts_client *c, const Twinsnap__Request *rq)
{
	int rc = ts_client_send(c, rq);

	return rc < 0 ? ipc_failure(cli, rc == -EAGAIN ? -ETIMEDOUT : rc, CLI_TIMEOUT_MS)
		      : EXIT_OK;
}

static int recv_checked(const struct cli *cli, struct ts_client *c, int timeout_ms,
			const char *progress, struct ts_arena *arena, Twinsnap__Reply **reply)
{
	struct progress p;
	int rc;

	progress_start(&p, progress);
	rc = arena ? ts_client_recv_arena(c, timeout_ms, arena, reply)
		   : ts_client_recv(c, timeout_ms, reply);
	progress_stop(&p);
	if (rc < 0)
		return ipc_failure(cli, rc, timeout_ms);
	if ((*reply)->exit_code != EXIT_OK) {
		rc = agent_error(cli, *reply, arena != NULL);
		*reply = NULL;
		return rc;
	}
	return EXIT_OK;
}

int cli_recv(const struct cli *cli, struct ts_client *c, int timeout_ms, const char *progress,
	     Twinsnap__Reply **reply)
{
	return recv_checked(cli, c, timeout_ms, progress, NULL, reply);
}

int cli_recv_arena(const struct cli *cli, struct ts_client *c, int timeout_ms,
		   struct ts_arena *arena, Twinsnap__Reply **reply)
{
	return recv_checked(cli, c, timeout_ms, NULL, arena, reply);
}

int cli_request(const struct cli *cli, struct ts_client *c, const Twinsnap__Request *rq,
		int timeout_ms, const char *progress, Twinsnap__Reply **reply)
{
	int rc = ts_client_send(c, rq);

	if (rc < 0)
		return ipc_failure(cli, rc == -EAGAIN ? -ETIMEDOUT : rc, timeout_ms);
	return cli_recv(cli, c, timeout_ms, progress, reply);
}

int cli_call(const struct cli *cli, const Twinsnap__Request *rq, int timeout_ms,
	     const char *progress, Twinsnap__Reply **reply)
{
	struct ts_client *c = NULL;
	int rc = cli_connect(cli, &c);

	if (rc != EXIT_OK)
		return rc;
	rc = cli_request(cli, c, rq, timeout_ms, progress, reply);
	ts_client_close(c);
	return rc;
}

int cli_expect_kept(const struct cli *cli, const Twinsnap__Reply *r,
		    Twinsnap__Reply__BodyCase body)
{
	if (r->body_case == body)
		return EXIT_OK;
	return cli_fail(cli, EXIT_FAILED, "bad_reply",
			"unexpected reply from twinsnapd (is it the same version as twinsnap?)");
}

int cli_expect(const struct cli *cli, Twinsnap__Reply *r, Twinsnap__Reply__BodyCase body)
{
	int rc = cli_expect_kept(cli, r, body);

	if (rc != EXIT_OK)
		twinsnap__reply__free_unpacked(r, NULL);
	return rc;
}
