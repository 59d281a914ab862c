/*
 * netdelay: a delay line for the fault harness (t/lib/EngramNet.pm) on
 * kernels without sch_netem.
 *
 *     netdelay -q QUEUE -d DELAY_MS [-j JITTER_MS]
 *
 * An iptables rule sends a node's packets to NFQUEUE queue QUEUE of its
 * network namespace; netdelay, run in that namespace, reads each one
 * (its id only: the packet stays in the kernel), holds it for DELAY_MS
 * plus or minus a uniform random share of JITTER_MS, then lets it go on
 * with NF_ACCEPT. With jitter, a packet may overtake an earlier one, as
 * with netem.
 *
 * The packets held wait in a binary min-heap keyed by their release
 * time; ppoll() sleeps until the socket has more, the earliest is due or
 * a signal comes (blocked but there, so that none slips in between the
 * check of the flag and the sleep).
 * SIGTERM (or SIGINT, SIGHUP) lets every packet held go at once, so
 * that none is lost with the process, and netdelay exits with
 * "netdelay: delayed N packets" on its standard output. It says
 * "netdelay: ready" there once it reads the queue.
 */

#define _GNU_SOURCE                     /* ppoll() */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>


#define ND_OK          0
#define ND_ERROR      -1

/* packets the kernel keeps for us before it drops more (default 1024) */
#define ND_QUEUE_MAX   65536

/* the socket's receive buffer: a burst of packets must not overflow it */
#define ND_RCVBUF      (8 * 1024 * 1024)

/* the longest delay or jitter: a minute */
#define ND_MS_MAX      60000


typedef struct {
    uint64_t                release;    /* when it goes, monotonic ns */
    uint32_t                id;         /* the kernel's packet id */
} nd_packet_t;


typedef struct {
    nd_packet_t            *heap;       /* packets held, earliest first */
    size_t                  n;          /* packets in the heap */
    size_t                  size;       /* slots allocated */
    uint64_t                delay;      /* the delay, ns */
    uint64_t                jitter;     /* the jitter either way, ns */
    uint64_t                rand;       /* xorshift64 state, never 0 */
    uint64_t                delayed;    /* packets let go so far */
    struct nfq_q_handle    *qh;         /* the queue read */
} nd_delay_t;


static volatile sig_atomic_t  nd_stop;


static void
nd_usage(void)
{
    fprintf(stderr, "usage: netdelay -q QUEUE -d DELAY_MS [-j JITTER_MS]\n");
}


static void
nd_signal(int signo)
{
    (void) signo;

    nd_stop = 1;
}


static uint64_t
nd_now(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}


/* a number from 0 to n (both included): xorshift64 is plenty here */
static uint64_t
nd_random(nd_delay_t *d, uint64_t n)
{
    d->rand ^= d->rand << 13;
    d->rand ^= d->rand >> 7;
    d->rand ^= d->rand << 17;

    return d->rand % (n + 1);
}


/* a whole number from 0 to max; "what" names it in the error */
static int
nd_parse(const char *s, const char *what, long max, long *v)
{
    char  *end;

    errno = 0;
    *v = strtol(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0' || *v < 0 || *v > max) {
        fprintf(stderr, "netdelay: invalid %s \"%s\" (0 to %ld)\n", what,
                s, max);
        return ND_ERROR;
    }

    return ND_OK;
}


static int
nd_heap_push(nd_delay_t *d, uint64_t release, uint32_t id)
{
    size_t        i, parent, size;
    nd_packet_t  *heap, p;

    if (d->n == d->size) {
        size = d->size ? d->size * 2 : 1024;
        heap = realloc(d->heap, size * sizeof(nd_packet_t));
        if (heap == NULL) {
            return ND_ERROR;
        }

        d->heap = heap;
        d->size = size;
    }

    p.release = release;
    p.id = id;

    /* up from the last slot while the parent goes later */
    for (i = d->n++; i > 0; i = parent) {
        parent = (i - 1) / 2;
        if (d->heap[parent].release <= release) {
            break;
        }
        d->heap[i] = d->heap[parent];
    }

    d->heap[i] = p;

    return ND_OK;
}


static void
nd_heap_pop(nd_delay_t *d)
{
    size_t        i, child;
    nd_packet_t   last;

    last = d->heap[--d->n];

    /* the last one down from the root while a child goes earlier */
    for (i = 0; (child = 2 * i + 1) < d->n; i = child) {
        if (child + 1 < d->n
            && d->heap[child + 1].release < d->heap[child].release)
        {
            child++;
        }

        if (last.release <= d->heap[child].release) {
            break;
        }

        d->heap[i] = d->heap[child];
    }

    if (d->n > 0) {
        d->heap[i] = last;
    }
}


/* lets go every packet due by "now" (all of them with now UINT64_MAX) */
static int
nd_release(nd_delay_t *d, uint64_t now)
{
    while (d->n > 0 && d->heap[0].release <= now) {
        if (nfq_set_verdict(d->qh, d->heap[0].id, NF_ACCEPT, 0, NULL)
            == -1)
        {
            perror("netdelay: nfq_set_verdict");
            return ND_ERROR;
        }

        nd_heap_pop(d);
        d->delayed++;
    }

    return ND_OK;
}


/* how long ppoll() may sleep: until the earliest packet is due, or NULL */
static struct timespec *
nd_timeout(nd_delay_t *d, uint64_t now, struct timespec *ts)
{
    uint64_t  wait;

    if (d->n == 0) {
        return NULL;
    }

    wait = d->heap[0].release > now ? d->heap[0].release - now : 0;

    ts->tv_sec = (time_t) (wait / 1000000000);
    ts->tv_nsec = (long) (wait % 1000000000);

    return ts;
}


static int
nd_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
    struct nfq_data *nfa, void *data)
{
    uint64_t                       release;
    nd_delay_t                    *d;
    struct nfqnl_msg_packet_hdr   *ph;

    (void) qh;
    (void) msg;

    d = data;

    ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == NULL) {
        return 0;
    }

    release = nd_now() + d->delay - d->jitter
              + nd_random(d, 2 * d->jitter);

    if (nd_heap_push(d, release, ntohl(ph->packet_id)) != ND_OK) {
        fprintf(stderr, "netdelay: out of memory, the packet goes now\n");
        return nfq_set_verdict(d->qh, ntohl(ph->packet_id), NF_ACCEPT, 0,
                               NULL);
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int                 c, fd, rc;
    char                buf[65536];
    ssize_t             n;
    long                queue, ms;
    sigset_t            set, old;
    nd_delay_t          d;
    struct pollfd       pfd;
    struct timespec     ts;
    struct nfq_handle  *h;
    struct sigaction    sa;

    memset(&d, 0, sizeof(nd_delay_t));
    queue = -1;
    h = NULL;
    rc = 1;

    while ((c = getopt(argc, argv, "q:d:j:")) != -1) {
        switch (c) {

        case 'q':
            if (nd_parse(optarg, "queue", 65535, &queue) != ND_OK) {
                return 1;
            }
            break;

        case 'd':
            if (nd_parse(optarg, "delay", ND_MS_MAX, &ms) != ND_OK) {
                return 1;
            }
            d.delay = (uint64_t) ms * 1000000;
            break;

        case 'j':
            if (nd_parse(optarg, "jitter", ND_MS_MAX, &ms) != ND_OK) {
                return 1;
            }
            d.jitter = (uint64_t) ms * 1000000;
            break;

        default:
            nd_usage();
            return 1;
        }
    }

    if (queue == -1 || optind != argc) {
        nd_usage();
        return 1;
    }

    /* no packet before it was sent: the jitter is at most the delay */
    if (d.jitter > d.delay) {
        d.jitter = d.delay;
    }

    d.rand = nd_now() ^ ((uint64_t) getpid() << 32) ^ 0x9e3779b97f4a7c15;
    if (d.rand == 0) {
        d.rand = 1;
    }

    memset(&sa, 0, sizeof(struct sigaction));
    sa.sa_handler = nd_signal;
    sigemptyset(&sa.sa_mask);

    /* caught in ppoll() only, where they end the sleep with EINTR */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);

    if (sigprocmask(SIG_BLOCK, &set, &old) == -1
        || sigaction(SIGTERM, &sa, NULL) == -1
        || sigaction(SIGINT, &sa, NULL) == -1
        || sigaction(SIGHUP, &sa, NULL) == -1)
    {
        perror("netdelay: signals");
        return 1;
    }

    h = nfq_open();
    if (h == NULL) {
        perror("netdelay: nfq_open");
        return 1;
    }

    d.qh = nfq_create_queue(h, (uint16_t) queue, nd_packet, &d);
    if (d.qh == NULL) {
        fprintf(stderr, "netdelay: queue %u: %s (taken by another?)\n",
                (unsigned) queue, strerror(errno));
        goto failed;
    }

    /* the packet's id is all we need: none of its bytes */
    if (nfq_set_mode(d.qh, NFQNL_COPY_META, 0) == -1) {
        perror("netdelay: nfq_set_mode");
        goto failed;
    }

    if (nfq_set_queue_maxlen(d.qh, ND_QUEUE_MAX) == -1) {
        perror("netdelay: nfq_set_queue_maxlen");
        goto failed;
    }

    fd = nfq_fd(h);

    /* a smaller buffer than asked for still works: just less of a burst */
    (void) nfnl_rcvbufsiz(nfq_nfnlh(h), ND_RCVBUF);

    printf("netdelay: ready\n");
    fflush(stdout);

    pfd.fd = fd;
    pfd.events = POLLIN;

    while (!nd_stop) {
        if (ppoll(&pfd, 1, nd_timeout(&d, nd_now(), &ts), &old) == -1) {
            if (errno == EINTR) {
                continue;
            }
            perror("netdelay: ppoll");
            goto failed;
        }

        if (pfd.revents & POLLIN) {
            n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

            if (n == -1) {

                /* the kernel dropped some: those we had go on as usual */
                if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
                    perror("netdelay: recv");
                    goto failed;
                }

            } else {
                (void) nfq_handle_packet(h, buf, (int) n);
            }
        }

        if (nd_release(&d, nd_now()) != ND_OK) {
            goto failed;
        }
    }

    rc = 0;

failed:

    /* whatever is held goes now: no packet is lost with us */
    if (d.qh != NULL) {
        (void) nd_release(&d, UINT64_MAX);
        nfq_destroy_queue(d.qh);
    }

    if (h != NULL) {
        nfq_close(h);
    }

    printf("netdelay: delayed %llu packets\n", (unsigned long long) d.delayed);

    free(d.heap);

    return rc;
}
