/*
 * Platform configuration: the one place where system headers are included
 * and where the results of ./configure (objs/engram_auto_config.h) become
 * the types and feature macros that the rest of the tree uses.
 */

#ifndef EG_CONFIG_H_INCLUDED
#define EG_CONFIG_H_INCLUDED


#include <engram_auto_config.h>

#if (EG_LINUX)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#endif

#include <sys/types.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if (EG_HAVE_EPOLL)
#include <sys/epoll.h>
#endif

#if (EG_HAVE_KQUEUE)
#include <sys/event.h>
#endif


typedef intptr_t        eg_int_t;
typedef uintptr_t       eg_uint_t;
typedef intptr_t        eg_flag_t;
typedef int             eg_err_t;
typedef unsigned char   u_char;

/* milliseconds of the monotonic clock; differences fit eg_msec_int_t */
typedef uint64_t        eg_msec_t;
typedef int64_t         eg_msec_int_t;


#define EG_INT_T_LEN    (sizeof("-9223372036854775808") - 1)
#define EG_MAX_INT_T_VALUE   INTPTR_MAX
#define EG_MAX_UINT_T_VALUE  UINTPTR_MAX
#define EG_MAX_SIZE_T_VALUE  SIZE_MAX

#define EG_ALIGNMENT    sizeof(uintptr_t)

#define eg_align(d, a)      (((d) + ((a) - 1)) & ~((a) - 1))
#define eg_align_ptr(p, a)                                                   \
    (u_char *) (((uintptr_t) (p) + ((uintptr_t) (a) - 1))                    \
                & ~((uintptr_t) (a) - 1))

#define eg_nelems(a)        (sizeof(a) / sizeof((a)[0]))
#define eg_min(a, b)        ((a) < (b) ? (a) : (b))
#define eg_max(a, b)        ((a) > (b) ? (a) : (b))

#define eg_unused(x)        (void) (x)

#define EG_LINEFEED         "\n"

#if defined(__GNUC__) || defined(__clang__)
#define EG_PRINTF(f, a)     __attribute__((format(printf, f, a)))
#define EG_NORETURN         __attribute__((noreturn))
#else
#define EG_PRINTF(f, a)
#define EG_NORETURN
#endif

#ifndef SOCK_NONBLOCK
#define SOCK_NONBLOCK       0
#endif

#ifndef SOCK_CLOEXEC
#define SOCK_CLOEXEC        0
#endif

#endif /* EG_CONFIG_H_INCLUDED */
