// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * blaster — a kernel-socket UDP load generator for the testbed's client side:
 * numbered datagrams to DST_IP:PORT with at most W unanswered at a time,
 * counting the echoes that come back (from `reflect`, or an Apus server).
 *
 *   blaster DST_IP PORT [--seconds N] [--size BYTES] [--window W] [--json]
 *
 * Each datagram starts with a 64-bit sequence number and the send time;
 * a reply is counted when its sequence number was sent and not yet answered.
 * A window that sees no reply for STALL_MS is declared lost and reopened,
 * so a dead peer slows the blaster down but never hangs it; so is a datagram
 * still unanswered when its window slot is needed again (W newer ones sent).
 * Sending and receiving are batched, BATCH datagrams per sendmmsg/recvmmsg.
 * --json: the summary as one JSON object on stdout (scripts/bench.sh xdp).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH        64
#define MAX_SIZE     1472       /* one Ethernet frame of UDP/IPv4 payload */
#define MIN_SIZE     16         /* sequence number + send time */
#define MAX_WINDOW   65536
#define STALL_MS     200
#define DRAIN_MS     200

struct header {
	uint64_t sequence;
	uint64_t sent_ns;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo) { (void)signo; stop_requested = 1; }

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s DST_IP PORT [--seconds N] [--size BYTES] [--window W] [--json]\n"
		"  defaults: --seconds 3 --size 64 (UDP payload, %d..%d) --window 256 (1..%d)\n"
		"  --json: print the summary as one JSON object\n",
		argv0, MIN_SIZE, MAX_SIZE, MAX_WINDOW);
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
	unsigned long value = strtoul(text, &end, 10);

	if (!*text || *end || value < min || value > max)
		usage(argv0);
	return value;
}

int main(int argc, char **argv)
{
	static uint8_t send_buffers[BATCH][MAX_SIZE], receive_buffers[BATCH][MAX_SIZE];
	static uint8_t answered[MAX_WINDOW];    /* by sequence % window: 1 = outstanding */
	struct mmsghdr send_messages[BATCH], receive_messages[BATCH];
	struct iovec send_iov[BATCH], receive_iov[BATCH];
	struct sockaddr_in destination = { .sin_family = AF_INET };
	struct sigaction action = { .sa_handler = on_signal };
	unsigned long seconds = 3, size = 64, window = 256;
	uint64_t sent = 0, received = 0, unexpected = 0, declared_lost = 0;
	uint64_t next_sequence = 0, oldest_outstanding = 0, rtt_sum_ns = 0, rtt_max_ns = 0;
	uint64_t start, end, deadline, last_progress;
	int positional = 0, fd, json = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = parse_number(argv[++i], 1, 3600, argv[0]);
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = parse_number(argv[++i], MIN_SIZE, MAX_SIZE, argv[0]);
		else if (!strcmp(argv[i], "--window") && i + 1 < argc)
			window = parse_number(argv[++i], 1, MAX_WINDOW, argv[0]);
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-')
			usage(argv[0]);
		else if (positional == 0 && inet_pton(AF_INET, argv[i], &destination.sin_addr) == 1)
			positional++;
		else if (positional == 1)
			destination.sin_port = htons((uint16_t)parse_number(argv[i], 1, 65535, argv[0])),
			positional++;
		else
			usage(argv[0]);
	}
	if (positional != 2)
		usage(argv[0]);

	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&destination, sizeof(destination)) < 0) {
		perror("blaster: socket/connect");
		return 1;
	}
	{
		int rcvbuf = 4 << 20;   /* best effort: capped by net.core.rmem_max */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}

	memset(send_messages, 0, sizeof(send_messages));
	memset(receive_messages, 0, sizeof(receive_messages));
	for (int i = 0; i < BATCH; i++) {
		memset(send_buffers[i], 0xa5, sizeof(send_buffers[i]));
		send_iov[i] = (struct iovec){ send_buffers[i], size };
		send_messages[i].msg_hdr.msg_iov = &send_iov[i];
		send_messages[i].msg_hdr.msg_iovlen = 1;
		receive_iov[i] = (struct iovec){ receive_buffers[i], MAX_SIZE };
		receive_messages[i].msg_hdr.msg_iov = &receive_iov[i];
		receive_messages[i].msg_hdr.msg_iovlen = 1;
	}

	start = last_progress = now_ns();
	end = start + seconds * 1000000000u;
	deadline = end + DRAIN_MS * 1000000u;
	for (;;) {
		uint64_t now = now_ns();
		uint64_t outstanding = sent - received - declared_lost;
		int n;

		if (now >= deadline || (now >= end && outstanding == 0) || stop_requested)
			break;

		/* Send while the window has room (and the run is not over). */
		if (now < end && outstanding < window) {
			int count = (int)(window - outstanding < BATCH ? window - outstanding : BATCH);

			for (int i = 0; i < count; i++) {
				struct header *h = (struct header *)send_buffers[i];
				h->sequence = next_sequence + (uint64_t)i;
				h->sent_ns = now;
			}
			n = sendmmsg(fd, send_messages, (unsigned)count, 0);
			if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR &&
			    errno != ECONNREFUSED) {
				perror("blaster: sendmmsg");
				return 1;
			}
			for (int i = 0; i < n; i++) {
				uint8_t *slot = &answered[(next_sequence + (uint64_t)i) % window];

				/* Still set: the datagram sent `window` ago was never
				 * answered (its late reply now counts as unexpected). */
				if (*slot)
					declared_lost++;
				*slot = 1;
			}
			if (n > 0) {
				next_sequence += (uint64_t)n;
				sent += (uint64_t)n;
				/* Before any reply is matched: a slot now names its newest sequence. */
				if (oldest_outstanding + window < next_sequence)
					oldest_outstanding = next_sequence - window;
			}
		}

		n = recvmmsg(fd, receive_messages, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) {
			perror("blaster: recvmmsg");
			return 1;
		}
		now = now_ns();
		for (int i = 0; i < n; i++) {
			const struct header *h = (const struct header *)receive_buffers[i];
			uint64_t slot;

			if (receive_messages[i].msg_len < sizeof(*h) || h->sequence >= next_sequence ||
			    h->sequence < oldest_outstanding || !answered[slot = h->sequence % window]) {
				unexpected++;
				continue;
			}
			answered[slot] = 0;
			received++;
			rtt_sum_ns += now - h->sent_ns;
			if (now - h->sent_ns > rtt_max_ns)
				rtt_max_ns = now - h->sent_ns;
			last_progress = now;
		}

		outstanding = sent - received - declared_lost;
		if (n <= 0 && outstanding >= window) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (now - last_progress > STALL_MS * 1000000ull) {
				/* Nothing came back for a while: write the window off. */
				declared_lost += outstanding;
				oldest_outstanding = next_sequence;
				memset(answered, 0, window);
				last_progress = now;
			} else {
				poll(&pfd, 1, 10);
			}
		} else if (n <= 0 && now >= end) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			poll(&pfd, 1, 10);
		}
		if (outstanding == 0)
			oldest_outstanding = next_sequence;
		else if (oldest_outstanding + window < next_sequence)
			oldest_outstanding = next_sequence - window;
	}

	{
		double elapsed = (double)(now_ns() - start) / 1e9;
		double active = (double)seconds < elapsed ? (double)seconds : elapsed;

		if (json)
			printf("{\"destination\": \"%s:%u\", \"size\": %lu, \"window\": %lu, \"seconds\": %lu, "
			       "\"elapsed_s\": %.3f, \"sent\": %llu, \"received\": %llu, \"lost\": %llu, "
			       "\"unexpected\": %llu, \"replies_per_s\": %.1f, \"mbit_s\": %.2f, "
			       "\"rtt_avg_us\": %.1f, \"rtt_max_us\": %.1f}\n",
			       inet_ntoa(destination.sin_addr), ntohs(destination.sin_port), size, window, seconds,
			       elapsed, (unsigned long long)sent, (unsigned long long)received,
			       (unsigned long long)(sent - received), (unsigned long long)unexpected,
			       received / active, received * size * 8 / active / 1e6,
			       received ? rtt_sum_ns / (double)received / 1e3 : 0.0, rtt_max_ns / 1e3);
		else
			printf("blaster: %s:%u size %lu window %lu, %.2f s: sent %llu, received %llu "
			       "(lost %llu, unexpected %llu), %.0f replies/s, %.1f Mbit/s, rtt avg %.1f us max %.1f us\n",
			       inet_ntoa(destination.sin_addr), ntohs(destination.sin_port), size, window, elapsed,
			       (unsigned long long)sent, (unsigned long long)received,
			       (unsigned long long)(sent - received), (unsigned long long)unexpected,
			       received / active, received * size * 8 / active / 1e6,
			       received ? rtt_sum_ns / (double)received / 1e3 : 0.0, rtt_max_ns / 1e3);
	}
	close(fd);
	return received ? 0 : 2;
}
