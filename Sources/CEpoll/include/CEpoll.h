// epoll, eventfd and the GNU calls the kernel-socket server loop needs, which
// Swift's Glibc module does not export.
#pragma once
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

int cepoll_accept4(int fd, int flags);
int cepoll_set_thread_name(const char *name);

// Flags as plain integers (some are enums or macros Swift imports awkwardly).
static const uint32_t CEPOLL_IN = EPOLLIN;
static const uint32_t CEPOLL_OUT = EPOLLOUT;
static const uint32_t CEPOLL_RDHUP = EPOLLRDHUP;
static const uint32_t CEPOLL_HUP = EPOLLHUP;
static const uint32_t CEPOLL_ERR = EPOLLERR;
static const uint32_t CEPOLL_EXCLUSIVE = EPOLLEXCLUSIVE;
static const int CEPOLL_SOCK_STREAM = SOCK_STREAM;
// Non-blocking and close-on-exec, for socket(2) and accept4(2).
static const int CEPOLL_SOCK_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;
