// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * apus_xdp — steers the frames Apus owns into AF_XDP sockets and passes the
 * rest to the kernel (DESIGN decision 1). Map layouts, steering rules and the
 * pin-path convention are documented in apus_xdp.h.
 *
 * Every header read is bounds-checked against data_end; a frame whose
 * headers do not add up is counted as malformed and handed to the kernel,
 * which is the one that decides whether to drop it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "apus_xdp.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, APUS_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, APUS_MAX_OWNED_IPV4);
	__type(key, __u32);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} owned_ipv4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, APUS_MAX_OWNED_PORTS);
	__type(key, struct apus_port_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} owned_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct apus_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, APUS_MAX_VLANS);
	__type(key, __u32);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vlans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, APUS_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/* RFC 826 ARP for Ethernet/IPv4, the only kind the program inspects. */
struct arp_ipv4 {
	__be16 htype;           /* 1 = Ethernet */
	__be16 ptype;           /* ETH_P_IP */
	__u8   hlen;            /* 6 */
	__u8   plen;            /* 4 */
	__be16 oper;
	__u8   sha[ETH_ALEN];
	__u8   spa[4];
	__u8   tha[ETH_ALEN];
	__u8   tpa[4];
} __attribute__((packed));

/* An IEEE 802.1Q tag after the MAC addresses (linux/if_vlan.h is not uapi). */
struct apus_vlan_tag {
	__be16 tci;             /* PCP (3), DEI (1), VID (12) */
	__be16 encapsulated;    /* the inner EtherType */
};

/* The first four bytes of TCP and UDP alike. */
struct l4_ports {
	__be16 source;
	__be16 dest;
};

#define IPV4_MF      0x2000
#define IPV4_OFFSET  0x1fff

static __always_inline void count(__u32 index)
{
	__u64 *counter = bpf_map_lookup_elem(&stats, &index);

	if (counter)
		*counter += 1;  /* per-CPU slot: no atomics needed */
}

static __always_inline int pass(void)
{
	count(APUS_STAT_PASSED);
	return XDP_PASS;
}

static __always_inline int malformed(void)
{
	count(APUS_STAT_MALFORMED);
	return pass();
}

static __always_inline int redirect(struct xdp_md *ctx)
{
	long action = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);

	if (action == XDP_REDIRECT) {
		count(APUS_STAT_REDIRECTED);
		return XDP_REDIRECT;
	}
	count(APUS_STAT_REDIRECT_ERRORS);
	return pass();
}

static __always_inline int is_owned_ipv4(__u32 address_be)
{
	return bpf_map_lookup_elem(&owned_ipv4, &address_be) != NULL;
}

static __always_inline int is_port_mode(void)
{
	__u32 zero = 0;
	struct apus_config *cfg = bpf_map_lookup_elem(&config, &zero);

	return cfg && cfg->mode == APUS_MODE_PORT;
}

static __always_inline int handle_arp(struct xdp_md *ctx, void *l3, void *data_end)
{
	struct arp_ipv4 *arp = l3;
	__u32 target;

	if ((void *)(arp + 1) > data_end)
		return malformed();
	/* ARP for other hardware/protocol types is not ours; not malformed. */
	if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != ETH_ALEN || arp->plen != 4)
		return pass();
	__builtin_memcpy(&target, arp->tpa, sizeof(target));
	if (is_owned_ipv4(target))
		return redirect(ctx);
	return pass();
}

static __always_inline int handle_ipv4(struct xdp_md *ctx, void *l3, void *data_end)
{
	struct iphdr *ip = l3;
	struct apus_port_key key = {};
	struct l4_ports *ports;
	__u32 header_length;

	if ((void *)(ip + 1) > data_end)
		return malformed();
	header_length = ip->ihl * 4;
	if (ip->version != 4 || header_length < sizeof(*ip) ||
	    bpf_ntohs(ip->tot_len) < header_length ||
	    l3 + bpf_ntohs(ip->tot_len) > data_end)
		return malformed();
	if (is_owned_ipv4(ip->daddr))
		return redirect(ctx);

	if (!is_port_mode())
		return pass();
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return pass();
	/* Only a first, unfragmented datagram carries the ports. */
	if (ip->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET))
		return pass();
	ports = l3 + header_length;
	if ((void *)(ports + 1) > data_end)
		return malformed();
	key.addr = ip->daddr;
	key.proto = ip->protocol;
	key.port = ports->dest;
	if (bpf_map_lookup_elem(&owned_ports, &key))
		return redirect(ctx);
	return pass();
}

SEC("xdp")
int apus_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3;
	__be16 proto;

	count(APUS_STAT_SEEN);
	if ((void *)(eth + 1) > data_end)
		return malformed();
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct apus_vlan_tag *tag = l3;
		__u32 vid;
		__u8 *served;

		if ((void *)(tag + 1) > data_end)
			return malformed();
		vid = bpf_ntohs(tag->tci) & 0x0fff;
		served = bpf_map_lookup_elem(&vlans, &vid);
		proto = tag->encapsulated;
		/* A VLAN Apus does not serve, or a second tag inside: the kernel's. */
		if (!served || *served != APUS_OWNED ||
		    proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
			count(APUS_STAT_VLAN);
			return pass();
		}
		l3 = tag + 1;
	} else if (proto == bpf_htons(ETH_P_8021AD)) {
		count(APUS_STAT_VLAN);
		return pass();
	}

	if (proto == bpf_htons(ETH_P_ARP))
		return handle_arp(ctx, l3, data_end);
	if (proto == bpf_htons(ETH_P_IP))
		return handle_ipv4(ctx, l3, data_end);
	return pass();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
