// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * reflect — the C reference for ApusXSK: one AF_XDP socket on one queue,
 * libxdp's ring helpers, answering ARP for an owned IPv4 address and
 * echoing UDP datagrams sent to OWNED_IP:UDP_PORT back to their sender.
 *
 *   reflect IFACE QUEUE OWNED_IP UDP_PORT [--copy|--zc] [--seconds N]
 *
 * It expects scripts/xdp-load.sh IFACE to have loaded bpf/apus_xdp.bpf.c:
 * it never loads a program itself (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD),
 * registers its socket in the pinned xsks map at QUEUE and writes OWNED_IP
 * into the pinned owned_ipv4 map; both entries are removed again at exit.
 *
 * Frame life cycle (DESIGN decision 4): free pool -> fill ring -> rx ring ->
 * rewritten in place -> tx ring -> completion ring -> free pool. Frames that
 * are not answered go straight back to the free pool.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "apus_xdp.h"

#define FRAME_COUNT   4096
#define FRAME_SIZE    XSK_UMEM__DEFAULT_FRAME_SIZE   /* 4096 */
#define RING_SIZE     2048
#define BATCH         64

/* ---- arguments and state ------------------------------------------------- */

enum bind_mode { BIND_AUTO, BIND_COPY, BIND_ZEROCOPY };

struct options {
	const char *iface;
	uint32_t queue;
	uint32_t owned_ip;      /* network byte order */
	uint16_t udp_port;      /* network byte order */
	enum bind_mode bind_mode;
	unsigned seconds;       /* 0 = until a signal */
};

struct counters {
	uint64_t rx, tx, udp_echoed, arp_replied, ignored, tx_ring_full, kicks;
	uint64_t udp_checksum_unverified;       /* arrived with a checksum that does not verify */
};

struct reflector {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons completion;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	void *area;
	uint64_t free_frames[FRAME_COUNT];
	uint32_t free_count;
	uint32_t tx_outstanding;        /* submitted to tx, not yet completed */
	uint8_t mac[ETH_ALEN];
	struct options opt;
	struct counters count;
	int xsks_map_fd, owned_map_fd;
	bool registered, owned_inserted;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo) { (void)signo; stop_requested = 1; }

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s IFACE QUEUE OWNED_IP UDP_PORT [--copy|--zc] [--seconds N]\n", argv0);
	exit(64);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "reflect: %s: %s\n", what, strerror(err));
	exit(1);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct options parse_options(int argc, char **argv)
{
	struct options opt = { .bind_mode = BIND_AUTO };
	struct in_addr address;
	char *end;
	int positional = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--copy")) {
			opt.bind_mode = BIND_COPY;
		} else if (!strcmp(arg, "--zc")) {
			opt.bind_mode = BIND_ZEROCOPY;
		} else if (!strcmp(arg, "--seconds") && i + 1 < argc) {
			unsigned long seconds = strtoul(argv[++i], &end, 10);
			if (*end || seconds == 0 || seconds > 86400)
				usage(argv[0]);
			opt.seconds = (unsigned)seconds;
		} else if (arg[0] == '-') {
			usage(argv[0]);
		} else {
			switch (positional++) {
			case 0:
				opt.iface = arg;
				break;
			case 1: {
				unsigned long queue = strtoul(arg, &end, 10);
				if (*end || queue >= APUS_MAX_QUEUES)
					usage(argv[0]);
				opt.queue = (uint32_t)queue;
				break;
			}
			case 2:
				if (inet_pton(AF_INET, arg, &address) != 1)
					usage(argv[0]);
				opt.owned_ip = address.s_addr;
				break;
			case 3: {
				unsigned long port = strtoul(arg, &end, 10);
				if (*end || port == 0 || port > 65535)
					usage(argv[0]);
				opt.udp_port = htons((uint16_t)port);
				break;
			}
			default:
				usage(argv[0]);
			}
		}
	}
	if (positional != 4)
		usage(argv[0]);
	return opt;
}

/* ---- checksums (RFC 1071), computed in full: veth may hand us partial ones */

static uint32_t sum16(const void *data, size_t length, uint32_t sum)
{
	const uint8_t *bytes = data;

	for (; length > 1; bytes += 2, length -= 2)
		sum += (uint32_t)bytes[0] << 8 | bytes[1];
	if (length)
		sum += (uint32_t)bytes[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void set_ipv4_checksum(struct iphdr *ip)
{
	ip->check = 0;
	ip->check = htons(fold(sum16(ip, ip->ihl * 4u, 0)));
}

/* RFC 768: pseudo header (source, destination, zero, protocol, UDP length). */
static void set_udp_checksum(const struct iphdr *ip, struct udphdr *udp, uint16_t udp_length)
{
	uint32_t sum = 0;
	uint16_t check;

	sum = sum16(&ip->saddr, 4, sum);
	sum = sum16(&ip->daddr, 4, sum);
	sum += IPPROTO_UDP;
	sum += udp_length;
	udp->check = 0;
	check = fold(sum16(udp, udp_length, sum));
	udp->check = htons(check ? check : 0xffff);
}

/* ---- the answers ---------------------------------------------------------- */

struct arp_ipv4 {
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t oper;
	uint8_t sha[ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[ETH_ALEN];
	uint8_t tpa[4];
} __attribute__((packed));

/* RFC 826: turn a request for our address into the reply, in place. */
static bool answer_arp(struct reflector *r, uint8_t *frame, uint32_t length)
{
	struct ethhdr *eth = (struct ethhdr *)frame;
	struct arp_ipv4 *arp = (struct arp_ipv4 *)(eth + 1);

	if (length < sizeof(*eth) + sizeof(*arp))
		return false;
	if (arp->htype != htons(1) || arp->ptype != htons(ETH_P_IP) || arp->hlen != ETH_ALEN ||
	    arp->plen != 4 || arp->oper != htons(1) || memcmp(arp->tpa, &r->opt.owned_ip, 4))
		return false;

	memcpy(eth->h_dest, arp->sha, ETH_ALEN);
	memcpy(eth->h_source, r->mac, ETH_ALEN);
	arp->oper = htons(2);
	memcpy(arp->tha, arp->sha, ETH_ALEN);
	memcpy(arp->tpa, arp->spa, 4);
	memcpy(arp->sha, r->mac, ETH_ALEN);
	memcpy(arp->spa, &r->opt.owned_ip, 4);
	r->count.arp_replied++;
	return true;
}

/* Echo a datagram for OWNED_IP:UDP_PORT back to its sender, in place. */
static bool answer_udp(struct reflector *r, uint8_t *frame, uint32_t length)
{
	struct ethhdr *eth = (struct ethhdr *)frame;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp;
	uint32_t header_length, total_length, udp_length;
	uint32_t address;
	uint16_t port;

	if (length < sizeof(*eth) + sizeof(*ip))
		return false;
	header_length = ip->ihl * 4u;
	total_length = ntohs(ip->tot_len);
	if (ip->version != 4 || header_length < sizeof(*ip) || ip->protocol != IPPROTO_UDP ||
	    ip->daddr != r->opt.owned_ip || (ip->frag_off & htons(0x3fff)) ||
	    total_length < header_length + sizeof(*udp) || sizeof(*eth) + total_length > length)
		return false;
	udp = (struct udphdr *)((uint8_t *)ip + header_length);
	udp_length = ntohs(udp->len);
	if (udp->dest != r->opt.udp_port || udp_length < sizeof(*udp) ||
	    udp_length > total_length - header_length)
		return false;

	/* Counted, not dropped: a veth peer with tx checksum offload hands over
	 * CHECKSUM_PARTIAL frames whose UDP checksum holds only the pseudo-header
	 * sum. A real stack must know which it is looking at (DESIGN: validate
	 * and recompute in software). */
	if (udp->check && fold(sum16(udp, udp_length, sum16(&ip->saddr, 8, IPPROTO_UDP + udp_length))))
		r->count.udp_checksum_unverified++;

	memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	memcpy(eth->h_source, r->mac, ETH_ALEN);
	address = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = address;
	ip->ttl = 64;
	set_ipv4_checksum(ip);
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	set_udp_checksum(ip, udp, (uint16_t)udp_length);
	r->count.udp_echoed++;
	return true;
}

/* ---- rings ---------------------------------------------------------------- */

static void refill(struct reflector *r)
{
	uint32_t index, n = xsk_prod_nb_free(&r->fill, r->free_count);

	if (n > r->free_count)
		n = r->free_count;
	if (n == 0 || xsk_ring_prod__reserve(&r->fill, n, &index) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&r->fill, index + i) = r->free_frames[--r->free_count];
	xsk_ring_prod__submit(&r->fill, n);
}

static void reap_completions(struct reflector *r)
{
	uint32_t index, n = xsk_ring_cons__peek(&r->completion, RING_SIZE, &index);

	for (uint32_t i = 0; i < n; i++)
		r->free_frames[r->free_count++] = *xsk_ring_cons__comp_addr(&r->completion, index + i);
	xsk_ring_cons__release(&r->completion, n);
	r->tx_outstanding -= n;
}

/* Copy mode transmits at most 32 descriptors per sendto(): kick on every
 * pass while anything is outstanding, not only when need_wakeup is set. */
static void kick_tx(struct reflector *r)
{
	if (r->tx_outstanding == 0)
		return;
	if (!xsk_ring_prod__needs_wakeup(&r->tx) && r->opt.bind_mode == BIND_ZEROCOPY)
		return;
	r->count.kicks++;
	if (sendto(xsk_socket__fd(r->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
		switch (errno) {
		case EAGAIN: case EBUSY: case ENOBUFS: case ENETDOWN: case EINTR:
			break;
		default:
			die("sendto (tx kick)", errno);
		}
	}
}

static void process_rx(struct reflector *r)
{
	uint64_t answers[BATCH];
	uint32_t answer_lengths[BATCH];
	uint32_t index, n_answers = 0, tx_index, reserved;
	uint32_t n = xsk_ring_cons__peek(&r->rx, BATCH, &index);

	if (n == 0) {
		/* With need_wakeup the kernel fills the rx ring only after a wakeup
		 * when the fill ring ran dry; poll() is that wakeup. */
		struct pollfd pfd = { .fd = xsk_socket__fd(r->xsk), .events = POLLIN };
		int timeout = r->tx_outstanding ? 0 : 100;

		if (timeout || xsk_ring_prod__needs_wakeup(&r->fill))
			poll(&pfd, 1, timeout);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&r->rx, index + i);
		uint8_t *frame = xsk_umem__get_data(r->area, desc->addr);
		struct ethhdr *eth = (struct ethhdr *)frame;
		bool answered = false;

		if (desc->len >= sizeof(*eth)) {
			if (eth->h_proto == htons(ETH_P_ARP))
				answered = answer_arp(r, frame, desc->len);
			else if (eth->h_proto == htons(ETH_P_IP))
				answered = answer_udp(r, frame, desc->len);
		}
		if (answered) {
			answers[n_answers] = desc->addr;
			answer_lengths[n_answers++] = desc->len;
		} else {
			r->count.ignored++;
			r->free_frames[r->free_count++] = desc->addr;
		}
	}
	xsk_ring_cons__release(&r->rx, n);
	r->count.rx += n;

	reserved = xsk_ring_prod__reserve(&r->tx, n_answers, &tx_index);
	if (reserved != n_answers) {
		/* The tx ring holds RING_SIZE frames; drop this batch rather than stall rx. */
		r->count.tx_ring_full += n_answers;
		for (uint32_t i = 0; i < n_answers; i++)
			r->free_frames[r->free_count++] = answers[i];
		return;
	}
	for (uint32_t i = 0; i < n_answers; i++) {
		struct xdp_desc *desc = xsk_ring_prod__tx_desc(&r->tx, tx_index + i);

		desc->addr = answers[i];
		desc->len = answer_lengths[i];
		desc->options = 0;
	}
	xsk_ring_prod__submit(&r->tx, n_answers);
	r->tx_outstanding += n_answers;
	r->count.tx += n_answers;
}

/* ---- setup and teardown --------------------------------------------------- */

static void read_mac(const char *iface, uint8_t mac[ETH_ALEN])
{
	struct ifreq request = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket", errno);
	snprintf(request.ifr_name, sizeof(request.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFHWADDR, &request) < 0)
		die("SIOCGIFHWADDR (no such interface in this network namespace?)", errno);
	memcpy(mac, request.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
}

static int open_pinned_map(const char *iface, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", APUS_PIN_ROOT, iface, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "reflect: cannot open %s: %s\n"
			"reflect: load the program first (scripts/xdp-load.sh %s); inside a testbed\n"
			"reflect: namespace run me with scripts/testbed.sh exec srv, not ip netns exec\n",
			path, strerror(errno), iface);
		exit(1);
	}
	return fd;
}

static void setup(struct reflector *r)
{
	struct xsk_umem_config umem_config = {
		.fill_size = RING_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config socket_config = {
		.rx_size = RING_SIZE,
		.tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	struct xdp_options options;
	socklen_t optlen = sizeof(options);
	uint8_t owned = APUS_OWNED;
	int err, fd;

	read_mac(r->opt.iface, r->mac);
	r->xsks_map_fd = open_pinned_map(r->opt.iface, APUS_MAP_XSKS);
	r->owned_map_fd = open_pinned_map(r->opt.iface, APUS_MAP_OWNED_IPV4);

	r->area = mmap(NULL, (size_t)FRAME_COUNT * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->area == MAP_FAILED)
		die("mmap UMEM", errno);
	err = xsk_umem__create(&r->umem, r->area, (uint64_t)FRAME_COUNT * FRAME_SIZE,
			       &r->fill, &r->completion, &umem_config);
	if (err)
		die("xsk_umem__create", -err);

	if (r->opt.bind_mode == BIND_COPY)
		socket_config.bind_flags |= XDP_COPY;
	else if (r->opt.bind_mode == BIND_ZEROCOPY)
		socket_config.bind_flags |= XDP_ZEROCOPY;
	err = xsk_socket__create(&r->xsk, r->opt.iface, r->opt.queue, r->umem,
				 &r->rx, &r->tx, &socket_config);
	if (err) {
		if (-err == EOPNOTSUPP && r->opt.bind_mode == BIND_ZEROCOPY)
			fprintf(stderr, "reflect: %s has no zero-copy AF_XDP (veth never has); use --copy\n",
				r->opt.iface);
		if (-err == EINVAL)
			fprintf(stderr, "reflect: is queue %u < the number of queues of %s?\n",
				r->opt.queue, r->opt.iface);
		die("xsk_socket__create", -err);
	}
	fd = xsk_socket__fd(r->xsk);
	if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &options, &optlen) == 0)
		fprintf(stderr, "reflect: %s queue %u bound in %s mode\n", r->opt.iface, r->opt.queue,
			options.flags & XDP_OPTIONS_ZEROCOPY ? "zero-copy" : "copy");

	/* All frames start free; the fill ring gets as many as it holds. */
	for (uint32_t i = 0; i < FRAME_COUNT; i++)
		r->free_frames[r->free_count++] = (uint64_t)i * FRAME_SIZE;
	refill(r);

	/* Socket first, then ownership: the other order sends the owned
	 * address's first frames to the kernel, which drops them. */
	if (bpf_map_update_elem(r->xsks_map_fd, &r->opt.queue, &fd, BPF_ANY))
		die("insert the socket into xsks", errno);
	r->registered = true;
	if (bpf_map_update_elem(r->owned_map_fd, &r->opt.owned_ip, &owned, BPF_ANY))
		die("insert OWNED_IP into owned_ipv4", errno);
	r->owned_inserted = true;
}

static void teardown(struct reflector *r)
{
	if (r->owned_inserted)
		bpf_map_delete_elem(r->owned_map_fd, &r->opt.owned_ip);
	if (r->registered)
		bpf_map_delete_elem(r->xsks_map_fd, &r->opt.queue);
	xsk_socket__delete(r->xsk);
	xsk_umem__delete(r->umem);
	munmap(r->area, (size_t)FRAME_COUNT * FRAME_SIZE);
}

static void print_xdp_statistics(struct reflector *r)
{
	struct xdp_statistics s;
	socklen_t optlen = sizeof(s);

	if (getsockopt(xsk_socket__fd(r->xsk), SOL_XDP, XDP_STATISTICS, &s, &optlen))
		return;
	printf("reflect: socket: rx_dropped %llu rx_invalid %llu tx_invalid %llu rx_ring_full %llu "
	       "fill_ring_empty %llu tx_ring_empty %llu\n",
	       (unsigned long long)s.rx_dropped, (unsigned long long)s.rx_invalid_descs,
	       (unsigned long long)s.tx_invalid_descs, (unsigned long long)s.rx_ring_full,
	       (unsigned long long)s.rx_fill_ring_empty_descs,
	       (unsigned long long)s.tx_ring_empty_descs);
}

int main(int argc, char **argv)
{
	static struct reflector r;      /* 32 KiB of frame pool: keep it off the stack */
	struct sigaction action = { .sa_handler = on_signal };
	struct counters last = { 0 };
	double start, last_report, now;

	r.opt = parse_options(argc, argv);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup(&r);

	printf("reflect: %s queue %u, owned %s, UDP port %u, MAC %02x:%02x:%02x:%02x:%02x:%02x\n",
	       r.opt.iface, r.opt.queue, inet_ntoa((struct in_addr){ r.opt.owned_ip }),
	       ntohs(r.opt.udp_port), r.mac[0], r.mac[1], r.mac[2], r.mac[3], r.mac[4], r.mac[5]);
	start = last_report = now_seconds();
	while (!stop_requested) {
		process_rx(&r);
		kick_tx(&r);
		reap_completions(&r);
		refill(&r);

		now = now_seconds();
		if (now - last_report >= 1.0) {
			double interval = now - last_report;
			printf("reflect: rx %.0f pps, tx %.0f pps (udp %llu, arp %llu)\n",
			       (r.count.rx - last.rx) / interval, (r.count.tx - last.tx) / interval,
			       (unsigned long long)(r.count.udp_echoed - last.udp_echoed),
			       (unsigned long long)(r.count.arp_replied - last.arp_replied));
			last = r.count;
			last_report = now;
		}
		if (r.opt.seconds && now - start >= r.opt.seconds)
			break;
	}

	/* Give the frames still in the tx ring a bounded chance to leave. */
	for (int i = 0; i < 1000 && r.tx_outstanding; i++) {
		kick_tx(&r);
		reap_completions(&r);
		if (r.tx_outstanding)
			usleep(1000);
	}
	now = now_seconds();
	printf("reflect: total %.1f s: rx %llu, tx %llu (udp echoed %llu, arp replied %llu), "
	       "ignored %llu, tx ring full %llu, kicks %llu, udp checksum not verifying %llu, avg tx %.0f pps\n",
	       now - start, (unsigned long long)r.count.rx, (unsigned long long)r.count.tx,
	       (unsigned long long)r.count.udp_echoed, (unsigned long long)r.count.arp_replied,
	       (unsigned long long)r.count.ignored, (unsigned long long)r.count.tx_ring_full,
	       (unsigned long long)r.count.kicks, (unsigned long long)r.count.udp_checksum_unverified,
	       r.count.tx / (now - start));
	print_xdp_statistics(&r);
	teardown(&r);
	return 0;
}
