/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * apus_xdp.h — the contract between the XDP program (bpf/apus_xdp.bpf.c) and
 * user space (ApusXSK through the CXDP shim, scripts, Benchmarks/xdp-ref).
 *
 * Included by the BPF object and by user space; it only uses <linux/types.h>.
 *
 * Pinning (DESIGN decision 2): scripts/xdp-load.sh IFACE loads the program with
 * `xdp-loader load --pin-path /sys/fs/bpf/apus/IFACE`, and every map below is
 * declared LIBBPF_PIN_BY_NAME, so it is pinned at
 *
 *     /sys/fs/bpf/apus/<IFACE>/<map name>       e.g. /sys/fs/bpf/apus/apus-s/xsks
 *
 * The pins live in the HOST's bpffs even when IFACE is inside a network
 * namespace (interface names are only unique per namespace; the testbed's
 * names are unique on the machine). Open a map with
 * bpf_obj_get("/sys/fs/bpf/apus/apus-s/owned_ipv4").
 *
 * Steering (DESIGN decision 1), per received frame:
 *   - ARP (Ethernet/IPv4, untagged) whose target protocol address is in
 *     owned_ipv4                                            -> XSK
 *   - IPv4 whose destination is in owned_ipv4 (any protocol, every fragment)
 *                                                           -> XSK
 *   - mode APUS_MODE_PORT only: TCP/UDP whose (destination IPv4, protocol,
 *     destination port) is in owned_ports (first/unfragmented datagrams only;
 *     fragments with offset != 0 or MF set go to the kernel). The address is
 *     part of the key so that serving a port on one address (the host's own)
 *     never takes the kernel's traffic to the same port on another.
 *                                                           -> XSK
 *   - 802.1Q-tagged frames of a VLAN set in `vlans`: the rules above applied
 *     to what the tag encloses (Apus's stack on that VLAN answers tagged)
 *   - 802.1Q frames of other VLANs, stacked tags, 802.1AD  -> kernel (vlan counter)
 *   - everything else, and anything malformed               -> kernel (XDP_PASS)
 * "-> XSK" is bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS): with no
 * socket registered for that queue the frame goes to the kernel instead and
 * APUS_STAT_REDIRECT_ERRORS counts it.
 */
#ifndef APUS_XDP_H
#define APUS_XDP_H

#include <linux/types.h>

/* ---- pin paths ------------------------------------------------------------ */

#define APUS_PIN_ROOT           "/sys/fs/bpf/apus"       /* + "/" IFACE */
#define APUS_MAP_XSKS           "xsks"
#define APUS_MAP_OWNED_IPV4     "owned_ipv4"
#define APUS_MAP_OWNED_PORTS    "owned_ports"
#define APUS_MAP_CONFIG         "config"
#define APUS_MAP_STATS          "stats"
#define APUS_MAP_VLANS          "vlans"

/* ---- xsks: BPF_MAP_TYPE_XSKMAP ---------------------------------------------
 * key: __u32 rx queue index; value: __u32 AF_XDP socket fd (write-only from
 * user space: bpf_map_update_elem(map_fd, &queue, &xsk_fd, BPF_ANY)).
 * Delete the entry before closing the socket, or the kernel does it on close. */
#define APUS_MAX_QUEUES         64

/* ---- owned_ipv4: BPF_MAP_TYPE_HASH -------------------------------------------
 * key: __u32 IPv4 address in NETWORK byte order (inet_pton's s_addr);
 * value: __u8, any value (APUS_OWNED); presence is what counts. */
#define APUS_MAX_OWNED_IPV4     64
#define APUS_OWNED              1

/* ---- owned_ports: BPF_MAP_TYPE_HASH ------------------------------------------
 * key: struct apus_port_key, pad MUST be zero (hash keys compare bytes);
 * value: __u8 (APUS_OWNED). Only consulted in APUS_MODE_PORT. */
#define APUS_MAX_OWNED_PORTS    256

struct apus_port_key {
	__be32 addr;    /* destination IPv4, NETWORK byte order (inet_pton's s_addr) */
	__u8   proto;   /* IPPROTO_TCP (6) or IPPROTO_UDP (17) */
	__u8   pad;     /* 0 */
	__be16 port;    /* destination port, NETWORK byte order (htons) */
};                      /* 8 bytes, no implicit padding */

/* ---- config: BPF_MAP_TYPE_ARRAY, 1 entry, key __u32 0 ----------------------- */
enum apus_mode {
	APUS_MODE_OWNED_ADDRESS = 0,    /* default: steer owned IPv4s + their ARP */
	APUS_MODE_PORT          = 1,    /* additionally steer owned (proto, port) */
};

struct apus_config {
	__u32 mode;     /* enum apus_mode; unknown values behave like 0 */
};

/* ---- vlans: BPF_MAP_TYPE_ARRAY, key __u32 VLAN id (0...4095) -----------------
 * value: __u8, APUS_OWNED when Apus serves on that 802.1Q VLAN, else 0. Only
 * tagged frames of such a VLAN are looked at further. (With NIC VLAN offload on,
 * the tag is stripped before XDP runs: `ethtool -K IF rxvlan off`.) */
#define APUS_MAX_VLANS          4096

/* ---- stats: BPF_MAP_TYPE_PERCPU_ARRAY ----------------------------------------
 * key: __u32 counter index below; value: __u64 per CPU. A user-space lookup
 * returns libbpf_num_possible_cpus() values of 8 bytes each; sum them.
 * Invariants (per CPU and summed): seen == redirected + passed;
 * redirect_errors, malformed and vlan are subsets of passed. Drops after a
 * successful redirect (XSK rx ring full, no fill-ring frames) are NOT here:
 * read them from the socket with getsockopt(SOL_XDP, XDP_STATISTICS). */
enum apus_stat {
	APUS_STAT_SEEN            = 0,  /* every frame the program ran on */
	APUS_STAT_REDIRECTED      = 1,  /* bpf_redirect_map returned XDP_REDIRECT */
	APUS_STAT_PASSED          = 2,  /* returned XDP_PASS for any reason */
	APUS_STAT_REDIRECT_ERRORS = 3,  /* owned, but no socket at rx_queue_index */
	APUS_STAT_MALFORMED       = 4,  /* truncated header, bad IHL/length/version */
	APUS_STAT_VLAN            = 5,  /* tagged, not a VLAN Apus serves: left to the kernel */
	APUS_STAT_COUNT           = 6,
};

#endif /* APUS_XDP_H */
