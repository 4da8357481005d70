// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * tcp_load — a kernel-socket TCP echo load generator for the testbed's client
 * side (an Apus `net serve --tcp-echo` responder or echo_server).
 *
 *   tcp_load HOST PORT [--mode stream|rr] [--connections C] [--seconds N]
 *            [--size BYTES] [--window BYTES] [--json]
 *
 * C connections are opened (non-blocking, TCP_NODELAY) and, once all are
 * established, driven from one thread with epoll for N seconds:
 *   stream  every connection writes continuously (SIZE-byte writes, 64 KiB by
 *           default) and reads its echo, with at most WINDOW bytes (1 MiB by
 *           default) sent and not yet echoed: the socket buffers alone would
 *           let tens of MB per connection pile up, which then takes long to
 *           drain. Reports the bytes echoed back within the N seconds, in MB/s
 *           (10^6 bytes).
 *   rr      every connection sends a SIZE-byte request (64 by default) and
 *           waits for its whole echo before sending the next (one outstanding
 *           per connection). Reports transactions/s and latency percentiles
 *           (request written to last echoed byte read; 100 ns resolution).
 * Each connection's byte stream is a fixed pattern, and every echoed byte is
 * compared with what was sent at that offset (mismatches fail the run).
 * After the N seconds nothing new is sent: outstanding echoes are read, each
 * connection is shut down for writing and read to the server's FIN, so every
 * byte sent must come back and every connection closes normally; a connection
 * that does not within DRAIN_S counts as incomplete. Only what came back
 * within the N seconds is counted in the rates.
 *
 * --json: the summary as one JSON object on stdout (scripts/bench.sh tcp).
 * Exit status: 0 ok; 1 errors (connect failures, resets, mismatches,
 * incomplete connections); 2 nothing was echoed at all; 64 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

#define MAX_CONNECTIONS 4096
#define MAX_SIZE        (1 << 20)
#define READ_SIZE       (256 * 1024)
#define PERIOD          251             /* pattern period: prime, so chunks never line up */
#define MAX_EVENTS      256
#define IO_PER_WAKE     16
#define CONNECT_S       5
#define DRAIN_S         5
#define BIN_NS          100             /* latency histogram: 100 ns bins up to 100 ms */
#define BINS            (100 * 1000 * 1000 / BIN_NS)

enum mode { STREAM, RR };

struct connection {
	int fd;
	int open;               /* not yet closed by us */
	int connected;
	int write_shut;         /* shutdown(SHUT_WR) done */
	int eof;                /* the server's FIN was read */
	int failed;
	uint32_t events;        /* what epoll watches now */
	uint64_t sent, received;
	uint64_t request_ns;    /* rr: when the outstanding request was written */
};

static volatile sig_atomic_t stop_requested;
static struct connection connections[MAX_CONNECTIONS];
static uint8_t pattern[PERIOD + MAX_SIZE + READ_SIZE];
static uint8_t read_buffer[READ_SIZE];
static uint32_t histogram[BINS];
static uint64_t over_range, latency_max_ns, latency_sum_ns;
static int epoll_fd, connection_count = 1;
static size_t size, window = 1 << 20;
static enum mode mode = STREAM;
static uint64_t mismatches, errors, transactions, bytes_echoed, bytes_sent;
static int measuring;   /* within the N seconds: count what comes back */
static int sending;     /* new data may still be sent */

static void stream_watch(struct connection *c);

static void on_signal(int signo) { (void)signo; stop_requested = 1; }

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s HOST PORT [--mode stream|rr] [--connections C] [--seconds N] [--size BYTES]\n"
		"                 [--window BYTES] [--json]\n"
		"  defaults: --mode stream --connections 1 (1..%d) --seconds 5\n"
		"            --size 65536 (stream: bytes per write) or 64 (rr: request bytes), 1..%d\n"
		"            --window 1048576 (stream: bytes sent and not yet echoed, per connection)\n",
		argv0, MAX_CONNECTIONS, MAX_SIZE);
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

static void watch(struct connection *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		perror("tcp_load: epoll_ctl");
		exit(1);
	}
	c->events = events;
}

static void fail(struct connection *c, const char *what, int error)
{
	if (!c->failed && errors < 5)
		fprintf(stderr, "tcp_load: connection %d: %s: %s\n", (int)(c - connections), what, strerror(error));
	c->failed = 1;
	errors++;
	epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->open = 0;
}

static void record_latency(uint64_t ns)
{
	if (ns / BIN_NS < BINS)
		histogram[ns / BIN_NS]++;
	else
		over_range++;
	if (ns > latency_max_ns)
		latency_max_ns = ns;
	latency_sum_ns += ns;
}

/* The latency at quantile q, in microseconds (the upper edge of its bin). */
static double percentile_us(uint64_t count, double q)
{
	uint64_t rank = (uint64_t)(q * (double)count), seen = 0;
	size_t i;

	if (rank >= count)
		rank = count - 1;
	for (i = 0; i < BINS; i++) {
		seen += histogram[i];
		if (seen > rank)
			return (double)((i + 1) * BIN_NS) / 1000.0;
	}
	return (double)latency_max_ns / 1000.0;
}

/* rr: writes one LENGTH-byte request. stream: writes LENGTH-byte chunks until
 * the socket is full (or IO_PER_WAKE of them). From the connection's pattern;
 * returns 0, or -1 when the connection failed. */
static int send_some(struct connection *c, size_t length)
{
	int writes = 0;

	while (length) {
		ssize_t n;

		if (mode == STREAM) {
			uint64_t room = window - (c->sent - c->received);

			if (!room)
				break;
			if (length > room)
				length = (size_t)room;
		}
		n = send(c->fd, pattern + c->sent % PERIOD, length, MSG_NOSIGNAL);

		if (n > 0) {
			c->sent += (uint64_t)n;
			bytes_sent += (uint64_t)n;
			if (mode == RR) {
				length -= (size_t)n;
			} else if ((size_t)n < length || ++writes == IO_PER_WAKE) {
				break;          /* full; EPOLLOUT says when there is room again */
			}
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (mode == RR) {
				/* A request of at most MAX_SIZE into an empty send buffer: it fits
				 * unless the buffer is tiny; count it as an error rather than wait. */
				fail(c, "send would block with nothing outstanding", EAGAIN);
				return -1;
			}
			break;
		} else {
			fail(c, "send", n < 0 ? errno : EIO);
			return -1;
		}
	}
	if (mode == STREAM)
		stream_watch(c);
	return 0;
}

/* stream: EPOLLOUT only while the window has room (the echo reopens it). */
static void stream_watch(struct connection *c)
{
	if (c->open)
		watch(c, sending && c->sent - c->received < window ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void rr_send_request(struct connection *c)
{
	c->request_ns = now_ns();
	send_some(c, size);
}

static void shut_write(struct connection *c)
{
	if (c->write_shut || !c->open)
		return;
	c->write_shut = 1;
	if (shutdown(c->fd, SHUT_WR) < 0)
		fail(c, "shutdown", errno);
}

static void on_readable(struct connection *c)
{
	int i;

	for (i = 0; i < IO_PER_WAKE && c->open; i++) {
		size_t want = READ_SIZE;
		ssize_t n;

		if (mode == RR && c->sent - c->received < want)
			want = (size_t)(c->sent - c->received);
		if (!want)
			want = READ_SIZE;       /* nothing outstanding: expect only the FIN */
		n = recv(c->fd, read_buffer, want, 0);
		if (n == 0) {
			c->eof = 1;
			epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->open = 0;
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fail(c, "recv", errno);
			return;
		}
		if ((uint64_t)n > c->sent - c->received
		    || memcmp(read_buffer, pattern + c->received % PERIOD, (size_t)n)) {
			if (!mismatches)
				fprintf(stderr, "tcp_load: connection %d: echo differs from what was sent at offset %llu\n",
					(int)(c - connections), (unsigned long long)c->received);
			mismatches++;
			fail(c, "echo mismatch", EPROTO);
			return;
		}
		c->received += (uint64_t)n;
		if (measuring)
			bytes_echoed += (uint64_t)n;
		if (mode == STREAM && sending && !(c->events & EPOLLOUT))
			stream_watch(c);
		if (mode == RR && c->received == c->sent) {
			if (measuring) {
				transactions++;
				record_latency(now_ns() - c->request_ns);
			}
			if (sending)
				rr_send_request(c);
			else
				shut_write(c);
		}
		if ((size_t)n < want)
			return;
	}
}

static void on_event(struct connection *c, uint32_t events)
{
	if (!c->open)
		return;
	if (events & EPOLLERR) {
		int error = 0;
		socklen_t length = sizeof(error);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
		fail(c, "socket error", error ? error : EIO);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP))
		on_readable(c);
	if (c->open && mode == STREAM && sending && (events & EPOLLOUT))
		send_some(c, size);
}

/* epoll_wait until the deadline; returns when it passes or on a signal. */
static void run_until(uint64_t deadline, int (*done)(void))
{
	struct epoll_event events[MAX_EVENTS];
	int i, n;

	while (!stop_requested && !(done && done())) {
		uint64_t now = now_ns();
		int timeout_ms;

		if (now >= deadline)
			return;
		timeout_ms = (int)((deadline - now + 999999) / 1000000);
		if (timeout_ms > 100)
			timeout_ms = 100;
		n = epoll_wait(epoll_fd, events, MAX_EVENTS, timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("tcp_load: epoll_wait");
			exit(1);
		}
		for (i = 0; i < n; i++)
			on_event(events[i].data.ptr, events[i].events);
	}
}

static int all_connected_or_failed(void)
{
	int i;

	for (i = 0; i < connection_count; i++)
		if (connections[i].open && !connections[i].connected)
			return 0;
	return 1;
}

static int all_closed(void)
{
	int i;

	for (i = 0; i < connection_count; i++)
		if (connections[i].open)
			return 0;
	return 1;
}

static void connect_all(const struct sockaddr_in *server)
{
	struct epoll_event events[MAX_EVENTS];
	uint64_t deadline = now_ns() + (uint64_t)CONNECT_S * 1000000000u;
	int i, n, one = 1;

	for (i = 0; i < connection_count; i++) {
		struct connection *c = &connections[i];
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			perror("tcp_load: socket");
			exit(1);
		}
		c->open = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(c->fd, (const struct sockaddr *)server, sizeof(*server)) < 0 && errno != EINPROGRESS) {
			fail(c, "connect", errno);
			continue;
		}
		c->events = EPOLLOUT;
		if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			perror("tcp_load: epoll_ctl");
			exit(1);
		}
	}
	while (!stop_requested && !all_connected_or_failed() && now_ns() < deadline) {
		n = epoll_wait(epoll_fd, events, MAX_EVENTS, 100);
		if (n < 0 && errno != EINTR) {
			perror("tcp_load: epoll_wait");
			exit(1);
		}
		for (i = 0; i < n; i++) {
			struct connection *c = events[i].data.ptr;
			int error = 0;
			socklen_t length = sizeof(error);

			if (!c->open || c->connected)
				continue;
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
			if (error) {
				fail(c, "connect", error);
				continue;
			}
			c->connected = 1;
			watch(c, 0);    /* quiet until the run starts */
		}
	}
	for (i = 0; i < connection_count; i++)
		if (connections[i].open && !connections[i].connected)
			fail(&connections[i], "connect", ETIMEDOUT);
}

int main(int argc, char **argv)
{
	struct sockaddr_in server = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long seconds = 5;
	uint64_t start, end, drain_end;
	unsigned long incomplete = 0, connected = 0, closed_normally = 0;
	double elapsed;
	int i, json = 0;

	if (argc < 3)
		usage(argv[0]);
	if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1)
		usage(argv[0]);
	server.sin_port = htons((uint16_t)parse_number(argv[2], 1, 65535, argv[0]));
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "stream"))
				mode = STREAM;
			else if (!strcmp(argv[i], "rr"))
				mode = RR;
			else
				usage(argv[0]);
		} else if (!strcmp(argv[i], "--connections") && i + 1 < argc) {
			connection_count = (int)parse_number(argv[++i], 1, MAX_CONNECTIONS, argv[0]);
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = parse_number(argv[++i], 1, 3600, argv[0]);
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			size = parse_number(argv[++i], 1, MAX_SIZE, argv[0]);
		} else if (!strcmp(argv[i], "--window") && i + 1 < argc) {
			window = parse_number(argv[++i], 1, 1ul << 30, argv[0]);
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else {
			usage(argv[0]);
		}
	}
	if (!size)
		size = mode == STREAM ? 64 * 1024 : 64;
	for (i = 0; i < (int)sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i % PERIOD);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (epoll_fd < 0) {
		perror("tcp_load: epoll_create1");
		return 1;
	}

	connect_all(&server);
	for (i = 0; i < connection_count; i++)
		connected += connections[i].connected;
	if (!connected) {
		fprintf(stderr, "tcp_load: no connection to %s:%s was established\n", argv[1], argv[2]);
		return 2;
	}

	/* The measured run. */
	measuring = sending = 1;
	start = now_ns();
	for (i = 0; i < connection_count; i++) {
		struct connection *c = &connections[i];

		if (!c->open)
			continue;
		if (mode == STREAM) {
			watch(c, EPOLLIN | EPOLLOUT);
		} else {
			watch(c, EPOLLIN);
			rr_send_request(c);
		}
	}
	run_until(start + (uint64_t)seconds * 1000000000u, NULL);
	end = now_ns();
	measuring = sending = 0;

	/* Drain: read every outstanding echo, then FIN and read to the server's FIN. */
	for (i = 0; i < connection_count; i++) {
		struct connection *c = &connections[i];

		if (!c->open)
			continue;
		watch(c, EPOLLIN);
		if (mode == STREAM || c->received == c->sent)
			shut_write(c);
	}
	drain_end = now_ns() + (uint64_t)DRAIN_S * 1000000000u;
	stop_requested = 0;     /* a signal ends the measured run, not the drain */
	run_until(drain_end, all_closed);
	for (i = 0; i < connection_count; i++) {
		struct connection *c = &connections[i];

		if (c->connected && !c->failed && c->eof && c->received == c->sent)
			closed_normally++;
		else if (c->connected && !c->failed)
			incomplete++;
		if (c->open) {
			close(c->fd);
			c->open = 0;
		}
	}

	elapsed = (double)(end - start) / 1e9;
	if (json) {
		printf("{\"mode\": \"%s\", \"connections\": %d, \"connected\": %lu, \"seconds\": %lu, \"size\": %zu, "
		       "\"window\": %zu, \"elapsed_s\": %.6f, \"bytes_echoed\": %llu, \"bytes_sent_total\": %llu, \"mb_per_s\": %.3f, "
		       "\"transactions\": %llu, \"tps\": %.1f",
		       mode == STREAM ? "stream" : "rr", connection_count, connected, seconds, size, window, elapsed,
		       (unsigned long long)bytes_echoed, (unsigned long long)bytes_sent,
		       (double)bytes_echoed / 1e6 / elapsed, (unsigned long long)transactions,
		       (double)transactions / elapsed);
		if (mode == RR && transactions)
			printf(", \"avg_us\": %.2f, \"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f",
			       (double)latency_sum_ns / (double)transactions / 1000.0,
			       percentile_us(transactions, 0.50), percentile_us(transactions, 0.90),
			       percentile_us(transactions, 0.99), percentile_us(transactions, 0.999),
			       (double)latency_max_ns / 1000.0);
		printf(", \"closed_normally\": %lu, \"incomplete\": %lu, \"errors\": %llu, \"mismatches\": %llu}\n",
		       closed_normally, incomplete, (unsigned long long)errors, (unsigned long long)mismatches);
	} else {
		printf("tcp_load: %s, %d connections (%lu established), %.2f s: %.1f MB/s echoed, %.0f transactions/s",
		       mode == STREAM ? "stream" : "rr", connection_count, connected, elapsed,
		       (double)bytes_echoed / 1e6 / elapsed, (double)transactions / elapsed);
		if (mode == RR && transactions)
			printf(", p50 %.1f us, p99 %.1f us, max %.1f us", percentile_us(transactions, 0.50),
			       percentile_us(transactions, 0.99), (double)latency_max_ns / 1000.0);
		printf("; closed normally %lu, incomplete %lu, errors %llu, mismatches %llu\n",
		       closed_normally, incomplete, (unsigned long long)errors, (unsigned long long)mismatches);
	}
	fflush(stdout);
	if (!bytes_echoed)
		return 2;
	return errors || mismatches || incomplete ? 1 : 0;
}
