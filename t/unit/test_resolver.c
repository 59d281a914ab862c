/*
 * The resolver (src/discovery/eg_resolver.c): c-ares driven by a real
 * event loop (epoll, or poll when the test says so) against a small DNS
 * server of the test's own on 127.0.0.1, which runs in a thread and
 * answers from a table of records: A, AAAA and SRV, NXDOMAIN for names
 * it does not know, SERVFAIL and REFUSED for names that say so, silence
 * when asked to, and a truncated UDP answer that sends c-ares to TCP.
 * Also the SRV answer's parsing and RFC 2782 order on their own
 * (src/discovery/eg_resolver_srv.c).
 *
 * Each test waits for a condition with a deadline, never a fixed sleep.
 */

#include <eg_unit.h>
#include <eg_gossip.h>
#include <eg_resolver.h>
#include <eg_resolver_int.h>

#include <ares.h>


#define EG_UNIT_DNS_A        1
#define EG_UNIT_DNS_AAAA     28
#define EG_UNIT_DNS_SRV      33

#define EG_UNIT_DNS_MAX      4096
#define EG_UNIT_DNS_CONNS    8
#define EG_UNIT_WAIT         5000       /* ms: the deadline of a wait */


/* a record the test server serves */
typedef struct {
    const char          *name;
    uint16_t             type;
    uint32_t             ttl;
    const char          *data;      /* "1.2.3.4", "::1", "P W PORT TARGET" */
} eg_unit_rr_t;


typedef struct {
    u_char               buf[EG_UNIT_DNS_MAX + 2];
    size_t               len;
    int                  fd;
} eg_unit_tcp_t;


static struct {
    pthread_t            thread;
    int                  udp;
    int                  tcp;
    int                  stop[2];
    uint16_t             port;
    char                 server[32];    /* "127.0.0.1:PORT" */

    const eg_unit_rr_t  *zone;
    eg_uint_t            nzone;

    /* set by a test before it asks; read by the server thread */
    volatile int         silent;        /* drop every query */
    volatile int         truncate;      /* UDP answers: TC, no records */

    volatile int         udp_queries;
    volatile int         tcp_queries;

    eg_unit_tcp_t        conns[EG_UNIT_DNS_CONNS];
} dns;


/* what a handler was called with */
typedef struct {
    eg_uint_t            calls;
    eg_int_t             rc;
    eg_swim_addr_t       addrs[16];
    eg_uint_t            naddrs;
    eg_msec_t            ttl;
    char                 error[256];
} eg_unit_answer_t;


static eg_unit_conf_t    uc;
static eg_cycle_t       *cycle;
static eg_event_t        tick;
static eg_resolver_t    *resolver;
static eg_unit_log_t     rlog;


/* the server's side */

static void
eg_unit_put16(u_char *p, size_t *len, uint16_t v)
{
    p[(*len)++] = (u_char) (v >> 8);
    p[(*len)++] = (u_char) v;
}


static void
eg_unit_put32(u_char *p, size_t *len, uint32_t v)
{
    eg_unit_put16(p, len, (uint16_t) (v >> 16));
    eg_unit_put16(p, len, (uint16_t) v);
}


/* "a.b.c" as labels; "" and "." are the root */
static void
eg_unit_put_name(u_char *p, size_t *len, const char *name)
{
    const char  *dot;
    size_t       n;

    while (*name && strcmp(name, ".") != 0) {
        dot = strchr(name, '.');
        n = dot ? (size_t) (dot - name) : strlen(name);

        p[(*len)++] = (u_char) n;
        memcpy(p + *len, name, n);
        *len += n;

        name += n;

        if (*name == '.') {
            name++;
        }
    }

    p[(*len)++] = 0;
}


/* one record, uncompressed */
static void
eg_unit_put_rr(u_char *p, size_t *len, const eg_unit_rr_t *rr)
{
    size_t        rdlen_at, start;
    unsigned      prio, weight, port;
    char          target[256];
    struct in6_addr  a6;
    struct in_addr   a4;

    eg_unit_put_name(p, len, rr->name);
    eg_unit_put16(p, len, rr->type);
    eg_unit_put16(p, len, 1);
    eg_unit_put32(p, len, rr->ttl);

    rdlen_at = *len;
    *len += 2;
    start = *len;

    switch (rr->type) {

    case EG_UNIT_DNS_A:
        ck_assert_int_eq(inet_pton(AF_INET, rr->data, &a4), 1);
        memcpy(p + *len, &a4, 4);
        *len += 4;
        break;

    case EG_UNIT_DNS_AAAA:
        ck_assert_int_eq(inet_pton(AF_INET6, rr->data, &a6), 1);
        memcpy(p + *len, &a6, 16);
        *len += 16;
        break;

    case EG_UNIT_DNS_SRV:
        ck_assert_int_eq(sscanf(rr->data, "%u %u %u %255s", &prio, &weight,
                                &port, target), 4);
        eg_unit_put16(p, len, (uint16_t) prio);
        eg_unit_put16(p, len, (uint16_t) weight);
        eg_unit_put16(p, len, (uint16_t) port);
        eg_unit_put_name(p, len, target);
        break;
    }

    p[rdlen_at] = (u_char) ((*len - start) >> 8);
    p[rdlen_at + 1] = (u_char) (*len - start);
}


/*
 * A whole answer: the header, the question as asked, the records of
 * the zone; id and question from q.
 */
static size_t
eg_unit_dns_message(u_char *out, const u_char *q, size_t qend, int rcode,
    int tc, const eg_unit_rr_t *rrs, eg_uint_t n)
{
    size_t     len;
    eg_uint_t  i;

    len = 0;

    out[len++] = q[0];
    out[len++] = q[1];
    out[len++] = (u_char) (0x80 | 0x04 | (tc ? 0x02 : 0) | (q[2] & 0x01));
    out[len++] = (u_char) (0x80 | rcode);

    eg_unit_put16(out, &len, 1);
    eg_unit_put16(out, &len, (uint16_t) n);
    eg_unit_put16(out, &len, 0);
    eg_unit_put16(out, &len, 0);

    memcpy(out + len, q + 12, qend - 12);
    len += qend - 12;

    for (i = 0; i < n; i++) {
        eg_unit_put_rr(out, &len, &rrs[i]);
    }

    return len;
}


static size_t
eg_unit_dns_answer(const u_char *q, size_t qlen, u_char *out, int tcp)
{
    int            rcode, known;
    char           name[256];
    size_t         p, nlen;
    uint16_t       qtype;
    eg_uint_t      i, n;
    eg_unit_rr_t   rrs[32];

    if (qlen < 17) {
        return 0;
    }

    /* the question's name, dotted */

    p = 12;
    nlen = 0;

    while (p < qlen && q[p] != 0) {
        if (q[p] > 63 || p + 1 + q[p] > qlen || nlen + q[p] + 1 >= 255) {
            return 0;
        }

        if (nlen) {
            name[nlen++] = '.';
        }

        memcpy(name + nlen, q + p + 1, q[p]);
        nlen += q[p];
        p += 1 + q[p];
    }

    name[nlen] = '\0';

    if (p + 5 > qlen) {
        return 0;
    }

    qtype = (uint16_t) ((q[p + 1] << 8) | q[p + 2]);
    p += 5;

    known = 0;
    n = 0;

    for (i = 0; i < dns.nzone; i++) {
        if (strcasecmp(dns.zone[i].name, name) != 0) {
            continue;
        }

        known = 1;

        if (dns.zone[i].type == qtype && n < eg_nelems(rrs)) {
            rrs[n++] = dns.zone[i];
        }
    }

    rcode = known ? 0 : 3;

    if (strncmp(name, "slow", 4) == 0) {
        /* never answered */
        return 0;
    }

    if (strncmp(name, "servfail", 8) == 0) {
        rcode = 2;
        n = 0;

    } else if (strncmp(name, "refused", 7) == 0) {
        rcode = 5;
        n = 0;
    }

    if (dns.truncate && !tcp) {
        return eg_unit_dns_message(out, q, p, rcode, 1, NULL, 0);
    }

    return eg_unit_dns_message(out, q, p, rcode, 0, rrs, n);
}


static void
eg_unit_dns_tcp_read(eg_unit_tcp_t *t)
{
    u_char    out[EG_UNIT_DNS_MAX + 2];
    size_t    mlen, alen, sent;
    ssize_t   n;

    n = recv(t->fd, t->buf + t->len, sizeof(t->buf) - t->len, 0);

    if (n <= 0) {
        (void) close(t->fd);
        t->fd = -1;
        return;
    }

    t->len += (size_t) n;

    while (t->len >= 2) {
        mlen = ((size_t) t->buf[0] << 8) | t->buf[1];

        if (t->len < mlen + 2) {
            return;
        }

        dns.tcp_queries++;

        if (!dns.silent) {
            alen = eg_unit_dns_answer(t->buf + 2, mlen, out + 2, 1);

            if (alen) {
                out[0] = (u_char) (alen >> 8);
                out[1] = (u_char) alen;

                for (sent = 0; sent < alen + 2; sent += (size_t) n) {
                    n = send(t->fd, out + sent, alen + 2 - sent,
                             MSG_NOSIGNAL);
                    if (n <= 0) {
                        break;
                    }
                }
            }
        }

        memmove(t->buf, t->buf + mlen + 2, t->len - mlen - 2);
        t->len -= mlen + 2;
    }
}


static void *
eg_unit_dns_thread(void *arg)
{
    int             fd, nfds;
    u_char          buf[EG_UNIT_DNS_MAX], out[EG_UNIT_DNS_MAX];
    size_t          alen;
    ssize_t         n;
    eg_uint_t       i, j;
    socklen_t       slen;
    struct pollfd   pfd[3 + EG_UNIT_DNS_CONNS];
    struct sockaddr_storage  from;

    eg_unused(arg);

    for ( ;; ) {
        pfd[0].fd = dns.stop[0];
        pfd[1].fd = dns.udp;
        pfd[2].fd = dns.tcp;
        nfds = 3;

        for (i = 0; i < EG_UNIT_DNS_CONNS; i++) {
            if (dns.conns[i].fd != -1) {
                pfd[nfds++].fd = dns.conns[i].fd;
            }
        }

        for (i = 0; i < (eg_uint_t) nfds; i++) {
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }

        if (poll(pfd, (nfds_t) nfds, -1) == -1) {
            if (errno == EINTR) {
                continue;
            }

            return NULL;
        }

        if (pfd[0].revents) {
            return NULL;
        }

        if (pfd[1].revents) {
            slen = sizeof(from);
            n = recvfrom(dns.udp, buf, sizeof(buf), 0,
                         (struct sockaddr *) &from, &slen);

            if (n > 0) {
                dns.udp_queries++;

                alen = dns.silent ? 0
                       : eg_unit_dns_answer(buf, (size_t) n, out, 0);

                if (alen) {
                    (void) sendto(dns.udp, out, alen, 0,
                                  (struct sockaddr *) &from, slen);
                }
            }
        }

        if (pfd[2].revents) {
            fd = accept(dns.tcp, NULL, NULL);

            for (i = 0; fd != -1 && i < EG_UNIT_DNS_CONNS; i++) {
                if (dns.conns[i].fd == -1) {
                    dns.conns[i].fd = fd;
                    dns.conns[i].len = 0;
                    fd = -1;
                }
            }

            if (fd != -1) {
                (void) close(fd);
            }
        }

        for (j = 3; j < (eg_uint_t) nfds; j++) {
            if (pfd[j].revents == 0) {
                continue;
            }

            for (i = 0; i < EG_UNIT_DNS_CONNS; i++) {
                if (dns.conns[i].fd == pfd[j].fd) {
                    eg_unit_dns_tcp_read(&dns.conns[i]);
                    break;
                }
            }
        }
    }
}


/* a UDP and a TCP socket on one port of 127.0.0.1, and the thread */
static void
eg_unit_dns_start(const eg_unit_rr_t *zone, eg_uint_t n)
{
    int                 on, tries;
    eg_uint_t           i;
    socklen_t           slen;
    struct sockaddr_in  sin;

    eg_memzero(&dns, sizeof(dns));

    dns.zone = zone;
    dns.nzone = n;

    for (i = 0; i < EG_UNIT_DNS_CONNS; i++) {
        dns.conns[i].fd = -1;
    }

    for (tries = 0; tries < 20; tries++) {
        dns.tcp = socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0);
        dns.udp = socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0);
        ck_assert(dns.tcp != -1 && dns.udp != -1);

        on = 1;
        (void) setsockopt(dns.tcp, SOL_SOCKET, SO_REUSEADDR, &on,
                          sizeof(on));

        eg_memzero(&sin, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

        ck_assert_int_eq(bind(dns.tcp, (struct sockaddr *) &sin,
                              sizeof(sin)), 0);

        slen = sizeof(sin);
        ck_assert_int_eq(getsockname(dns.tcp, (struct sockaddr *) &sin,
                                     &slen), 0);

        if (bind(dns.udp, (struct sockaddr *) &sin, sizeof(sin)) == 0) {
            break;
        }

        /* the port is taken for UDP: another one */
        (void) close(dns.tcp);
        (void) close(dns.udp);
        dns.tcp = -1;
        dns.udp = -1;
    }

    ck_assert_msg(dns.udp != -1, "no port for the test DNS server");
    ck_assert_int_eq(listen(dns.tcp, 16), 0);

    dns.port = ntohs(sin.sin_port);
    (void) snprintf(dns.server, sizeof(dns.server), "127.0.0.1:%u",
                    (unsigned) dns.port);

    ck_assert_int_eq(pipe(dns.stop), 0);
    ck_assert_int_eq(pthread_create(&dns.thread, NULL, eg_unit_dns_thread,
                                    NULL), 0);
}


static void
eg_unit_dns_stop(void)
{
    eg_uint_t  i;

    if (dns.stop[1] <= 0) {
        return;
    }

    ck_assert_int_eq(write(dns.stop[1], "x", 1), 1);
    (void) pthread_join(dns.thread, NULL);

    (void) close(dns.stop[0]);
    (void) close(dns.stop[1]);
    (void) close(dns.udp);
    (void) close(dns.tcp);

    for (i = 0; i < EG_UNIT_DNS_CONNS; i++) {
        if (dns.conns[i].fd != -1) {
            (void) close(dns.conns[i].fd);
        }
    }

    dns.stop[1] = 0;
}


/* the client's side: an event loop of a module process */

static void
eg_unit_tick(eg_event_t *ev)
{
    /* only so that the loop wakes up to look at the deadline */
    eg_unused(ev);
}


static void
eg_unit_loop_start(const char *events)
{
    char  conf[256];

    (void) snprintf(conf, sizeof(conf),
                    "events { worker_connections 64; %s }\n", events);

    cycle = eg_unit_conf_run(&uc, conf, NULL);
    ck_assert_msg(cycle != NULL, "%s", eg_unit_conf_log(&uc));

    eg_cycle = cycle;
    eg_process = EG_PROCESS_HELPER;
    eg_test_config = 0;

    ck_assert_int_eq(eg_event_core_module.init_process(cycle), EG_OK);

    eg_time_update();

    eg_memzero(&tick, sizeof(eg_event_t));
    tick.handler = eg_unit_tick;
    tick.log = cycle->log;

    eg_unit_log_open(&rlog);
}


static eg_resolver_t *
eg_unit_resolver(const char *server, eg_msec_t timeout)
{
    eg_str_t     *s;
    eg_array_t   *servers;

    servers = eg_array_create(cycle->pool, 1, sizeof(eg_str_t));
    ck_assert_ptr_nonnull(servers);

    s = eg_array_push(servers);
    s->data = (u_char *) server;
    s->len = strlen(server);

    return eg_resolver_create(servers, timeout, &rlog.log);
}


static void
eg_unit_setup_with(const char *events, const eg_unit_rr_t *zone,
    eg_uint_t n)
{
    eg_unit_dns_start(zone, n);
    eg_unit_loop_start(events);

    resolver = eg_unit_resolver(dns.server, 1000);
    ck_assert_ptr_nonnull(resolver);
}


static void
eg_unit_teardown(void)
{
    if (resolver) {
        eg_resolver_destroy(resolver);
        resolver = NULL;
    }

    if (cycle) {
        if (tick.timer_set) {
            eg_event_del_timer(&tick);
        }

        eg_event_core_module.exit_process(cycle);
        eg_unit_conf_done(&uc);
        cycle = NULL;
    }

    eg_unit_log_close(&rlog);
    eg_unit_dns_stop();
}


/* runs the loop until *done or the deadline; returns *done */
static eg_uint_t
eg_unit_run(eg_uint_t *done, eg_msec_t ms)
{
    eg_msec_t  deadline;

    deadline = eg_current_msec + ms;

    while (!*done && (eg_msec_int_t) (deadline - eg_current_msec) > 0) {
        eg_event_add_timer(&tick, 20);
        eg_process_events_and_timers(cycle);
    }

    return *done;
}


/* runs the loop for ms, whatever happens */
static void
eg_unit_idle(eg_msec_t ms)
{
    eg_uint_t  never;

    never = 0;
    (void) eg_unit_run(&never, ms);
}


static void
eg_unit_handler(void *data, eg_int_t rc, eg_array_t *addrs, eg_msec_t ttl,
    const char *error)
{
    eg_unit_answer_t  *a = data;

    a->calls++;
    a->rc = rc;
    a->ttl = ttl;
    a->naddrs = 0;

    if (addrs != NULL) {
        a->naddrs = eg_min(addrs->nelts, eg_nelems(a->addrs));
        memcpy(a->addrs, addrs->elts, a->naddrs * sizeof(eg_swim_addr_t));
    }

    (void) snprintf(a->error, sizeof(a->error), "%s", error ? error : "");
}


static eg_resolver_query_t *
eg_unit_host(const char *name, uint16_t port, eg_unit_answer_t *a)
{
    eg_str_t  s;

    s.data = (u_char *) name;
    s.len = strlen(name);

    return eg_resolve_host(resolver, &s, port, eg_unit_handler, a);
}


static eg_resolver_query_t *
eg_unit_srv(const char *name, eg_unit_answer_t *a)
{
    eg_str_t  s;

    s.data = (u_char *) name;
    s.len = strlen(name);

    return eg_resolve_srv(resolver, &s, eg_unit_handler, a);
}


/* "10.0.0.1:7946", "[::1]:80" */
static const char *
eg_unit_addr_text(eg_swim_addr_t *a, char *buf, size_t size)
{
    char  ip[INET6_ADDRSTRLEN];

    (void) inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, ip,
                     sizeof(ip));
    (void) snprintf(buf, size, a->family == 4 ? "%s:%u" : "[%s]:%u", ip,
                    (unsigned) a->port);

    return buf;
}


#define eg_unit_assert_addr(a, i, expect)                                    \
    do {                                                                     \
        char  eg_unit_b_[64];                                                \
                                                                             \
        ck_assert_uint_gt((a)->naddrs, (i));                                 \
        ck_assert_str_eq(eg_unit_addr_text(&(a)->addrs[i], eg_unit_b_,       \
                                           sizeof(eg_unit_b_)), expect);     \
    } while (0)


/* the zone most tests use */

static const eg_unit_rr_t  zone[] = {
    { "node1.test", EG_UNIT_DNS_A, 300, "127.0.0.11" },
    { "node2.test", EG_UNIT_DNS_A, 60, "127.0.0.12" },
    { "node3.test", EG_UNIT_DNS_A, 300, "127.0.0.13" },
    { "dual.test", EG_UNIT_DNS_AAAA, 30, "fd00::1" },
    { "dual.test", EG_UNIT_DNS_A, 120, "10.1.2.3" },
    { "dual.test", EG_UNIT_DNS_A, 90, "10.1.2.4" },
    { "v6only.test", EG_UNIT_DNS_AAAA, 300, "fd00::2" },
    { "empty.test", EG_UNIT_DNS_SRV, 300, "0 0 7946 ." },

    /* priorities given out of order; ports of their own */
    { "_engram._tcp.test", EG_UNIT_DNS_SRV, 45,
      "20 0 7002 node2.test" },
    { "_engram._tcp.test", EG_UNIT_DNS_SRV, 100,
      "10 0 7001 node1.test" },
    { "_engram._tcp.test", EG_UNIT_DNS_SRV, 100,
      "30 0 7003 node3.test" },

    { "_part._tcp.test", EG_UNIT_DNS_SRV, 100, "10 0 7001 node1.test" },
    { "_part._tcp.test", EG_UNIT_DNS_SRV, 100, "20 0 7009 gone.test" },

    { "_gone._tcp.test", EG_UNIT_DNS_SRV, 100, "10 0 7009 gone.test" },
    { "_gone._tcp.test", EG_UNIT_DNS_SRV, 100, "20 0 7008 gone2.test" },

    { "_dot._tcp.test", EG_UNIT_DNS_SRV, 100, "0 0 0 ." },

    /* its target is never answered */
    { "_slow._tcp.test", EG_UNIT_DNS_SRV, 100, "10 0 7001 slow.test" },
};


static void
eg_unit_setup(void)
{
    eg_unit_setup_with("", zone, eg_nelems(zone));
}


static void
eg_unit_setup_poll(void)
{
    eg_unit_setup_with("use poll;", zone, eg_nelems(zone));
}


START_TEST(numeric_host_is_answered_later_without_asking)
{
    eg_unit_answer_t      a;
    eg_resolver_query_t  *q;

    eg_memzero(&a, sizeof(a));

    q = eg_unit_host("192.0.2.7", 7946, &a);

    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(a.calls, 0);

    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_OK);
    ck_assert_uint_eq(a.naddrs, 1);
    eg_unit_assert_addr(&a, 0, "192.0.2.7:7946");
    ck_assert_int_eq(dns.udp_queries, 0);
}
END_TEST


START_TEST(bracketed_ipv6_host_is_answered_without_asking)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_host("[2001:db8::5]", 80, &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_OK);
    eg_unit_assert_addr(&a, 0, "[2001:db8::5]:80");
    ck_assert_int_eq(dns.udp_queries, 0);
}
END_TEST


START_TEST(host_gives_ipv4_before_ipv6_with_the_smallest_ttl)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_host("dual.test", 7946, &a));
    ck_assert_uint_eq(a.calls, 0);
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_msg(a.rc == EG_OK, "%s", a.error);
    ck_assert_uint_eq(a.naddrs, 3);
    ck_assert_uint_eq(a.addrs[0].family, 4);
    ck_assert_uint_eq(a.addrs[1].family, 4);
    eg_unit_assert_addr(&a, 2, "[fd00::1]:7946");
    ck_assert_uint_eq(a.ttl, 30000);
}
END_TEST


START_TEST(host_with_only_ipv6_resolves)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_host("v6only.test", 1, &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_msg(a.rc == EG_OK, "%s", a.error);
    ck_assert_uint_eq(a.naddrs, 1);
    eg_unit_assert_addr(&a, 0, "[fd00::2]:1");
}
END_TEST


START_TEST(unknown_host_is_nxdomain)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_host("nowhere.test", 7946, &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "nowhere.test: NXDOMAIN");
    ck_assert_uint_eq(a.calls, 1);
}
END_TEST


START_TEST(host_without_addresses_says_so)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    /* the name is there, with an SRV record only */
    ck_assert_ptr_nonnull(eg_unit_host("empty.test", 7946, &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "empty.test: no A or AAAA records");
}
END_TEST


START_TEST(servfail_is_reported)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("servfail.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "servfail.test: SERVFAIL");
}
END_TEST


START_TEST(refused_is_reported)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("refused.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "refused.test: REFUSED");
}
END_TEST


START_TEST(silent_server_times_out_once)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    dns.silent = 1;

    ck_assert_ptr_nonnull(eg_unit_host("node1.test", 7946, &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "node1.test: timed out");
    ck_assert_int_gt(dns.udp_queries, 0);

    /* c-ares's own retries end too, and call no one */
    eg_unit_idle(1500);
    ck_assert_uint_eq(a.calls, 1);
}
END_TEST


START_TEST(srv_targets_come_by_priority_with_their_ports)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("_engram._tcp.test", &a));
    ck_assert_uint_eq(a.calls, 0);
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_msg(a.rc == EG_OK, "%s", a.error);
    ck_assert_uint_eq(a.naddrs, 3);
    eg_unit_assert_addr(&a, 0, "127.0.0.11:7001");
    eg_unit_assert_addr(&a, 1, "127.0.0.12:7002");
    eg_unit_assert_addr(&a, 2, "127.0.0.13:7003");
}
END_TEST


START_TEST(srv_ttl_is_the_smallest_of_records_and_addresses)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    /* SRV 45 s, 100 s; addresses 300 s, 60 s */
    ck_assert_ptr_nonnull(eg_unit_srv("_engram._tcp.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_msg(a.rc == EG_OK, "%s", a.error);
    ck_assert_uint_eq(a.ttl, 45000);
}
END_TEST


START_TEST(srv_with_only_a_dot_target_finds_nothing)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("_dot._tcp.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_msg(a.rc == EG_OK, "%s", a.error);
    ck_assert_uint_eq(a.naddrs, 0);
    ck_assert_uint_eq(a.ttl, 100000);
}
END_TEST


START_TEST(srv_of_an_unknown_name_is_nxdomain)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("_engram._tcp.nowhere.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "_engram._tcp.nowhere.test: NXDOMAIN");
}
END_TEST


START_TEST(srv_of_a_name_without_records_says_so)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("node1.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "node1.test: no SRV records");
}
END_TEST


START_TEST(srv_target_that_does_not_resolve_is_left_out)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("_part._tcp.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_msg(a.rc == EG_OK, "%s", a.error);
    ck_assert_uint_eq(a.naddrs, 1);
    eg_unit_assert_addr(&a, 0, "127.0.0.11:7001");
}
END_TEST


START_TEST(srv_whose_targets_all_fail_names_the_first)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("_gone._tcp.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "gone.test: NXDOMAIN");
}
END_TEST


START_TEST(srv_whose_target_never_answers_times_out)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    ck_assert_ptr_nonnull(eg_unit_srv("_slow._tcp.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    /* the query's deadline, or c-ares's for the target, whichever first */
    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_msg(strcmp(a.error, "_slow._tcp.test: timed out") == 0
                  || strcmp(a.error, "slow.test: timed out") == 0,
                  "error \"%s\"", a.error);

    eg_unit_idle(1500);
    ck_assert_uint_eq(a.calls, 1);
}
END_TEST


START_TEST(truncated_answer_is_asked_again_over_tcp)
{
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    dns.truncate = 1;

    ck_assert_ptr_nonnull(eg_unit_srv("_engram._tcp.test", &a));
    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    ck_assert_msg(a.rc == EG_OK, "%s", a.error);
    ck_assert_uint_eq(a.naddrs, 3);
    eg_unit_assert_addr(&a, 0, "127.0.0.11:7001");
    ck_assert_int_gt(dns.tcp_queries, 0);
}
END_TEST


START_TEST(many_queries_at_once_all_answer)
{
    eg_uint_t          i, done;
    eg_msec_t          deadline;
    eg_unit_answer_t   a[30];

    eg_memzero(a, sizeof(a));

    for (i = 0; i < eg_nelems(a); i++) {
        ck_assert_ptr_nonnull(eg_unit_host(i % 3 == 0 ? "node1.test"
                                           : i % 3 == 1 ? "dual.test"
                                           : "nowhere.test",
                                           (uint16_t) i, &a[i]));
    }

    deadline = eg_current_msec + EG_UNIT_WAIT;

    for ( ;; ) {
        done = 1;

        for (i = 0; i < eg_nelems(a); i++) {
            done = done && a[i].calls;
        }

        if (done || (eg_msec_int_t) (deadline - eg_current_msec) <= 0) {
            break;
        }

        eg_unit_idle(20);
    }

    ck_assert_msg(done, "not every query was answered");

    for (i = 0; i < eg_nelems(a); i++) {
        ck_assert_uint_eq(a[i].calls, 1);
        ck_assert_int_eq(a[i].rc, i % 3 == 2 ? EG_ERROR : EG_OK);
    }

    eg_unit_assert_addr(&a[3], 0, "127.0.0.11:3");
}
END_TEST


START_TEST(cancelled_query_never_calls_back)
{
    eg_unit_answer_t      a, b;
    eg_resolver_query_t  *q;

    eg_memzero(&a, sizeof(a));
    eg_memzero(&b, sizeof(b));

    q = eg_unit_srv("_engram._tcp.test", &a);
    ck_assert_ptr_nonnull(q);
    eg_resolve_cancel(q);

    /* one asked after it, answered: the cancelled one had its answer too */
    ck_assert_ptr_nonnull(eg_unit_srv("_engram._tcp.test", &b));
    ck_assert(eg_unit_run(&b.calls, EG_UNIT_WAIT));

    eg_unit_idle(200);

    ck_assert_uint_eq(a.calls, 0);
    ck_assert_uint_eq(b.calls, 1);
}
END_TEST


START_TEST(cancelled_numeric_query_never_calls_back)
{
    eg_unit_answer_t      a;
    eg_resolver_query_t  *q;

    eg_memzero(&a, sizeof(a));

    q = eg_unit_host("127.0.0.1", 1, &a);
    ck_assert_ptr_nonnull(q);
    eg_resolve_cancel(q);

    eg_unit_idle(100);
    ck_assert_uint_eq(a.calls, 0);
}
END_TEST


START_TEST(query_cancelled_while_its_targets_resolve_never_calls_back)
{
    eg_msec_t             deadline;
    eg_unit_answer_t      a;
    eg_resolver_query_t  *q;

    eg_memzero(&a, sizeof(a));

    q = eg_unit_srv("_slow._tcp.test", &a);
    ck_assert_ptr_nonnull(q);

    /* until the SRV answer is in and its target is asked for */

    deadline = eg_current_msec + EG_UNIT_WAIT;

    while (dns.udp_queries < 2
           && (eg_msec_int_t) (deadline - eg_current_msec) > 0)
    {
        eg_unit_idle(1);
    }

    ck_assert_int_ge(dns.udp_queries, 2);
    ck_assert_uint_eq(a.calls, 0);

    eg_resolve_cancel(q);

    /* past the timeout: c-ares gives the target up, and tells only us */
    eg_unit_idle(1500);
    ck_assert_uint_eq(a.calls, 0);
}
END_TEST


START_TEST(destroying_the_resolver_calls_no_handler)
{
    eg_unit_answer_t  a, b, c;

    eg_memzero(&a, sizeof(a));
    eg_memzero(&b, sizeof(b));
    eg_memzero(&c, sizeof(c));

    dns.silent = 1;

    ck_assert_ptr_nonnull(eg_unit_srv("_engram._tcp.test", &a));
    ck_assert_ptr_nonnull(eg_unit_host("node1.test", 1, &b));
    ck_assert_ptr_nonnull(eg_unit_host("10.0.0.1", 1, &c));

    eg_unit_idle(50);

    eg_resolver_destroy(resolver);
    resolver = NULL;

    eg_unit_idle(200);

    ck_assert_uint_eq(a.calls + b.calls, 0);
    ck_assert_uint_eq(c.calls, 1);      /* it was answered already */
}
END_TEST


static eg_uint_t  destroyed;

static void
eg_unit_destroy_handler(void *data, eg_int_t rc, eg_array_t *addrs,
    eg_msec_t ttl, const char *error)
{
    eg_unit_handler(data, rc, addrs, ttl, error);

    eg_resolver_destroy(resolver);
    resolver = NULL;
    destroyed++;
}


START_TEST(handler_may_destroy_the_resolver)
{
    eg_str_t          name;
    eg_unit_answer_t  a, b;

    eg_memzero(&a, sizeof(a));
    eg_memzero(&b, sizeof(b));

    dns.silent = 1;

    /* b stays unanswered; a's handler destroys the resolver under it */
    ck_assert_ptr_nonnull(eg_unit_host("node1.test", 1, &b));

    eg_str_set(&name, "127.0.0.2");
    ck_assert_ptr_nonnull(eg_resolve_host(resolver, &name, 2,
                                          eg_unit_destroy_handler, &a));

    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));
    ck_assert_uint_eq(destroyed, 1);

    eg_unit_idle(200);
    ck_assert_uint_eq(b.calls, 0);
}
END_TEST


static eg_unit_answer_t  chained;

static void
eg_unit_chain_handler(void *data, eg_int_t rc, eg_array_t *addrs,
    eg_msec_t ttl, const char *error)
{
    eg_str_t  name;

    eg_unit_handler(data, rc, addrs, ttl, error);

    /* a new query from the handler, and a cancel of itself, a no-op */
    eg_str_set(&name, "node2.test");
    ck_assert_ptr_nonnull(eg_resolve_host(resolver, &name, 5,
                                          eg_unit_handler, &chained));
}


START_TEST(handler_may_ask_again)
{
    eg_str_t          name;
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));
    eg_memzero(&chained, sizeof(chained));

    eg_str_set(&name, "node1.test");
    ck_assert_ptr_nonnull(eg_resolve_host(resolver, &name, 1,
                                          eg_unit_chain_handler, &a));

    ck_assert(eg_unit_run(&chained.calls, EG_UNIT_WAIT));
    ck_assert_int_eq(chained.rc, EG_OK);
    eg_unit_assert_addr(&chained, 0, "127.0.0.12:5");
    ck_assert_uint_eq(a.calls, 1);
}
END_TEST


static eg_resolver_query_t  *self_query;

static void
eg_unit_self_cancel_handler(void *data, eg_int_t rc, eg_array_t *addrs,
    eg_msec_t ttl, const char *error)
{
    eg_unit_handler(data, rc, addrs, ttl, error);
    eg_resolve_cancel(self_query);
}


START_TEST(handler_may_cancel_its_own_query)
{
    eg_str_t          name;
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    eg_str_set(&name, "node3.test");
    self_query = eg_resolve_host(resolver, &name, 1,
                                 eg_unit_self_cancel_handler, &a);
    ck_assert_ptr_nonnull(self_query);

    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));

    eg_unit_idle(50);
    ck_assert_uint_eq(a.calls, 1);
}
END_TEST


START_TEST(empty_name_is_an_error_answered_later)
{
    eg_str_t          name;
    eg_unit_answer_t  a;

    eg_memzero(&a, sizeof(a));

    eg_str_set(&name, "");
    ck_assert_ptr_nonnull(eg_resolve_srv(resolver, &name, eg_unit_handler,
                                         &a));
    ck_assert_uint_eq(a.calls, 0);

    ck_assert(eg_unit_run(&a.calls, EG_UNIT_WAIT));
    ck_assert_int_eq(a.rc, EG_ERROR);
    ck_assert_str_eq(a.error, "\"\": invalid name");
}
END_TEST


START_TEST(server_given_as_ipv6_with_port_is_taken)
{
    eg_resolver_t  *r;

    r = eg_unit_resolver("[::1]:5353", 1000);
    ck_assert_ptr_nonnull(r);
    eg_resolver_destroy(r);

    r = eg_unit_resolver("127.0.0.1", 1000);
    ck_assert_ptr_nonnull(r);
    eg_resolver_destroy(r);
}
END_TEST


START_TEST(server_given_as_a_name_is_refused)
{
    eg_resolver_t  *r;

    r = eg_unit_resolver("dns.example.com:53", 1000);
    ck_assert_ptr_null(r);

    ck_assert_ptr_nonnull(strstr(eg_unit_log_text(&rlog),
                                 "[emerg] invalid resolver "
                                 "\"dns.example.com:53\": not an IP "
                                 "address"));
}
END_TEST


/* the SRV answer on its own */

static eg_pool_t  *pool;


static void
eg_unit_parse_setup(void)
{
    eg_unit_log_open(&rlog);

    pool = eg_create_pool(1024, &rlog.log);
    ck_assert_ptr_nonnull(pool);
}


static void
eg_unit_parse_teardown(void)
{
    eg_destroy_pool(pool);
    eg_unit_log_close(&rlog);
}


/* an answer to a question for name, type SRV */
static size_t
eg_unit_srv_answer(u_char *out, const char *name, const eg_unit_rr_t *rrs,
    eg_uint_t n)
{
    u_char  q[512];
    size_t  len;

    len = 0;
    q[len++] = 0x12;
    q[len++] = 0x34;
    q[len++] = 0x01;
    q[len++] = 0x00;
    eg_unit_put16(q, &len, 1);
    eg_unit_put16(q, &len, 0);
    eg_unit_put16(q, &len, 0);
    eg_unit_put16(q, &len, 0);
    eg_unit_put_name(q, &len, name);
    eg_unit_put16(q, &len, EG_UNIT_DNS_SRV);
    eg_unit_put16(q, &len, 1);

    return eg_unit_dns_message(out, q, len, 0, 0, rrs, n);
}


START_TEST(srv_answer_gives_records_and_the_smallest_ttl)
{
    u_char              buf[EG_UNIT_DNS_MAX];
    size_t              len;
    uint32_t            ttl;
    eg_array_t         *srvs;
    eg_resolver_srv_t  *s;

    static const eg_unit_rr_t  rrs[] = {
        { "_x._tcp.test", EG_UNIT_DNS_SRV, 600, "1 5 7946 a.test" },
        { "_x._tcp.test", EG_UNIT_DNS_SRV, 0x80000001, "2 0 1 ." },
        { "_x._tcp.test", EG_UNIT_DNS_SRV, 90, "3 7 8000 b.test" },
    };

    len = eg_unit_srv_answer(buf, "_x._tcp.test", rrs, eg_nelems(rrs));

    ck_assert_int_eq(eg_resolver__parse_srv(pool, buf, len, &srvs, &ttl),
                     ARES_SUCCESS);

    /* "." is left out, but its TTL (top bit set: 0) counts */
    ck_assert_uint_eq(srvs->nelts, 2);
    ck_assert_uint_eq(ttl, 0);

    s = srvs->elts;
    eg_unit_assert_str_eq(&s[0].target, "a.test");
    ck_assert_uint_eq(s[0].priority, 1);
    ck_assert_uint_eq(s[0].weight, 5);
    ck_assert_uint_eq(s[0].port, 7946);
    eg_unit_assert_str_eq(&s[1].target, "b.test");
    ck_assert_uint_eq(s[1].port, 8000);

    len = eg_unit_srv_answer(buf, "_x._tcp.test", rrs + 2, 1);
    ck_assert_int_eq(eg_resolver__parse_srv(pool, buf, len, &srvs, &ttl),
                     ARES_SUCCESS);
    ck_assert_uint_eq(ttl, 90);
}
END_TEST


START_TEST(srv_answer_cut_short_is_refused)
{
    u_char        buf[EG_UNIT_DNS_MAX];
    size_t        len, cut;
    uint32_t      ttl;
    eg_array_t   *srvs;

    static const eg_unit_rr_t  rrs[] = {
        { "_x._tcp.test", EG_UNIT_DNS_SRV, 60, "1 5 7946 a.test" },
    };

    len = eg_unit_srv_answer(buf, "_x._tcp.test", rrs, 1);

    for (cut = 0; cut < len; cut++) {
        ck_assert_int_ne(eg_resolver__parse_srv(pool, buf, cut, &srvs,
                                                &ttl),
                         ARES_SUCCESS);
    }
}
END_TEST


static uint32_t
eg_unit_srv_random(void *data)
{
    return (uint32_t) eg_unit_random(data);
}


static uint32_t
eg_unit_zero(void *data)
{
    eg_unused(data);

    return 0;
}


START_TEST(srv_order_is_by_priority_first)
{
    uint64_t           seed;
    eg_uint_t          i, round;
    eg_resolver_srv_t  s[6];

    static const uint16_t  prio[] = { 30, 10, 20, 10, 30, 0 };

    seed = 42;

    for (round = 0; round < 100; round++) {
        for (i = 0; i < eg_nelems(prio); i++) {
            eg_memzero(&s[i], sizeof(s[i]));
            s[i].priority = prio[i];
            s[i].weight = (uint16_t) (i * 7);
        }

        eg_resolver__order_srv(s, eg_nelems(s), eg_unit_srv_random, &seed);

        for (i = 1; i < eg_nelems(s); i++) {
            ck_assert_uint_le(s[i - 1].priority, s[i].priority);
        }
    }
}
END_TEST


START_TEST(srv_order_within_a_priority_follows_the_weights)
{
    uint64_t           seed;
    eg_uint_t          round, first_heavy, first_zero;
    eg_resolver_srv_t  s[3];

    seed = 7;
    first_heavy = 0;
    first_zero = 0;

    /* weights 1, 3 and 0: picked first 1/5, 3/5 and 1/5 of the time */

    for (round = 0; round < 10000; round++) {
        eg_memzero(s, sizeof(s));
        s[0].weight = 1;
        s[0].port = 1;
        s[1].weight = 3;
        s[1].port = 3;
        s[2].weight = 0;
        s[2].port = 0;

        eg_resolver__order_srv(s, 3, eg_unit_srv_random, &seed);

        first_heavy += (s[0].port == 3);
        first_zero += (s[0].port == 0);
    }

    ck_assert_uint_gt(first_heavy, 5700);
    ck_assert_uint_lt(first_heavy, 6300);
    ck_assert_uint_gt(first_zero, 1700);
    ck_assert_uint_lt(first_zero, 2300);
}
END_TEST


START_TEST(srv_order_puts_weight_zero_first_when_the_draw_is_zero)
{
    eg_resolver_srv_t  s[3];

    eg_memzero(s, sizeof(s));
    s[0].weight = 10;
    s[0].port = 10;
    s[1].weight = 0;
    s[1].port = 1;
    s[2].weight = 20;
    s[2].port = 20;

    eg_resolver__order_srv(s, 3, eg_unit_zero, NULL);

    ck_assert_uint_eq(s[0].port, 1);
    ck_assert_uint_eq(s[1].port, 10);
    ck_assert_uint_eq(s[2].port, 20);
}
END_TEST


Suite *
eg_unit_resolver_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("resolver");

    tc = tcase_create("host");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, eg_unit_setup, eg_unit_teardown);
    tcase_add_test(tc, numeric_host_is_answered_later_without_asking);
    tcase_add_test(tc, bracketed_ipv6_host_is_answered_without_asking);
    tcase_add_test(tc, host_gives_ipv4_before_ipv6_with_the_smallest_ttl);
    tcase_add_test(tc, host_with_only_ipv6_resolves);
    tcase_add_test(tc, unknown_host_is_nxdomain);
    tcase_add_test(tc, host_without_addresses_says_so);
    tcase_add_test(tc, servfail_is_reported);
    tcase_add_test(tc, refused_is_reported);
    tcase_add_test(tc, silent_server_times_out_once);
    tcase_add_test(tc, empty_name_is_an_error_answered_later);
    tcase_add_test(tc, server_given_as_ipv6_with_port_is_taken);
    tcase_add_test(tc, server_given_as_a_name_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("srv");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, eg_unit_setup, eg_unit_teardown);
    tcase_add_test(tc, srv_targets_come_by_priority_with_their_ports);
    tcase_add_test(tc, srv_ttl_is_the_smallest_of_records_and_addresses);
    tcase_add_test(tc, srv_with_only_a_dot_target_finds_nothing);
    tcase_add_test(tc, srv_of_an_unknown_name_is_nxdomain);
    tcase_add_test(tc, srv_of_a_name_without_records_says_so);
    tcase_add_test(tc, srv_target_that_does_not_resolve_is_left_out);
    tcase_add_test(tc, srv_whose_targets_all_fail_names_the_first);
    tcase_add_test(tc, srv_whose_target_never_answers_times_out);
    tcase_add_test(tc, truncated_answer_is_asked_again_over_tcp);
    suite_add_tcase(s, tc);

    tc = tcase_create("poll");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, eg_unit_setup_poll, eg_unit_teardown);
    tcase_add_test(tc, srv_targets_come_by_priority_with_their_ports);
    tcase_add_test(tc, truncated_answer_is_asked_again_over_tcp);
    tcase_add_test(tc, many_queries_at_once_all_answer);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifetime");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, eg_unit_setup, eg_unit_teardown);
    tcase_add_test(tc, many_queries_at_once_all_answer);
    tcase_add_test(tc, cancelled_query_never_calls_back);
    tcase_add_test(tc, cancelled_numeric_query_never_calls_back);
    tcase_add_test(tc,
        query_cancelled_while_its_targets_resolve_never_calls_back);
    tcase_add_test(tc, destroying_the_resolver_calls_no_handler);
    tcase_add_test(tc, handler_may_destroy_the_resolver);
    tcase_add_test(tc, handler_may_ask_again);
    tcase_add_test(tc, handler_may_cancel_its_own_query);
    suite_add_tcase(s, tc);

    tc = tcase_create("srv_answer");
    tcase_add_checked_fixture(tc, eg_unit_parse_setup,
                              eg_unit_parse_teardown);
    tcase_add_test(tc, srv_answer_gives_records_and_the_smallest_ttl);
    tcase_add_test(tc, srv_answer_cut_short_is_refused);
    tcase_add_test(tc, srv_order_is_by_priority_first);
    tcase_add_test(tc, srv_order_within_a_priority_follows_the_weights);
    tcase_add_test(tc, srv_order_puts_weight_zero_first_when_the_draw_is_zero);
    suite_add_tcase(s, tc);

    return s;
}
