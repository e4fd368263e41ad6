/* SPDX-License-Identifier: GPL-2.0-or-later */
/* client — libqb IPC client for twinsnapd (see client.h). */
#include "config.h"
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <qb/qbipcc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapters/ipc_server.h"

struct ts_client {
	qb_ipcc_connection_t *conn;
	int32_t next_id;
	uint8_t *resp;          /* TS_IPC_MAX_MSG, for every reply on this connection */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until @fd is readable or @deadline (CLOCK_MONOTONIC ms): 0 or -ETIMEDOUT. */
static int wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * libqb's qb_ipcc_connect() waits for the agent's handshake without a
 * limit: an agent that is stopped (SIGSTOP, a debugger) or wedged holds
 * the CLI for ever, since the kernel queues the connection for it.  The
 * asynchronous pair bounds that wait.
 */
int ts_client_connect(const char *service, int timeout_ms, struct ts_client **out)
{
	struct ts_client *c = calloc(1, sizeof(*c));
	int64_t deadline = mono_ms() + timeout_ms;
	int fd = -1, rc;

	if (!c)
		return -ENOMEM;
	errno = 0;
	c->conn = qb_ipcc_connect_async(service, TS_IPC_MAX_MSG, &fd);
	if (!c->conn) {
		rc = errno ? -errno : -ECONNREFUSED;
		goto fail;
	}
	rc = wait_readable(fd, deadline);
	if (rc < 0) {
		/* Not set up yet: disconnect frees it, the socket is ours to close. */
		qb_ipcc_disconnect(c->conn);
		close(fd);
		goto fail;
	}
	rc = qb_ipcc_connect_continue(c->conn);         /* frees it on failure */
	if (rc < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	free(c);
	return rc;
}

void ts_client_close(struct ts_client *c)
{
	if (!c)
		return;
	qb_ipcc_disconnect(c->conn);
	free(c->resp);
	free(c);
}

int ts_client_send(struct ts_client *c, const Twinsnap__Request *rq)
{
	size_t len = twinsnap__request__get_packed_size(rq);
	struct qb_ipc_request_header hdr;
	struct iovec iov[2];
	uint8_t *req_buf = malloc(len ? len : 1);
	ssize_t n;

	if (!req_buf)
		return -ENOMEM;
	twinsnap__request__pack(rq, req_buf);
	hdr.id = TS_IPC_MSG_REQUEST;
	hdr.size = (int32_t)(sizeof(hdr) + len);
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = req_buf;
	iov[1].iov_len = len;
	n = qb_ipcc_sendv(c->conn, iov, 2);
	free(req_buf);
	return n < 0 ? (int)n : 0;
}

/*
 * The wait is cut in slices: between two, a connection the agent dropped
 * (it stopped or crashed) ends it at once instead of after @timeout_ms.
 * The deadline is on the clock: a recv may also come back early, without
 * an answer (-EAGAIN), and is then just tried again.
 */
#define RECV_SLICE_MS 1000

static ssize_t recv_reply(struct ts_client *c, uint8_t *buf, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = qb_ipcc_recv(c->conn, buf, TS_IPC_MAX_MSG,
				 (int32_t)(left > RECV_SLICE_MS ? RECV_SLICE_MS : left));
		if (n != -ETIMEDOUT && n != -EAGAIN)
			return n;
		if (!qb_ipcc_is_connected(c->conn))
			return -ENOTCONN;
	}
}

static int recv_unpack(struct ts_client *c, int timeout_ms, ProtobufCAllocator *alloc,
		       Twinsnap__Reply **reply)
{
	struct qb_ipc_response_header *rh;
	ssize_t n;

	if (!c->resp && !(c->resp = malloc(TS_IPC_MAX_MSG)))
		return -ENOMEM;
	rh = (void *)c->resp;
	n = recv_reply(c, c->resp, timeout_ms);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(*rh) || rh->size != n)
		return -EPROTO;
	*reply = twinsnap__reply__unpack(alloc, (size_t)n - sizeof(*rh), c->resp + sizeof(*rh));
	return *reply ? 0 : -EPROTO;
}

int ts_client_recv(struct ts_client *c, int timeout_ms, Twinsnap__Reply **reply)
{
	return recv_unpack(c, timeout_ms, NULL, reply);
}

/* ---- arena --------------------------------------------------------------------- */

#define ARENA_CHUNK (1u << 20)
#define ARENA_ALIGN 16u

/* Chunks in a list, the one being filled first; big requests get their own.
 * A reset keeps the chunks of the usual size for the next reply (a page of
 * a list fills about one), so unpacking one does not fault in new pages. */
struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct ts_arena {
	ProtobufCAllocator pc;          /* what protobuf-c is given */
	struct chunk *chunks;
	struct chunk *spare;            /* emptied by the last reset */
	bool failed;                    /* out of memory since the last reset */
};

static void *arena_alloc(void *data, size_t size)
{
	struct ts_arena *a = data;
	struct chunk *k = a->chunks;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (need < size)
		return NULL;
	if (!k || k->size - k->used < need) {
		size_t sz = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		if (sz == ARENA_CHUNK && a->spare) {
			k = a->spare;
			a->spare = k->next;
		} else if (!(k = malloc(sizeof(*k) + sz))) {
			a->failed = true;
			return NULL;
		}
		k->size = sz;
		k->used = 0;
		k->next = a->chunks;
		a->chunks = k;
	}
	k->used += need;
	return k->data + k->used - need;
}

static void arena_free(void *data, void *p)
{
	(void)data;
	(void)p;        /* all of it goes at the next reset */
}

/* Back to empty, keeping the chunks of the usual size for what comes next. */
static void arena_reset(struct ts_arena *a)
{
	struct chunk *k = a->chunks;

	while (k) {
		struct chunk *next = k->next;

		if (k->size == ARENA_CHUNK) {
			k->next = a->spare;
			a->spare = k;
		} else {
			free(k);
		}
		k = next;
	}
	a->chunks = NULL;
	a->failed = false;
}

struct ts_arena *ts_arena_create(void)
{
	struct ts_arena *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->pc.alloc = arena_alloc;
	a->pc.free = arena_free;
	a->pc.allocator_data = a;
	return a;
}

void ts_arena_destroy(struct ts_arena *a)
{
	if (!a)
		return;
	arena_reset(a);
	while (a->spare) {
		struct chunk *next = a->spare->next;

		free(a->spare);
		a->spare = next;
	}
	free(a);
}

int ts_client_recv_arena(struct ts_client *c, int timeout_ms, struct ts_arena *a,
			 Twinsnap__Reply **reply)
{
	int rc;

	arena_reset(a);
	rc = recv_unpack(c, timeout_ms, &a->pc, reply);
	return rc == -EPROTO && a->failed ? -ENOMEM : rc;
}

int ts_client_call(struct ts_client *c, const Twinsnap__Request *rq, int timeout_ms,
		   Twinsnap__Reply **reply)
{
	int rc = ts_client_send(c, rq);

	if (rc < 0)
		return rc == -EAGAIN ? -ETIMEDOUT : rc;
	return ts_client_recv(c, timeout_ms, reply);
}
