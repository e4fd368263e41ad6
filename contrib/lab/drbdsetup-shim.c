/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * drbdsetup-shim - a lab PM's drbdsetup, without a python start per call.
 *
 * The lab's DRBD stand-in (drbdsetup-standin) is python: started for each
 * call it costs ~40 ms, where the real drbdsetup costs ~1 ms, and a
 * coordinated snapshot makes ~6 calls, so the lab would time python.  Its
 * `admin serve` mode keeps the modules loaded and forks a child per call;
 * this shim, installed as LAB/NODE/bin/drbdsetup (a copy, so /proc/self/exe
 * names the lab and the node), hands it the call: node name, arguments and
 * its own fds 0, 1, 2 (SCM_RIGHTS), so the child reads and writes them
 * directly; then it exits with the status the server sends back.
 * SIGTERM ends it with 0 and SIGINT with 130, as they end the stand-in;
 * the server ends the child when this connection closes.
 * No server (no socket, refused, fd 0-2 closed): it execs the python path,
 * LAB/NODE/bin/drbdsetup-py, which prints the same, slowly.
 * Protocol: drbdsetup-standin, "serve" (uint32 length, NODE\0ARG\0...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EXIT_FATAL 20 /* drbdsetup: fatal */

static void on_term(int sig)
{
	_exit(sig == SIGINT ? 130 : 0);
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_term }, old;

	sigaction(SIGTERM, &sa, NULL);
	/* python keeps an inherited SIG_IGN of SIGINT (a background job) */
	if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		sigaction(SIGINT, &sa, NULL);
}

/* /proc/self/exe = LAB/NODE/bin/NAME: LAB and NODE, in place */
static int lab_and_node(char *exe, size_t size, const char **lab, const char **node)
{
	ssize_t n = readlink("/proc/self/exe", exe, size - 1);
	char *cut[3];

	if (n < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	exe[n] = '\0';
	for (int i = 0; i < 3; i++) {
		cut[i] = strrchr(exe, '/');
		if (!cut[i] || cut[i] == exe)
			return -EINVAL;
		*cut[i] = '\0';
	}
	if (strcmp(cut[1] + 1, "bin") != 0)
		return -EINVAL;
	*node = cut[2] + 1;
	*lab = exe;
	return 0;
}

static int connect_server(const char *lab, int *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc = 0;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/drbd/standin.sock", lab) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	*sock = fd;
	return 0;
}

/* LEN bytes of BUF, fds 0, 1, 2 attached to the first */
static int send_with_fds(int sock, const char *buf, size_t len)
{
	int fds[3] = { 0, 1, 2 };
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	size_t off = 0;
	ssize_t w;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	while (off < len) {
		if (off == 0)
			w = sendmsg(sock, &msg, MSG_NOSIGNAL);
		else
			w = send(sock, buf + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EINTR)
			return -errno;
		off += w > 0 ? (size_t)w : 0;
	}
	return 0;
}

/* the request: uint32 length, NODE\0ARG\0... */
static int send_request(int sock, const char *node, int argc, char **argv)
{
	size_t len = strlen(node) + 1, off = 4;
	uint32_t n;
	char *req;
	int rc;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	req = malloc(4 + len);
	if (!req)
		return -ENOMEM;
	n = (uint32_t)len;
	memcpy(req, &n, 4);
	memcpy(req + off, node, strlen(node) + 1);
	off += strlen(node) + 1;
	for (int i = 0; i < argc; i++) {
		memcpy(req + off, argv[i], strlen(argv[i]) + 1);
		off += strlen(argv[i]) + 1;
	}
	rc = send_with_fds(sock, req, off);
	free(req);
	return rc;
}

/* the child's exit status: "%d\n" */
static int wait_status(int sock)
{
	char line[16];
	size_t len = 0;
	ssize_t r;
	char *end;
	long v;

	while (len < sizeof(line) - 1 && !memchr(line, '\n', len)) {
		r = read(sock, line + len, sizeof(line) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		len += (size_t)r;
	}
	line[len] = '\0';
	v = strtol(line, &end, 10);
	if (end == line || *end != '\n' || v < 0 || v > 255)
		return -EPROTO;
	return (int)v;
}

_Noreturn static void exec_python(const char *lab, const char *node, char **argv)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/bin/drbdsetup-py", lab, node);
	execv(path, argv);
	fprintf(stderr, "drbdsetup: cannot run %s: %s\n", path, strerror(errno));
	exit(127);
}

int main(int argc, char **argv)
{
	char exe[PATH_MAX];
	const char *lab = NULL, *node = NULL;
	int sock = -1, rc;

	catch_signals();
	rc = lab_and_node(exe, sizeof(exe), &lab, &node);
	if (rc < 0) {
		fprintf(stderr, "drbdsetup: not at LAB/NODE/bin/drbdsetup: %s\n", strerror(-rc));
		return EXIT_FATAL;
	}
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			exec_python(lab, node, argv);
	if (connect_server(lab, &sock) < 0)
		exec_python(lab, node, argv);
	/* the server forks only on a whole request: a failed send ran nothing */
	if (send_request(sock, node, argc - 1, argv + 1) < 0) {
		close(sock);
		exec_python(lab, node, argv);
	}
	rc = wait_status(sock);
	close(sock);
	if (rc < 0) {
		fprintf(stderr, "drbdsetup: the lab's stand-in server gave no exit status: %s\n",
			strerror(-rc));
		return EXIT_FATAL;
	}
	return rc;
}
