// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * echo_server — the Linux kernel's TCP as the reference for `apus net serve
 * --tcp-echo`: a single-threaded, non-blocking epoll TCP echo server.
 *
 *   echo_server ADDR PORT [--seconds N] [--buffer BYTES]
 *
 * Each connection's bytes are echoed in order through a per-connection buffer
 * (64 KiB by default, the size of the Apus responder's scratch buffer). A
 * connection whose echo cannot be written in full stops reading until the
 * rest is sent (EPOLLOUT), so a peer that does not read is flow-controlled
 * instead of buffered without bound. After the peer's FIN and the last echoed
 * byte the connection is closed, so both sides end in a normal close.
 * TCP_NODELAY on every connection: an echo leaves at once, as from Apus.
 *
 * Prints "READY ADDR:PORT" once listening, and on SIGINT/SIGTERM (or after
 * --seconds, 0 = no limit) one summary line:
 *   echo_server: accepted=N closed=N reset=N open=N bytes_echoed=N
 * (scripts/bench.sh tcp parses both).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS     256
#define READS_PER_WAKE 16       /* per event: fairness between connections */

struct connection {
	int fd;
	int waiting_out;        /* registered for EPOLLOUT (echo pending), not EPOLLIN */
	int end_of_stream;      /* the peer's FIN was read */
	size_t pending, offset; /* buffer[offset..pending) is still to be written */
	uint8_t buffer[];
};

static volatile sig_atomic_t stop_requested;
static size_t buffer_size = 64 * 1024;
static uint64_t accepted, closed, resets, bytes_echoed;
static int epoll_fd;

static void on_signal(int signo) { (void)signo; stop_requested = 1; }

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s ADDR PORT [--seconds N] [--buffer BYTES]\n"
		"  defaults: --seconds 0 (until SIGINT/SIGTERM) --buffer 65536\n", argv0);
	exit(64);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long parse_number(const char *text, unsigned long min, unsigned long max,
				  const char *argv0)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (!*text || *end || errno || value < min || value > max)
		usage(argv0);
	return value;
}

static void watch(struct connection *c, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (epoll_ctl(epoll_fd, op, c->fd, &ev) < 0) {
		perror("echo_server: epoll_ctl");
		exit(1);
	}
}

static void finish(struct connection *c, int reset)
{
	epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	closed++;
	resets += reset != 0;
}

/* Writes what is pending; returns 1 when all of it went, 0 when the socket is
 * full, -1 when the connection failed. */
static int flush_pending(struct connection *c)
{
	while (c->offset < c->pending) {
		ssize_t n = send(c->fd, c->buffer + c->offset, c->pending - c->offset, MSG_NOSIGNAL);

		if (n > 0) {
			c->offset += (size_t)n;
			bytes_echoed += (uint64_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			return -1;
		}
	}
	c->pending = c->offset = 0;
	return 1;
}

static void serve(struct connection *c, uint32_t events)
{
	int i, flushed;

	if (c->waiting_out) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		flushed = flush_pending(c);
		if (flushed < 0) {
			finish(c, 1);
			return;
		}
		if (!flushed)
			return;
		if (c->end_of_stream) {
			finish(c, 0);
			return;
		}
		c->waiting_out = 0;
		watch(c, EPOLLIN, EPOLL_CTL_MOD);
	}
	for (i = 0; i < READS_PER_WAKE; i++) {
		ssize_t n = recv(c->fd, c->buffer, buffer_size, 0);

		if (n == 0) {
			c->end_of_stream = 1;
			finish(c, 0);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			finish(c, 1);
			return;
		}
		c->pending = (size_t)n;
		c->offset = 0;
		flushed = flush_pending(c);
		if (flushed < 0) {
			finish(c, 1);
			return;
		}
		if (!flushed) {
			/* Stop reading until the echo is out: the peer is flow-controlled. */
			c->waiting_out = 1;
			watch(c, EPOLLOUT, EPOLL_CTL_MOD);
			return;
		}
		if ((size_t)n < buffer_size)
			return; /* likely drained; level-triggered epoll calls again if not */
	}
}

static void accept_all(int listener)
{
	for (;;) {
		struct connection *c;
		int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				perror("echo_server: accept4");
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c) + buffer_size);
		if (!c) {
			fprintf(stderr, "echo_server: out of memory\n");
			exit(1);
		}
		c->fd = fd;
		watch(c, EPOLLIN, EPOLL_CTL_ADD);
		accepted++;
	}
}

int main(int argc, char **argv)
{
	struct epoll_event events[MAX_EVENTS], ev;
	struct sockaddr_in address = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long seconds = 0;
	uint64_t deadline = 0;
	int listener, one = 1, i, n;
	static int listener_tag;

	if (argc < 3)
		usage(argv[0]);
	if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1)
		usage(argv[0]);
	address.sin_port = htons((uint16_t)parse_number(argv[2], 1, 65535, argv[0]));
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = parse_number(argv[++i], 0, 86400, argv[0]);
		else if (!strcmp(argv[i], "--buffer") && i + 1 < argc)
			buffer_size = parse_number(argv[++i], 1, 16 << 20, argv[0]);
		else
			usage(argv[0]);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listener < 0) {
		perror("echo_server: socket");
		return 1;
	}
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listener, (struct sockaddr *)&address, sizeof(address)) < 0 || listen(listener, 1024) < 0) {
		fprintf(stderr, "echo_server: cannot listen on %s:%s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (epoll_fd < 0) {
		perror("echo_server: epoll_create1");
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &listener_tag;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &ev) < 0) {
		perror("echo_server: epoll_ctl");
		return 1;
	}
	if (seconds)
		deadline = now_ns() + (uint64_t)seconds * 1000000000u;
	printf("READY %s:%s\n", argv[1], argv[2]);
	fflush(stdout);

	while (!stop_requested && (!deadline || now_ns() < deadline)) {
		n = epoll_wait(epoll_fd, events, MAX_EVENTS, 100);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("echo_server: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (events[i].data.ptr == &listener_tag)
				accept_all(listener);
			else
				serve(events[i].data.ptr, events[i].events);
		}
	}
	printf("echo_server: accepted=%llu closed=%llu reset=%llu open=%llu bytes_echoed=%llu\n",
	       (unsigned long long)accepted, (unsigned long long)closed, (unsigned long long)resets,
	       (unsigned long long)(accepted - closed), (unsigned long long)bytes_echoed);
	fflush(stdout);
	return 0;
}
