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
#include <sys/prctl.h>
#include <malloc.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../../bpf/apus_xdp.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* Busy polling (Linux 5.11+); older libc headers lack the names. */
#ifndef SO_BUSY_POLL
#define SO_BUSY_POLL 46
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

static const int cxdp_af_xdp = AF_XDP;
static const int cxdp_sol_xdp = SOL_XDP;

/* Thread placement for the per-queue threads. Glibc's wrappers need
 * _GNU_SOURCE, which the Swift Glibc module does not define; these are the
 * raw calls on a byte mask (bit n = CPU n). */
static inline int cxdp_set_affinity(const void *mask, unsigned long size) {
    return (int)syscall(__NR_sched_setaffinity, 0, size, mask);
}
/* Returns the bytes of mask the kernel wrote, or -1. */
static inline int cxdp_get_affinity(void *mask, unsigned long size) {
    return (int)syscall(__NR_sched_getaffinity, 0, size, mask);
}
/* How an XDP program is attached to ifindex (XDP_ATTACHED_*), or -1. LIBBPF_OPTS
 * zeroes the whole struct, padding included: libbpf rejects non-zero extra bytes. */
static inline int cxdp_xdp_attach_mode(int ifindex) {
    LIBBPF_OPTS(bpf_xdp_query_opts, opts);
    if (bpf_xdp_query(ifindex, 0, &opts) != 0) return -1;
    return opts.attach_mode;
}

/* poll(2) with a nanosecond timeout (the queue loop's timers need better than 1 ms). */
static inline int cxdp_poll_ns(struct pollfd *fds, unsigned long count, long long nanoseconds) {
    struct timespec timeout = { nanoseconds / 1000000000LL, nanoseconds % 1000000000LL };
    return (int)syscall(__NR_ppoll, fds, count, &timeout, NULL, 0);
}

/* The queue executor's wakeup: non-blocking, close-on-exec. */
static inline int cxdp_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}
static inline int cxdp_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}

/* glibc's malloc_trim(0): hands free heap pages (every arena) back to the kernel. */
static inline int cxdp_release_free_memory(void) {
    return malloc_trim(0);
}

#endif
