/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cpg_rtt — the messaging floor of a coordinated snapshot: the round trip of
 * one agreed-order corosync CPG multicast between two nodes, sent the way
 * twinsnapd sends (cpg_mcast_joined, CPG_TYPE_AGREED), with nothing of
 * twinsnap in the path.
 *
 *   cpg_rtt echo GROUP
 *       join GROUP and multicast back, as a pong, every ping another node
 *       sends; exit 0 on the pinger's "bye", on SIGTERM or SIGINT
 *   cpg_rtt ping GROUP N [SIZE] [--json]
 *       wait (up to 30 s) until a second member is in GROUP, then send
 *       WARMUP + N pings of SIZE bytes (default 256) one at a time; each is
 *       timed with CLOCK_MONOTONIC from just before the send to the delivery
 *       of the peer's pong; the first WARMUP are not counted.  Prints
 *       "p50_ms p99_ms max_ms", or with --json one object: size, warmup
 *       and rtt {n, min/p50/p90/p99/max/mean in ms}.  Ends with a "bye".
 *
 * Built by `make bench` (tests/bench/run-bench); never part of make check.
 * Exit status: 0 ok, 1 failure (a message on stderr), 2 usage.
 */
#include "config.h"

#include <corosync/cpg.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define PROBE_MAGIC 0x74737274u         /* "tsrt" */
#define WARMUP 10
#define JOIN_TIMEOUT_MS 30000
#define PONG_TIMEOUT_MS 5000
#define SEND_RETRY_MS 5000
#define SIZE_MAX_BYTES (1u << 20)
#define COUNT_MAX 1000000u

enum probe_kind { PROBE_PING = 1, PROBE_PONG = 2, PROBE_BYE = 3 };

/* Every message starts with this; the rest of SIZE bytes is padding. */
struct probe_hdr {
	uint32_t magic;
	uint32_t kind;
	uint32_t to_nodeid;             /* a pong: the pinger it answers */
	uint32_t to_pid;
	uint64_t seq;
};

struct probe {
	cpg_handle_t cpg;
	int fd;
	uint32_t nodeid;
	uint32_t pid;
	bool echo;                      /* echo mode: answer pings */
	size_t members;                 /* processes in the group, us included */
	uint64_t want_seq;              /* ping mode: the pong we wait for */
	bool got;
	bool bye;
	int err;                        /* first failure inside a callback */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int cs_errno(cs_error_t e)
{
	switch (e) {
	case CS_OK:
		return 0;
	case CS_ERR_TRY_AGAIN:
		return -EAGAIN;
	case CS_ERR_NO_MEMORY:
		return -ENOMEM;
	case CS_ERR_TOO_BIG:
		return -EMSGSIZE;
	case CS_ERR_LIBRARY:
	case CS_ERR_BAD_HANDLE:
		return -ENOTCONN;
	case CS_ERR_ACCESS:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* Multicast @msg in agreed order, waiting out corosync's flow control. */
static int send_msg(struct probe *p, const void *msg, size_t len)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 100000 };
	uint64_t deadline = bench_now_ns() + (uint64_t)SEND_RETRY_MS * 1000000u;
	cs_error_t e;

	while ((e = cpg_mcast_joined(p->cpg, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN &&
	       bench_now_ns() < deadline)
		nanosleep(&pause, NULL);
	return cs_errno(e);
}

static struct probe *probe_of(cpg_handle_t h)
{
	void *ctx = NULL;

	cpg_context_get(h, &ctx);
	return ctx;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
		       uint32_t pid, void *msg, size_t len)
{
	struct probe *p = probe_of(h);
	struct probe_hdr hdr;

	if (!p || len < sizeof(hdr))
		return;
	memcpy(&hdr, msg, sizeof(hdr));
	if (hdr.magic != PROBE_MAGIC)
		return;
	if (p->echo) {
		if (nodeid == p->nodeid)
			return;         /* only pings from another node */
		if (hdr.kind == PROBE_BYE) {
			p->bye = true;
		} else if (hdr.kind == PROBE_PING && !p->err) {
			/* The same bytes back, the header turned into a pong. */
			uint8_t *pong = malloc(len);

			if (!pong) {
				p->err = -ENOMEM;
				return;
			}
			memcpy(pong, msg, len);
			hdr.kind = PROBE_PONG;
			hdr.to_nodeid = nodeid;
			hdr.to_pid = pid;
			memcpy(pong, &hdr, sizeof(hdr));
			p->err = send_msg(p, pong, len);
			free(pong);
		}
		return;
	}
	if (hdr.kind == PROBE_PONG && hdr.to_nodeid == p->nodeid && hdr.to_pid == p->pid &&
	    hdr.seq == p->want_seq)
		p->got = true;
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	struct probe *p = probe_of(h);

	if (p)
		p->members = n_members;
}

static cpg_callbacks_t callbacks = {
	.cpg_deliver_fn = on_deliver,
	.cpg_confchg_fn = on_confchg,
};

/* Connect to the local corosync and join @group; 0 or -errno. */
static int probe_open(struct probe *p, const char *group, bool echo)
{
	struct cpg_name name;
	unsigned int nodeid = 0;
	cs_error_t e;
	int rc;

	memset(p, 0, sizeof(*p));
	p->echo = echo;
	p->pid = (uint32_t)getpid();
	if (strlen(group) >= sizeof(name.value))
		return -ENAMETOOLONG;
	name.length = (uint32_t)strlen(group);
	memcpy(name.value, group, name.length);

	e = cpg_initialize(&p->cpg, &callbacks);
	if (e != CS_OK)
		return cs_errno(e);
	cpg_context_set(p->cpg, p);
	e = cpg_local_get(p->cpg, &nodeid);
	if (e != CS_OK) {
		rc = cs_errno(e);
		goto finalize;
	}
	p->nodeid = nodeid;
	e = cpg_fd_get(p->cpg, &p->fd);
	if (e != CS_OK) {
		rc = cs_errno(e);
		goto finalize;
	}
	for (int i = 0; i < 100 && (e = cpg_join(p->cpg, &name)) == CS_ERR_TRY_AGAIN; i++)
		usleep(10000);
	if (e != CS_OK) {
		rc = cs_errno(e);
		goto finalize;
	}
	return 0;

finalize:
	cpg_finalize(p->cpg);
	return rc;
}

static void probe_close(struct probe *p)
{
	cpg_finalize(p->cpg);
}

/*
 * Dispatch what corosync has for us, waiting up to @timeout_ms for it.
 * 0; -EINTR on SIGTERM/SIGINT; -ETIMEDOUT; -errno from corosync or from a
 * send inside a callback.
 */
static int pump(struct probe *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	cs_error_t e;
	int n;

	if (stop_signal)
		return -EINTR;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? (stop_signal ? -EINTR : 0) : -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
		return -ENOTCONN;
	e = cpg_dispatch(p->cpg, CS_DISPATCH_ALL);
	if (e != CS_OK)
		return cs_errno(e);
	return p->err;
}

static int run_echo(const char *group)
{
	struct probe p;
	int rc = probe_open(&p, group, true);

	if (rc < 0) {
		fprintf(stderr, "cpg_rtt: cannot join CPG group %s: %s\n", group, strerror(-rc));
		return 1;
	}
	while (!p.bye) {
		rc = pump(&p, 1000);
		if (rc == -ETIMEDOUT)
			continue;
		if (rc < 0)
			break;
	}
	probe_close(&p);
	if (rc < 0 && rc != -EINTR) {
		fprintf(stderr, "cpg_rtt echo: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}

/* Wait until another process is in the group; 0 or -errno. */
static int wait_peer(struct probe *p)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)JOIN_TIMEOUT_MS * 1000000u;

	while (p->members < 2) {
		int rc;

		if (bench_now_ns() >= deadline)
			return -ETIMEDOUT;
		rc = pump(p, 100);
		if (rc < 0 && rc != -ETIMEDOUT)
			return rc;
	}
	return 0;
}

/* One ping, timed until its pong is delivered: @ms; 0 or -errno. */
static int ping_once(struct probe *p, uint8_t *buf, size_t size, uint64_t seq, double *ms)
{
	struct probe_hdr hdr = { .magic = PROBE_MAGIC, .kind = PROBE_PING, .seq = seq };
	uint64_t t0, deadline;
	int rc;

	memcpy(buf, &hdr, sizeof(hdr));
	p->want_seq = seq;
	p->got = false;
	t0 = bench_now_ns();
	deadline = t0 + (uint64_t)PONG_TIMEOUT_MS * 1000000u;
	rc = send_msg(p, buf, size);
	while (rc == 0 && !p->got) {
		uint64_t now = bench_now_ns();

		if (now >= deadline)
			return -ETIMEDOUT;
		rc = pump(p, (int)((deadline - now) / 1000000u) + 1);
		if (rc == -ETIMEDOUT)
			rc = 0;
	}
	if (rc < 0)
		return rc;
	*ms = bench_ms(t0, bench_now_ns());
	return 0;
}

static void print_stats(double *v, size_t n, size_t size, bool json)
{
	struct bench_stats s;

	bench_stats(v, n, &s);
	if (!json) {
		printf("%.3f %.3f %.3f\n", s.p50, s.p99, s.max);
		return;
	}
	printf("{\"size\": %zu, \"warmup\": %d, \"rtt\": ", size, WARMUP);
	bench_stats_print_json(stdout, &s);
	printf("}\n");
}

static int run_ping(const char *group, size_t count, size_t size, bool json)
{
	struct probe_hdr bye = { .magic = PROBE_MAGIC, .kind = PROBE_BYE };
	struct probe p;
	double *ms;
	uint8_t *buf;
	const char *what = "join";
	int rc, ret = 1;

	ms = calloc(count, sizeof(*ms));
	buf = calloc(1, size);
	if (!ms || !buf) {
		fprintf(stderr, "cpg_rtt: out of memory\n");
		goto free_bufs;
	}
	memset(buf, 0x5a, size);
	rc = probe_open(&p, group, false);
	if (rc < 0)
		goto report;
	what = "wait for a second member";
	rc = wait_peer(&p);
	if (rc < 0)
		goto close;
	what = "ping";
	for (size_t i = 0; i < count + WARMUP; i++) {
		double t = 0;

		rc = ping_once(&p, buf, size, i + 1, &t);
		if (rc < 0)
			goto close;
		if (i >= WARMUP)
			ms[i - WARMUP] = t;
	}
	print_stats(ms, count, size, json);
	ret = 0;
close:
	/* The echo side ends on this; a failure here changes no figure. */
	(void)send_msg(&p, &bye, sizeof(bye));
	probe_close(&p);
report:
	if (ret != 0)
		fprintf(stderr, "cpg_rtt ping: %s (group %s): %s\n", what, group, strerror(-rc));
free_bufs:
	free(buf);
	free(ms);
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "usage: cpg_rtt echo GROUP\n"
		"       cpg_rtt ping GROUP N [SIZE] [--json]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t count = 0, size = 256;
	bool json = false;
	int npos = 0;
	const char *pos[4] = { NULL };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (npos < 4)
			pos[npos++] = argv[i];
		else
			return usage();
	}
	if (npos < 2 || pos[1][0] == '\0')
		return usage();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(pos[0], "echo") == 0 && npos == 2 && !json)
		return run_echo(pos[1]);
	if (strcmp(pos[0], "ping") != 0 || npos < 3 ||
	    bench_parse_u64(pos[2], 1, COUNT_MAX, &count) < 0 ||
	    (npos == 4 && bench_parse_u64(pos[3], sizeof(struct probe_hdr), SIZE_MAX_BYTES,
					  &size) < 0))
		return usage();
	return run_ping(pos[1], (size_t)count, (size_t)size, json);
}
