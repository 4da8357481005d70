/* CXDP: what ApusXSK needs from C. The kernel's AF_XDP structs
 * (linux/if_xdp.h, which Glibc does not export), libbpf's map calls, and the
 * map layouts shared with the XDP program (bpf/apus_xdp.h). Nothing clever:
 * Swift calls these directly; the per-packet path is Swift. */
#ifndef APUS_CXDP_SHIM_H
#define APUS_CXDP_SHIM_H

#include <linux/if_xdp.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include "../../bpf/apus_xdp.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static const int cxdp_af_xdp = AF_XDP;
static const int cxdp_sol_xdp = SOL_XDP;

#endif
