/*
 * c-ares in the cluster process's event loop.
 *
 * c-ares opens and closes its sockets itself and tells us through the
 * socket state callback which of them it wants to read or write; each
 * becomes a connection of ours (eg_get_connection(), not closed by us:
 * c-ares closes it) whose read and write events call ares_process_fd().
 * Its retransmissions and timeouts run from one timer of ours, kept on
 * ares_timeout(), and it learns of nothing by blocking: every call into
 * it returns at once.
 *
 * A query (eg_resolver_query_t) has a pool of its own and one event:
 * first its deadline, the "timeout" given to eg_resolver_create() for the
 * whole of it; then, once the answer is known, a timer of 0 ms that hands
 * the answer to the caller's handler from the event loop.  So a handler
 * never runs inside eg_resolve_*() (a numeric address answers at once,
 * but still later) nor inside c-ares (whose callbacks do not expect to
 * see the channel destroyed under them), and always once unless the
 * query is cancelled.
 *
 * c-ares cannot forget one query: a cancelled query, or one that missed
 * its deadline, stays allocated until c-ares has called back for every
 * lookup it started (with an answer, a timeout, or ARES_EDESTRUCTION when
 * the resolver goes), and those late callbacks see "finished" and only
 * count down.
 *
 * SRV: the SRV records (ares_search; the answer parsed and the records
 * put in RFC 2782 order by eg_resolver_srv.c), then every target resolved
 * at once (ares_getaddrinfo); the addresses come in the records' order
 * with the records' ports, and the TTL is the smallest of the SRV records
 * and of the addresses used.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_gossip.h>
#include <eg_resolver.h>
#include <eg_resolver_int.h>

#include <ares.h>
#include <sys/ioctl.h>


#define EG_RESOLVER_TIMEOUT      5000      /* ms, when none is given */
#define EG_RESOLVER_TRIES        2         /* c-ares tries per server */
#define EG_RESOLVER_POOL_SIZE    2048
/* ares_process_fd() rounds for one edge-triggered read event */
#define EG_RESOLVER_READ_ROUNDS  32


typedef struct eg_resolver_sock_s  eg_resolver_sock_t;


struct eg_resolver_s {
    ares_channel             channel;
    eg_log_t                *log;
    eg_pool_t               *pool;       /* the resolver's own */
    eg_msec_t                timeout;    /* of a whole query */

    eg_event_t               timer;      /* c-ares's next timeout */
    eg_queue_t               queries;    /* not yet freed */
    eg_queue_t               socks;      /* c-ares's sockets */

    uint64_t                 rng;        /* xorshift64*, SRV weights */

    unsigned                 checkresp:1;  /* c-ares retries SERVFAIL */
    unsigned                 destroying:1;
};


/* a socket of c-ares's, as a connection of the event loop */
struct eg_resolver_sock_s {
    eg_queue_t               queue;      /* in r->socks */
    eg_resolver_t           *resolver;
    ares_socket_t            fd;
    eg_connection_t         *connection;
};


/* one name to resolve to addresses: the host, or an SRV target */
typedef struct {
    eg_resolver_query_t     *query;
    eg_resolver_srv_t       *srv;        /* the record; NULL for a host */
    char                    *name;       /* as asked, NUL-terminated */
    uint16_t                 port;       /* set on each address */
    int                      status;     /* ARES_SUCCESS, or why not */
    eg_array_t              *addrs;      /* eg_swim_addr_t */
    uint32_t                 ttl;        /* s; UINT32_MAX: none seen */
} eg_resolver_lookup_t;


struct eg_resolver_query_s {
    eg_resolver_t           *resolver;   /* NULL once it is destroyed */
    eg_pool_t               *pool;
    eg_queue_t               queue;      /* in r->queries */

    /* the deadline, then the answer's delivery */
    eg_event_t               event;

    eg_resolver_handler_pt   handler;
    void                    *data;

    eg_str_t                 name;       /* NUL-terminated */
    eg_uint_t                pending;    /* c-ares callbacks to come */

    eg_resolver_lookup_t    *lookups;
    eg_uint_t                nlookups;
    uint32_t                 srv_ttl;    /* s, of the SRV records */

    /* the answer, once "answered" */
    eg_int_t                 rc;
    eg_array_t              *addrs;
    eg_msec_t                ttl;
    char                    *error;

    unsigned                 srv:1;
    unsigned                 answered:1;   /* the fields above are set */
    unsigned                 delivering:1; /* the handler runs */
    unsigned                 finished:1;   /* no handler call to come */
};


static eg_resolver_query_t *eg_resolver_query_new(eg_resolver_t *r,
    eg_str_t *name, eg_resolver_handler_pt handler, void *data);
static void eg_resolver_query_release(eg_resolver_query_t *q);
static void eg_resolver_lookup_start(eg_resolver_lookup_t *l);
static void eg_resolver_host_done(void *arg, int status, int timeouts,
    struct ares_addrinfo *res);
static void eg_resolver_srv_done(void *arg, int status, int timeouts,
    unsigned char *abuf, int alen);
static void eg_resolver_lookup_addrs(eg_resolver_lookup_t *l,
    struct ares_addrinfo *res);
static void eg_resolver_answer(eg_resolver_query_t *q);
static void eg_resolver_fail(eg_resolver_query_t *q, const char *name,
    int status);
static void eg_resolver_post(eg_resolver_query_t *q);
static void eg_resolver_deadline(eg_event_t *ev);
static void eg_resolver_deliver(eg_event_t *ev);
static const char *eg_resolver_status_text(eg_resolver_t *r, int status,
    eg_uint_t srv);
static eg_int_t eg_resolver_push_addr(eg_array_t *addrs,
    eg_swim_addr_t *a);
static char *eg_resolver_servers_csv(eg_resolver_t *r,
    eg_array_t *servers);
static void eg_resolver_sock_state(void *data, ares_socket_t fd,
    int readable, int writable);
static eg_resolver_sock_t *eg_resolver_sock_find(eg_resolver_t *r,
    ares_socket_t fd);
static eg_resolver_sock_t *eg_resolver_sock_new(eg_resolver_t *r,
    ares_socket_t fd);
static void eg_resolver_sock_free(eg_resolver_sock_t *s);
static eg_int_t eg_resolver_want(eg_event_t *ev, eg_int_t event,
    int want);
static void eg_resolver_read(eg_event_t *rev);
static void eg_resolver_write(eg_event_t *wev);
static void eg_resolver_timer(eg_event_t *ev);
static void eg_resolver_rearm(eg_resolver_t *r);
static uint32_t eg_resolver_random(void *data);


eg_resolver_t *
eg_resolver_create(eg_array_t *servers, eg_msec_t timeout, eg_log_t *log)
{
    int                  rc, mask;
    char                *csv;
    eg_pool_t           *pool;
    eg_resolver_t       *r;
    struct ares_options  opts;

    pool = eg_create_pool(EG_RESOLVER_POOL_SIZE, log);
    if (pool == NULL) {
        return NULL;
    }

    r = eg_pcalloc(pool, sizeof(eg_resolver_t));
    if (r == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    r->pool = pool;
    r->log = log;
    r->timeout = timeout ? timeout : EG_RESOLVER_TIMEOUT;

    eg_queue_init(&r->queries);
    eg_queue_init(&r->socks);

    r->timer.handler = eg_resolver_timer;
    r->timer.data = r;
    r->timer.log = log;
    r->timer.cancelable = 1;

    /* the order of SRV records of equal priority: unpredictable enough */
    if (eg_random_bytes((u_char *) &r->rng, sizeof(r->rng)) != EG_OK
        || r->rng == 0)
    {
        r->rng = (uint64_t) eg_current_msec * 2654435761u + (uint64_t) getpid()
                 + 1;
    }

    csv = NULL;

    if (servers != NULL && servers->nelts > 0) {
        csv = eg_resolver_servers_csv(r, servers);
        if (csv == NULL) {
            eg_destroy_pool(pool);
            return NULL;
        }
    }

    rc = ares_library_init(ARES_LIB_INIT_ALL);

    if (rc != ARES_SUCCESS) {
        eg_log_error(EG_LOG_ALERT, log, 0, "ares_library_init() failed: %s",
                     ares_strerror(rc));
        eg_destroy_pool(pool);
        return NULL;
    }

    eg_memzero(&opts, sizeof(struct ares_options));

    opts.sock_state_cb = eg_resolver_sock_state;
    opts.sock_state_cb_data = r;

    /*
     * c-ares doubles the wait for each round over the servers: with two
     * tries of a third each, a single server gets the whole timeout.
     */
    opts.timeout = (int) eg_max(r->timeout / 3, 50);
    opts.tries = EG_RESOLVER_TRIES;

    mask = ARES_OPT_SOCK_STATE_CB|ARES_OPT_TIMEOUTMS|ARES_OPT_TRIES;

    /*
     * c-ares asks the next server after a SERVFAIL or REFUSED, and 1.18
     * then reports "connection refused" whatever it was.  With a single
     * server there is no next one: the answer goes through as it is,
     * and says what the server said.
     */

    if (servers != NULL && servers->nelts == 1) {
        opts.flags = ARES_FLAG_NOCHECKRESP;
        mask |= ARES_OPT_FLAGS;

    } else {
        r->checkresp = 1;
    }

    rc = ares_init_options(&r->channel, &opts, mask);

    if (rc != ARES_SUCCESS) {
        eg_log_error(EG_LOG_ALERT, log, 0, "ares_init_options() failed: %s",
                     ares_strerror(rc));
        goto failed;
    }

    if (csv != NULL) {
        rc = ares_set_servers_ports_csv(r->channel, csv);

        if (rc != ARES_SUCCESS) {
            eg_log_error(EG_LOG_ALERT, log, 0,
                         "ares_set_servers_ports_csv(\"%s\") failed: %s",
                         csv, ares_strerror(rc));
            r->destroying = 1;
            ares_destroy(r->channel);
            goto failed;
        }
    }

    return r;

failed:

    ares_library_cleanup();
    eg_destroy_pool(pool);

    return NULL;
}


/*
 * "addr[:port]" to c-ares's "addr:port,[addr6]:port": the addresses are
 * checked here, so that a bad one is named and not half taken.
 */
static char *
eg_resolver_servers_csv(eg_resolver_t *r, eg_array_t *servers)
{
    u_char     *csv, *p, *last;
    char        text[EG_INET6_ADDRSTRLEN + 1];
    size_t      size;
    eg_url_t    u;
    eg_uint_t   i;
    eg_str_t   *s;
    const void *addr;

    s = servers->elts;
    size = servers->nelts * (sizeof("[]:65535,") + EG_INET6_ADDRSTRLEN) + 1;

    csv = eg_pnalloc(r->pool, size);
    if (csv == NULL) {
        return NULL;
    }

    p = csv;
    last = csv + size;
    *p = '\0';

    for (i = 0; i < servers->nelts; i++) {

        if (eg_parse_url(NULL, &u, &s[i], 53, EG_URL_PORT_OPTIONAL) != EG_OK
            || !u.literal || u.wildcard)
        {
            eg_log_error(EG_LOG_EMERG, r->log, 0,
                         "invalid resolver \"" EG_STR_FMT "\": %s",
                         EG_STR_ARG(s[i]),
                         u.err ? u.err : "not an IP address");
            return NULL;
        }

        if (u.addr.sa.sockaddr.sa_family == AF_INET6) {
            addr = &u.addr.sa.sockaddr_in6.sin6_addr;

        } else {
            addr = &u.addr.sa.sockaddr_in.sin_addr;
        }

        if (inet_ntop(u.addr.sa.sockaddr.sa_family, addr, text,
                      sizeof(text))
            == NULL)
        {
            return NULL;
        }

        p = eg_slprintf(p, last,
                        u.addr.sa.sockaddr.sa_family == AF_INET6
                        ? "%s[%s]:%u" : "%s%s:%u",
                        i ? "," : "", text, (unsigned) u.port);
    }

    return (char *) csv;
}


/*
 * Every query still allocated goes, without a handler call: the owners
 * of queries under way cancel them first (a reload, an exit), or hold
 * no pointer to them after this.
 */
void
eg_resolver_destroy(eg_resolver_t *r)
{
    eg_queue_t           *h;
    eg_resolver_query_t  *q;

    if (r == NULL) {
        return;
    }

    /* every lookup calls back now, with ARES_EDESTRUCTION: counted only */

    r->destroying = 1;
    ares_destroy(r->channel);

    while (!eg_queue_empty(&r->socks)) {
        h = eg_queue_head(&r->socks);
        eg_resolver_sock_free(eg_queue_data(h, eg_resolver_sock_t, queue));
    }

    if (r->timer.timer_set) {
        eg_event_del_timer(&r->timer);
    }

    while (!eg_queue_empty(&r->queries)) {
        h = eg_queue_head(&r->queries);
        q = eg_queue_data(h, eg_resolver_query_t, queue);

        eg_queue_remove(&q->queue);

        if (q->event.timer_set) {
            eg_event_del_timer(&q->event);
        }

        q->resolver = NULL;
        q->pending = 0;
        q->finished = 1;

        if (q->delivering) {
            /* destroyed from its handler: freed when the handler returns */
            continue;
        }

        eg_destroy_pool(q->pool);
    }

    ares_library_cleanup();

    eg_destroy_pool(r->pool);
}


eg_resolver_query_t *
eg_resolve_host(eg_resolver_t *r, eg_str_t *name, uint16_t port,
    eg_resolver_handler_pt handler, void *data)
{
    eg_str_t               host;
    socklen_t              socklen;
    eg_sockaddr_t          sa;
    eg_swim_addr_t        *a;
    eg_resolver_query_t   *q;
    eg_resolver_lookup_t  *l;

    q = eg_resolver_query_new(r, name, handler, data);
    if (q == NULL) {
        return NULL;
    }

    if (q->answered) {
        /* a name no one could answer for */
        return q;
    }

    l = eg_pcalloc(q->pool, sizeof(eg_resolver_lookup_t));
    if (l == NULL) {
        goto failed;
    }

    l->query = q;
    l->name = (char *) q->name.data;
    l->port = port;
    l->ttl = UINT32_MAX;
    l->status = ARES_ENOTFOUND;

    q->lookups = l;
    q->nlookups = 1;

    /* an address, bare or in brackets: no one to ask */

    host = q->name;

    if (host.len > 2 && host.data[0] == '[' && host.data[host.len - 1] == ']')
    {
        host.data++;
        host.len -= 2;
    }

    if (eg_parse_addr(&host, &sa, &socklen) == EG_OK) {

        l->addrs = eg_array_create(q->pool, 1, sizeof(eg_swim_addr_t));
        if (l->addrs == NULL) {
            goto failed;
        }

        a = eg_array_push(l->addrs);

        if (eg_gossip_swim_addr(&sa.sockaddr, a) != EG_OK) {
            goto failed;
        }

        a->port = port;
        l->status = ARES_SUCCESS;

        eg_resolver_answer(q);

        return q;
    }

    eg_resolver_lookup_start(l);

    if (!q->answered) {
        eg_event_add_timer(&q->event, r->timeout);
    }

    eg_resolver_rearm(r);

    return q;

failed:

    eg_queue_remove(&q->queue);
    eg_destroy_pool(q->pool);

    return NULL;
}


eg_resolver_query_t *
eg_resolve_srv(eg_resolver_t *r, eg_str_t *name,
    eg_resolver_handler_pt handler, void *data)
{
    eg_resolver_query_t  *q;

    q = eg_resolver_query_new(r, name, handler, data);
    if (q == NULL) {
        return NULL;
    }

    q->srv = 1;

    if (q->answered) {
        return q;
    }

    /* ares_search: the search domains of resolv.conf apply, as for a stub */

    q->pending++;
    ares_search(r->channel, (char *) q->name.data, EG_DNS_C_IN, EG_DNS_T_SRV,
                eg_resolver_srv_done, q);

    if (!q->answered) {
        eg_event_add_timer(&q->event, r->timeout);
    }

    eg_resolver_rearm(r);

    return q;
}


void
eg_resolve_cancel(eg_resolver_query_t *q)
{
    if (q == NULL || q->finished || q->delivering) {
        /* answered already, or from its own handler: freed on return */
        return;
    }

    q->finished = 1;

    if (q->event.timer_set) {
        eg_event_del_timer(&q->event);
    }

    eg_resolver_query_release(q);
}


static eg_resolver_query_t *
eg_resolver_query_new(eg_resolver_t *r, eg_str_t *name,
    eg_resolver_handler_pt handler, void *data)
{
    eg_pool_t            *pool;
    eg_resolver_query_t  *q;

    if (r == NULL || r->destroying || name == NULL) {
        return NULL;
    }

    pool = eg_create_pool(EG_RESOLVER_POOL_SIZE, r->log);
    if (pool == NULL) {
        return NULL;
    }

    q = eg_pcalloc(pool, sizeof(eg_resolver_query_t));
    if (q == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    q->name.len = name->len;
    q->name.data = eg_pstrdup(pool, name);

    if (q->name.data == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    q->resolver = r;
    q->pool = pool;
    q->handler = handler;
    q->data = data;

    q->event.handler = eg_resolver_deadline;
    q->event.data = q;
    q->event.log = r->log;
    q->event.cancelable = 1;

    eg_queue_insert_tail(&r->queries, &q->queue);

    if (name->len == 0 || eg_strlchr(name->data, name->data + name->len, '\0'))
    {
        eg_resolver_fail(q, (char *) q->name.data, ARES_EBADNAME);
    }

    return q;
}


/* frees a query nothing will use any more: not c-ares, not the caller */
static void
eg_resolver_query_release(eg_resolver_query_t *q)
{
    if (!q->finished || q->pending > 0 || q->delivering) {
        return;
    }

    if (q->resolver != NULL) {
        eg_queue_remove(&q->queue);
    }

    eg_destroy_pool(q->pool);
}


static void
eg_resolver_lookup_start(eg_resolver_lookup_t *l)
{
    eg_resolver_query_t         *q;
    struct ares_addrinfo_hints   hints;

    q = l->query;

    eg_memzero(&hints, sizeof(struct ares_addrinfo_hints));

    /* both families; the order is ours (IPv4 first), not RFC 6724's */
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = ARES_AI_NOSORT;

    q->pending++;

    ares_getaddrinfo(q->resolver->channel, l->name, NULL, &hints,
                     eg_resolver_host_done, l);
}


/* c-ares's answer for a host: it may come from inside ares_getaddrinfo() */
static void
eg_resolver_host_done(void *arg, int status, int timeouts,
    struct ares_addrinfo *res)
{
    eg_resolver_lookup_t  *l = arg;

    eg_resolver_query_t  *q;

    eg_unused(timeouts);

    q = l->query;
    q->pending--;

    l->status = status;

    if (status == ARES_SUCCESS && res != NULL && !q->finished
        && !q->answered && !q->resolver->destroying)
    {
        eg_resolver_lookup_addrs(l, res);
    }

    if (res != NULL) {
        ares_freeaddrinfo(res);
    }

    if (q->resolver->destroying) {
        /* eg_resolver_destroy() frees the query */
        return;
    }

    if (q->finished || q->answered) {
        /* cancelled, or past its deadline: only counted */
        eg_resolver_query_release(q);
        return;
    }

    if (q->pending == 0) {
        eg_resolver_answer(q);
    }
}


/* the addresses of an answer, IPv4 first, each with the lookup's port */
static void
eg_resolver_lookup_addrs(eg_resolver_lookup_t *l, struct ares_addrinfo *res)
{
    int                          family, pass;
    eg_swim_addr_t               a;
    struct ares_addrinfo_node   *n;
    struct ares_addrinfo_cname  *cn;

    l->addrs = eg_array_create(l->query->pool, 4, sizeof(eg_swim_addr_t));

    if (l->addrs == NULL) {
        l->status = ARES_ENOMEM;
        return;
    }

    for (pass = 0; pass < 2; pass++) {
        family = (pass == 0) ? AF_INET : AF_INET6;

        for (n = res->nodes; n; n = n->ai_next) {

            if (n->ai_family != family || n->ai_addr == NULL
                || eg_gossip_swim_addr(n->ai_addr, &a) != EG_OK)
            {
                continue;
            }

            a.port = l->port;

            switch (eg_resolver_push_addr(l->addrs, &a)) {

            case EG_OK:
                break;

            case EG_DECLINED:
                continue;

            default:
                l->status = ARES_ENOMEM;
                return;
            }

            /* a TTL with the top bit set is 0, RFC 2181 8 */
            l->ttl = eg_min(l->ttl, n->ai_ttl > 0 ? (uint32_t) n->ai_ttl
                                                  : 0);
        }
    }

    /* an alias that expires takes its addresses with it */

    for (cn = res->cnames; cn; cn = cn->next) {
        l->ttl = eg_min(l->ttl, cn->ttl > 0 ? (uint32_t) cn->ttl : 0);
    }

    if (l->addrs->nelts == 0) {
        l->status = ARES_ENODATA;
    }
}


/* c-ares's answer for the SRV records */
static void
eg_resolver_srv_done(void *arg, int status, int timeouts,
    unsigned char *abuf, int alen)
{
    eg_resolver_query_t  *q = arg;

    int                    rc;
    size_t                 len;
    uint32_t               ttl;
    eg_uint_t              i, n;
    eg_str_t               target;
    eg_array_t            *srvs;
    eg_resolver_srv_t     *srv;
    eg_resolver_lookup_t  *l;

    eg_unused(timeouts);

    q->pending--;

    if (q->resolver->destroying) {
        return;
    }

    if (q->finished || q->answered) {
        eg_resolver_query_release(q);
        return;
    }

    if (status != ARES_SUCCESS) {
        eg_resolver_fail(q, (char *) q->name.data, status);
        return;
    }

    rc = eg_resolver__parse_srv(q->pool, abuf, alen > 0 ? (size_t) alen : 0,
                                &srvs, &ttl);

    if (rc != ARES_SUCCESS) {
        eg_resolver_fail(q, (char *) q->name.data, rc);
        return;
    }

    q->srv_ttl = ttl;

    srv = srvs->elts;
    n = eg_min(srvs->nelts, EG_RESOLVER_SRV_MAX);

    eg_resolver__order_srv(srv, srvs->nelts, eg_resolver_random, q->resolver);

    if (n == 0) {
        /* no target, or only ".": the service is decidedly not there */
        eg_resolver_answer(q);
        return;
    }

    q->lookups = eg_pcalloc(q->pool, n * sizeof(eg_resolver_lookup_t));
    if (q->lookups == NULL) {
        eg_resolver_fail(q, (char *) q->name.data, ARES_ENOMEM);
        return;
    }

    q->nlookups = n;

    for (i = 0; i < n; i++) {
        l = &q->lookups[i];

        l->query = q;
        l->srv = &srv[i];
        l->port = srv[i].port;
        l->ttl = UINT32_MAX;
        l->status = ARES_ENOTFOUND;

        /*
         * A target is a name in full: with the root's dot, c-ares does
         * not try it under the search domains first.
         */

        target = srv[i].target;
        len = target.len;

        l->name = eg_pnalloc(q->pool, len + 2);
        if (l->name == NULL) {
            eg_resolver_fail(q, (char *) q->name.data, ARES_ENOMEM);
            return;
        }

        eg_memcpy(l->name, target.data, len);

        if (len == 0 || target.data[len - 1] != '.') {
            l->name[len++] = '.';
        }

        l->name[len] = '\0';
    }

    /* held: a lookup answered at once must not end the query early */

    q->pending++;

    for (i = 0; i < n && !q->answered; i++) {
        eg_resolver_lookup_start(&q->lookups[i]);
    }

    q->pending--;

    if (q->pending == 0 && !q->answered) {
        eg_resolver_answer(q);
    }
}


/* every lookup is done: the addresses in order, or the first failure */
static void
eg_resolver_answer(eg_resolver_query_t *q)
{
    uint32_t               ttl;
    eg_uint_t              i, j;
    eg_swim_addr_t        *a;
    eg_resolver_lookup_t  *l, *failed;

    q->addrs = eg_array_create(q->pool, 4, sizeof(eg_swim_addr_t));
    if (q->addrs == NULL) {
        eg_resolver_fail(q, (char *) q->name.data, ARES_ENOMEM);
        return;
    }

    ttl = q->srv ? q->srv_ttl : UINT32_MAX;
    failed = NULL;

    for (i = 0; i < q->nlookups; i++) {
        l = &q->lookups[i];

        if (l->status != ARES_SUCCESS || l->addrs == NULL) {
            if (failed == NULL) {
                failed = l;
            }

            if (q->srv) {
                eg_log_error(EG_LOG_INFO, q->resolver->log, 0,
                             "SRV target \"" EG_STR_FMT "\" of \"%s\": %s",
                             EG_STR_ARG(l->srv->target), q->name.data,
                             eg_resolver_status_text(q->resolver,
                                                     l->status, 0));
            }

            continue;
        }

        a = l->addrs->elts;

        for (j = 0; j < l->addrs->nelts; j++) {
            if (eg_resolver_push_addr(q->addrs, &a[j]) == EG_ERROR) {
                eg_resolver_fail(q, (char *) q->name.data, ARES_ENOMEM);
                return;
            }
        }

        ttl = eg_min(ttl, l->ttl);
    }

    if (q->addrs->nelts == 0 && failed != NULL) {
        eg_resolver_fail(q, q->srv ? (char *) failed->srv->target.data
                                   : (char *) q->name.data,
                         failed->status);
        return;
    }

    q->rc = EG_OK;
    q->ttl = (ttl == UINT32_MAX) ? 0 : (eg_msec_t) ttl * 1000;

    eg_resolver_post(q);
}


/* the answer is an error: "name: what" */
static void
eg_resolver_fail(eg_resolver_query_t *q, const char *name, int status)
{
    size_t       len;
    const char  *text;

    text = eg_resolver_status_text(q->resolver, status,
                                   q->srv && name == (char *) q->name.data);

    if (name[0] == '\0') {
        name = "\"\"";
    }

    len = strlen(name) + sizeof(": ") + strlen(text);

    q->error = eg_pnalloc(q->pool, len);

    if (q->error != NULL) {
        (void) eg_slprintf((u_char *) q->error, (u_char *) q->error + len,
                           "%s: %s", name, text);

    } else {
        /* a static text, then: the caller must have some */
        q->error = (char *) "out of memory";
    }

    q->rc = EG_ERROR;
    q->addrs = NULL;
    q->ttl = 0;

    eg_resolver_post(q);
}


/* the answer is known: it goes to the handler from the event loop */
static void
eg_resolver_post(eg_resolver_query_t *q)
{
    q->answered = 1;

    if (q->event.timer_set) {
        eg_event_del_timer(&q->event);
    }

    q->event.handler = eg_resolver_deliver;

    eg_event_add_timer(&q->event, 0);
}


static void
eg_resolver_deadline(eg_event_t *ev)
{
    eg_resolver_query_t  *q = ev->data;

    /* what c-ares still does for it is counted down when it calls back */

    eg_resolver_fail(q, (char *) q->name.data, ARES_ETIMEOUT);
}


static void
eg_resolver_deliver(eg_event_t *ev)
{
    eg_resolver_query_t  *q = ev->data;

    if (q->finished) {
        return;
    }

    q->delivering = 1;

    q->handler(q->data, q->rc, q->addrs, q->ttl, q->error);

    q->delivering = 0;
    q->finished = 1;

    eg_resolver_query_release(q);
}


static const char *
eg_resolver_status_text(eg_resolver_t *r, int status, eg_uint_t srv)
{
    switch (status) {

    case ARES_ENOTFOUND:
        return "NXDOMAIN";

    case ARES_ENODATA:
        return srv ? "no SRV records" : "no A or AAAA records";

    case ARES_ESERVFAIL:
        return "SERVFAIL";

    case ARES_EREFUSED:
        return "REFUSED";

    case ARES_EFORMERR:
        return "FORMERR";

    case ARES_ENOTIMP:
        return "NOTIMP";

    case ARES_ETIMEOUT:
        return "timed out";

    case ARES_ECONNREFUSED:
        /* c-ares 1.18 says so too of a SERVFAIL or REFUSED it retried */
        return r->checkresp ? "connection refused, REFUSED or SERVFAIL"
                            : "connection refused";

    case ARES_EBADRESP:
        return "bad answer";

    case ARES_EBADNAME:
        return "invalid name";

    default:
        return ares_strerror(status);
    }
}


/* appends a unless it is there already (EG_DECLINED) */
static eg_int_t
eg_resolver_push_addr(eg_array_t *addrs, eg_swim_addr_t *a)
{
    eg_uint_t        i;
    eg_swim_addr_t  *p;

    p = addrs->elts;

    for (i = 0; i < addrs->nelts; i++) {
        if (p[i].family == a->family && p[i].port == a->port
            && eg_memcmp(p[i].ip, a->ip, a->family == 4 ? 4 : 16) == 0)
        {
            return EG_DECLINED;
        }
    }

    p = eg_array_push(addrs);
    if (p == NULL) {
        return EG_ERROR;
    }

    *p = *a;

    return EG_OK;
}


static uint32_t
eg_resolver_random(void *data)
{
    eg_resolver_t  *r = data;

    /* xorshift64* */

    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;

    return (uint32_t) ((r->rng * 2685821657736338717ULL) >> 32);
}


/*
 * c-ares opened a socket, wants other events of it, or is about to close
 * it (neither readable nor writable).  Called from inside c-ares.
 */
static void
eg_resolver_sock_state(void *data, ares_socket_t fd, int readable,
    int writable)
{
    eg_resolver_t  *r = data;

    eg_connection_t     *c;
    eg_resolver_sock_t  *s;

    s = eg_resolver_sock_find(r, fd);

    if (!readable && !writable) {
        if (s != NULL) {
            eg_resolver_sock_free(s);
        }

        return;
    }

    if (s == NULL) {
        s = eg_resolver_sock_new(r, fd);

        if (s == NULL) {
            /* logged; its queries time out, as if the network lost them */
            return;
        }
    }

    c = s->connection;

    (void) eg_resolver_want(c->read, EG_READ_EVENT, readable);
    (void) eg_resolver_want(c->write, EG_WRITE_EVENT, writable);
}


static eg_resolver_sock_t *
eg_resolver_sock_find(eg_resolver_t *r, ares_socket_t fd)
{
    eg_queue_t          *h;
    eg_resolver_sock_t  *s;

    for (h = eg_queue_head(&r->socks); h != eg_queue_sentinel(&r->socks);
         h = eg_queue_next(h))
    {
        s = eg_queue_data(h, eg_resolver_sock_t, queue);

        if (s->fd == fd) {
            return s;
        }
    }

    return NULL;
}


static eg_resolver_sock_t *
eg_resolver_sock_new(eg_resolver_t *r, ares_socket_t fd)
{
    eg_connection_t     *c;
    eg_resolver_sock_t  *s;

    s = eg_calloc(sizeof(eg_resolver_sock_t), r->log);
    if (s == NULL) {
        return NULL;
    }

    c = eg_get_connection(fd, r->log);

    if (c == NULL) {
        eg_log_error(EG_LOG_ALERT, r->log, 0,
                     "no connection left for resolver socket %d", fd);
        eg_free(s);
        return NULL;
    }

    /* hooks run by fork() and exec() have no business with it */
    (void) eg_cloexec(fd);

    c->data = s;
    c->log = r->log;
    c->read->log = r->log;
    c->write->log = r->log;
    c->read->handler = eg_resolver_read;
    c->write->handler = eg_resolver_write;

    s->resolver = r;
    s->fd = fd;
    s->connection = c;

    eg_queue_insert_tail(&r->socks, &s->queue);

    return s;
}


/* c-ares closes the descriptor itself, just after */
static void
eg_resolver_sock_free(eg_resolver_sock_t *s)
{
    eg_connection_t  *c;

    c = s->connection;

    if (c->read->posted) {
        eg_delete_posted_event(c->read);
    }

    if (c->read->active) {
        (void) eg_del_event(c->read, EG_READ_EVENT, 0);
    }

    if (c->write->active) {
        (void) eg_del_event(c->write, EG_WRITE_EVENT, 0);
    }

    c->read->closed = 1;
    c->write->closed = 1;
    c->fd = -1;

    eg_free_connection(c);

    eg_queue_remove(&s->queue);
    eg_free(s);
}


/*
 * c-ares says what it wants of a socket, not what changed: the event is
 * registered or removed to match.  Edge-triggered where the module is
 * (the read handler then drains what c-ares would leave), level-triggered
 * otherwise.
 */
static eg_int_t
eg_resolver_want(eg_event_t *ev, eg_int_t event, int want)
{
    eg_uint_t  flags;

    if (want && !ev->active) {
        flags = (eg_event_flags & EG_USE_CLEAR_EVENT) ? EG_CLEAR_EVENT
                                                      : EG_LEVEL_EVENT;
        return eg_add_event(ev, event, flags);
    }

    if (!want && ev->active) {
        return eg_del_event(ev, event, 0);
    }

    return EG_OK;
}


static void
eg_resolver_read(eg_event_t *rev)
{
    int                  fd, avail;
    eg_uint_t            i, eof;
    eg_resolver_t       *r;
    eg_connection_t     *c;
    eg_resolver_sock_t  *s;

    c = rev->data;
    s = c->data;
    r = s->resolver;
    fd = c->fd;
    eof = 0;

    for (i = 0; i < EG_RESOLVER_READ_ROUNDS; i++) {

        ares_process_fd(r->channel, fd, ARES_SOCKET_BAD);

        if (!(eg_event_flags & EG_USE_CLEAR_EVENT)) {
            break;
        }

        /*
         * No new edge comes for what is already there, and c-ares reads
         * one TCP message per call: go on while data (or the end of the
         * stream, once) waits on a socket c-ares still reads.  It may
         * have closed the socket meanwhile: ask by its descriptor.
         */

        s = eg_resolver_sock_find(r, fd);

        if (s == NULL || !s->connection->read->active) {
            break;
        }

        if (ioctl(fd, FIONREAD, &avail) == -1) {
            break;
        }

        if (avail > 0) {
            continue;
        }

        if (s->connection->read->pending_eof && !eof) {
            eof = 1;
            continue;
        }

        break;
    }

    if (i == EG_RESOLVER_READ_ROUNDS) {
        /* more yet: after the other events, rather than never */
        eg_post_event(s->connection->read, &eg_posted_events);
    }

    eg_resolver_rearm(r);
}


static void
eg_resolver_write(eg_event_t *wev)
{
    eg_resolver_t       *r;
    eg_connection_t     *c;
    eg_resolver_sock_t  *s;

    c = wev->data;
    s = c->data;
    r = s->resolver;

    ares_process_fd(r->channel, ARES_SOCKET_BAD, c->fd);

    eg_resolver_rearm(r);
}


static void
eg_resolver_timer(eg_event_t *ev)
{
    eg_resolver_t  *r = ev->data;

    ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);

    eg_resolver_rearm(r);
}


/* keeps the timer on c-ares's next timeout, exactly: no lazy re-arm */
static void
eg_resolver_rearm(eg_resolver_t *r)
{
    eg_msec_t        ms;
    struct timeval   tv, *tvp;

    tvp = ares_timeout(r->channel, NULL, &tv);

    if (tvp == NULL) {
        if (r->timer.timer_set) {
            eg_event_del_timer(&r->timer);
        }

        return;
    }

    /* rounded up: a timer that fires early finds nothing to do */

    ms = (eg_msec_t) tvp->tv_sec * 1000 + (eg_msec_t) (tvp->tv_usec + 999)
                                          / 1000;

    if (r->timer.timer_set) {
        if (r->timer.timer.key == (eg_rbtree_key_t) (eg_current_msec + ms)) {
            return;
        }

        eg_event_del_timer(&r->timer);
    }

    eg_event_add_timer(&r->timer, ms);
}
