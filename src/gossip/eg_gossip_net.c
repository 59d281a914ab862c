/*
 * The gossip core's network in the daemon: datagrams on the UDP socket,
 * and streams (join, push-pull) on TCP, one message each way, each framed
 * by a 4-byte length in network order:
 *
 *     initiator                        responder
 *     connect ------------------------> accept
 *     [len][request] -----------------> eg_swim_stream_request()
 *     eg_swim_stream_response() <----- [len][answer]
 *     close                            close
 *
 * Everything is non-blocking in the cluster process's event loop, and
 * every stream has a deadline: a peer that stalls costs a timeout, never
 * the loop.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_gossip.h>


#define EG_GOSSIP_STREAM_TIMEOUT  10000     /* ms, a whole exchange */
#define EG_GOSSIP_RECV_BATCH      64        /* datagrams per read event */


typedef struct {
    eg_gossip_t         *gossip;
    eg_connection_t     *connection;
    uint32_t             tag;           /* ours; 0 for an incoming one */
    eg_uint_t            incoming;

    u_char              *out;           /* [len][message] to write */
    size_t               out_len;
    size_t               out_sent;

    u_char               head[4];       /* the peer's length */
    size_t               head_got;
    u_char              *in;
    size_t               in_len;
    size_t               in_got;

    eg_swim_addr_t       peer;
    unsigned             answered:1;
} eg_gossip_stream_t;


static void eg_gossip_udp_read(eg_event_t *rev);
static void eg_gossip_accept(eg_connection_t *c);
static void eg_gossip_stream_read(eg_event_t *rev);
static void eg_gossip_stream_write(eg_event_t *wev);
static void eg_gossip_stream_connected(eg_event_t *wev);
static void eg_gossip_stream_done(eg_gossip_stream_t *s, eg_uint_t ok);
static void eg_gossip_timer(eg_event_t *ev);
static eg_int_t eg_gossip_listen(eg_gossip_t *g, eg_uint_t index,
    eg_connection_t **cp);


eg_int_t
eg_gossip_sockaddr(eg_swim_addr_t *a, eg_sockaddr_t *sa, socklen_t *socklen)
{
    eg_memzero(sa, sizeof(eg_sockaddr_t));

    if (a->family == 4) {
        sa->sockaddr_in.sin_family = AF_INET;
        sa->sockaddr_in.sin_port = htons(a->port);
        eg_memcpy(&sa->sockaddr_in.sin_addr, a->ip, 4);
        *socklen = sizeof(struct sockaddr_in);
        return EG_OK;
    }

    if (a->family == 6) {
        sa->sockaddr_in6.sin6_family = AF_INET6;
        sa->sockaddr_in6.sin6_port = htons(a->port);
        eg_memcpy(&sa->sockaddr_in6.sin6_addr, a->ip, 16);
        *socklen = sizeof(struct sockaddr_in6);
        return EG_OK;
    }

    return EG_ERROR;
}


eg_int_t
eg_gossip_swim_addr(struct sockaddr *sa, eg_swim_addr_t *a)
{
    eg_memzero(a, sizeof(eg_swim_addr_t));

    switch (sa->sa_family) {

    case AF_INET:
        a->family = 4;
        a->port = ntohs(((struct sockaddr_in *) sa)->sin_port);
        eg_memcpy(a->ip, &((struct sockaddr_in *) sa)->sin_addr, 4);
        return EG_OK;

    case AF_INET6:
        a->family = 6;
        a->port = ntohs(((struct sockaddr_in6 *) sa)->sin6_port);
        eg_memcpy(a->ip, &((struct sockaddr_in6 *) sa)->sin6_addr, 16);
        return EG_OK;
    }

    return EG_ERROR;
}


static eg_int_t
eg_gossip_listen(eg_gossip_t *g, eg_uint_t index, eg_connection_t **cp)
{
    eg_listening_t   *ls;
    eg_connection_t  *c;

    ls = (eg_listening_t *) g->cycle->listening.elts + index;

    if (ls->fd == -1) {
        eg_log_error(EG_LOG_EMERG, g->log, 0, "the gossip socket %s is not "
                     "open", ls->addr_text.data);
        return EG_ERROR;
    }

    c = eg_get_connection(ls->fd, g->log);
    if (c == NULL) {
        return EG_ERROR;
    }

    c->type = ls->type;
    c->listening = ls;
    c->log = g->log;
    c->read->log = g->log;
    c->write->log = g->log;
    c->data = g;

    ls->connection = c;
    *cp = c;

    return EG_OK;
}


/*
 * Linux hands a socket bound to a wildcard address the datagrams of
 * every multicast group any socket of the host joined on that port: with
 * multicast discovery on the gossip port, each announcement would land
 * here too and be dropped as foreign.  Only unicast is gossip.
 */
static void
eg_gossip_no_multicast(eg_gossip_t *g)
{
#if defined(IP_MULTICAST_ALL) || defined(IPV6_MULTICAST_ALL)
    int  zero;

    zero = 0;

#if defined(IP_MULTICAST_ALL)
    if (g->udp->listening->sockaddr.sockaddr.sa_family == AF_INET
        && setsockopt(g->udp->fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero,
                      sizeof(int))
           == -1)
    {
        eg_log_error(EG_LOG_WARN, g->log, eg_socket_errno,
                     "setsockopt(IP_MULTICAST_ALL) failed, ignored");
    }
#endif

#if defined(IPV6_MULTICAST_ALL)
    if (g->udp->listening->sockaddr.sockaddr.sa_family == AF_INET6
        && setsockopt(g->udp->fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero,
                      sizeof(int))
           == -1)
    {
        eg_log_error(EG_LOG_WARN, g->log, eg_socket_errno,
                     "setsockopt(IPV6_MULTICAST_ALL) failed, ignored");
    }
#endif

#else
    eg_unused(g);
#endif
}


eg_int_t
eg_gossip_net_init(eg_gossip_t *g)
{
    eg_listening_t  *ls;

    if (eg_gossip_listen(g, g->conf->udp_index, &g->udp) != EG_OK
        || eg_gossip_listen(g, g->conf->tcp_index, &g->tcp) != EG_OK)
    {
        return EG_ERROR;
    }

    g->udp->read->handler = eg_gossip_udp_read;

    eg_gossip_no_multicast(g);

    if (eg_add_event(g->udp->read, EG_READ_EVENT, 0) == EG_ERROR) {
        return EG_ERROR;
    }

    ls = g->tcp->listening;
    ls->handler = eg_gossip_accept;
    ls->servers = g;
    ls->log = *g->log;
    ls->pool_size = 1024;

    g->tcp->read->accept = 1;
    g->tcp->read->handler = eg_event_accept;

    if (eg_add_event(g->tcp->read, EG_READ_EVENT, 0) == EG_ERROR) {
        return EG_ERROR;
    }

    g->timer.handler = eg_gossip_timer;
    g->timer.data = g;
    g->timer.log = g->log;
    g->timer.cancelable = 1;

    return EG_OK;
}


/* keeps the event timer on the gossip core's next deadline, exactly */
void
eg_gossip_rearm(eg_gossip_t *g)
{
    eg_msec_t  at, delay;

    if (g->swim == NULL) {
        return;
    }

    at = eg_swim_next_deadline(g->swim);

    if (at == (eg_msec_t) -1) {
        return;
    }

    delay = ((eg_msec_int_t) (at - eg_current_msec) > 0)
            ? at - eg_current_msec : 0;

    /* no lazy re-arm here: gossip runs on 200 ms beats */

    if (g->timer.timer_set) {
        if (g->timer.timer.key == (eg_rbtree_key_t) (eg_current_msec + delay))
        {
            return;
        }

        eg_event_del_timer(&g->timer);
    }

    eg_event_add_timer(&g->timer, delay);
}


static void
eg_gossip_timer(eg_event_t *ev)
{
    eg_gossip_t  *g;

    g = ev->data;

    eg_swim_tick(g->swim);
    eg_gossip_rearm(g);
}


static void
eg_gossip_udp_read(eg_event_t *rev)
{
    u_char            buf[EG_SWIM_MAX_PACKET + 1];
    ssize_t           n;
    eg_uint_t         i;
    socklen_t         socklen;
    eg_sockaddr_t     sa;
    eg_gossip_t      *g;
    eg_swim_addr_t    from;
    eg_connection_t  *c;

    c = rev->data;
    g = c->data;

    for (i = 0; i < EG_GOSSIP_RECV_BATCH; i++) {
        socklen = sizeof(eg_sockaddr_t);

        n = eg_udp_recvfrom(c, buf, sizeof(buf), &sa.sockaddr, &socklen);

        if (n == EG_AGAIN || n == EG_ERROR) {
            break;
        }

        if (eg_gossip_swim_addr(&sa.sockaddr, &from) != EG_OK) {
            continue;
        }

        /* longer than a datagram may be: MSG_TRUNC told the real size */
        eg_swim_receive(g->swim, &from, buf,
                        (size_t) eg_min(n, (ssize_t) sizeof(buf)));
    }

    eg_gossip_rearm(g);
}


void
eg_gossip_send(void *data, eg_swim_addr_t *to, u_char *buf, size_t len)
{
    socklen_t      socklen;
    eg_sockaddr_t  sa;
    eg_gossip_t   *g = data;

    if (g->udp == NULL || eg_gossip_sockaddr(to, &sa, &socklen) != EG_OK) {
        return;
    }

    /* a full socket buffer loses the datagram, as the network may */
    (void) eg_udp_sendto(g->udp, buf, len, &sa.sockaddr, socklen);
}


static eg_gossip_stream_t *
eg_gossip_stream_new(eg_gossip_t *g, eg_connection_t *c)
{
    eg_gossip_stream_t  *s;

    s = eg_pcalloc(c->pool, sizeof(eg_gossip_stream_t));
    if (s == NULL) {
        return NULL;
    }

    s->gossip = g;
    s->connection = c;
    c->data = s;

    c->read->handler = eg_gossip_stream_read;
    c->write->handler = eg_gossip_stream_write;

    eg_event_add_timer(c->read, EG_GOSSIP_STREAM_TIMEOUT);

    return s;
}


/* frames a message: [len][bytes], in the connection's pool */
static eg_int_t
eg_gossip_stream_frame(eg_gossip_stream_t *s, u_char *buf, size_t len)
{
    u_char  *p;

    p = eg_pnalloc(s->connection->pool, 4 + len);
    if (p == NULL) {
        return EG_ERROR;
    }

    p[0] = (u_char) (len >> 24);
    p[1] = (u_char) (len >> 16);
    p[2] = (u_char) (len >> 8);
    p[3] = (u_char) len;

    eg_memcpy(p + 4, buf, len);

    s->out = p;
    s->out_len = 4 + len;
    s->out_sent = 0;

    return EG_OK;
}


void
eg_gossip_stream(void *data, eg_swim_addr_t *to, u_char *buf, size_t len,
    uint32_t tag)
{
    eg_int_t               rc;
    eg_str_t               name;
    eg_pool_t             *pool;
    socklen_t              socklen;
    eg_sockaddr_t          sa;
    eg_gossip_t           *g = data;
    eg_gossip_stream_t    *s;
    eg_peer_connection_t   pc;

    if (eg_gossip_sockaddr(to, &sa, &socklen) != EG_OK) {
        eg_swim_stream_response(g->swim, tag, NULL, 0);
        return;
    }

    eg_str_set(&name, "a gossip peer");

    eg_memzero(&pc, sizeof(eg_peer_connection_t));
    pc.sockaddr = &sa.sockaddr;
    pc.socklen = socklen;
    pc.name = &name;
    pc.log = g->log;

    rc = eg_event_connect_peer(&pc);

    if (rc == EG_ERROR || rc == EG_DECLINED) {
        eg_swim_stream_response(g->swim, tag, NULL, 0);
        return;
    }

    pool = eg_create_pool(1024, g->log);
    if (pool == NULL) {
        eg_close_connection(pc.connection);
        eg_swim_stream_response(g->swim, tag, NULL, 0);
        return;
    }

    pc.connection->pool = pool;

    s = eg_gossip_stream_new(g, pc.connection);

    if (s == NULL || eg_gossip_stream_frame(s, buf, len) != EG_OK) {
        pc.connection->data = NULL;
        eg_close_connection(pc.connection);
        eg_destroy_pool(pool);
        eg_swim_stream_response(g->swim, tag, NULL, 0);
        return;
    }

    s->tag = tag;
    s->peer = *to;

    if (rc == EG_AGAIN) {
        /* in progress: the write event says how it went */
        pc.connection->write->handler = eg_gossip_stream_connected;
        return;
    }

    eg_gossip_stream_write(pc.connection->write);
}


static void
eg_gossip_stream_connected(eg_event_t *wev)
{
    eg_connection_t     *c;
    eg_gossip_stream_t  *s;

    c = wev->data;
    s = c->data;

    if (wev->timedout || c->read->timedout
        || eg_event_connect_result(c) != EG_OK)
    {
        eg_gossip_stream_done(s, 0);
        return;
    }

    wev->handler = eg_gossip_stream_write;
    eg_gossip_stream_write(wev);
}


static void
eg_gossip_accept(eg_connection_t *c)
{
    eg_gossip_t         *g;
    eg_gossip_stream_t  *s;

    g = c->listening->servers;

    s = eg_gossip_stream_new(g, c);

    if (s == NULL) {
        eg_close_connection(c);
        eg_destroy_pool(c->pool);
        return;
    }

    s->incoming = 1;

    if (eg_gossip_swim_addr(c->sockaddr, &s->peer) != EG_OK) {
        eg_gossip_stream_done(s, 0);
        return;
    }

    eg_gossip_stream_read(c->read);
}


static void
eg_gossip_stream_write(eg_event_t *wev)
{
    ssize_t              n;
    eg_connection_t     *c;
    eg_gossip_stream_t  *s;

    c = wev->data;
    s = c->data;

    if (c->read->timedout) {
        eg_gossip_stream_done(s, 0);
        return;
    }

    while (s->out && s->out_sent < s->out_len) {
        n = c->send(c, s->out + s->out_sent, s->out_len - s->out_sent);

        if (n == EG_AGAIN) {
            if (eg_handle_write_event(wev) != EG_OK) {
                eg_gossip_stream_done(s, 0);
            }

            return;
        }

        if (n == EG_ERROR || n == 0) {
            eg_gossip_stream_done(s, 0);
            return;
        }

        s->out_sent += (size_t) n;
    }

    if (s->incoming) {
        /* our answer is out: the exchange is over */
        if (s->answered) {
            eg_gossip_stream_done(s, 1);
        }

        return;
    }

    /* the request is out: wait for the answer */

    if (eg_handle_read_event(c->read, 0) != EG_OK) {
        eg_gossip_stream_done(s, 0);
        return;
    }

    eg_gossip_stream_read(c->read);
}


static void
eg_gossip_stream_read(eg_event_t *rev)
{
    u_char              *answer;
    size_t               alen;
    ssize_t              n;
    eg_connection_t     *c;
    eg_gossip_stream_t  *s;

    c = rev->data;
    s = c->data;

    if (rev->timedout) {
        eg_log_error(EG_LOG_INFO, c->log, EG_ETIMEDOUT,
                     "gossip stream timed out");
        eg_gossip_stream_done(s, 0);
        return;
    }

    if (!s->incoming && s->out_sent < s->out_len) {
        return;     /* still writing the request */
    }

    while (s->head_got < 4) {
        n = c->recv(c, s->head + s->head_got, 4 - s->head_got);

        if (n == EG_AGAIN) {
            goto again;
        }

        if (n == EG_ERROR || n == 0) {
            eg_gossip_stream_done(s, 0);
            return;
        }

        s->head_got += (size_t) n;

        if (s->head_got == 4) {
            s->in_len = ((size_t) s->head[0] << 24)
                        | ((size_t) s->head[1] << 16)
                        | ((size_t) s->head[2] << 8) | s->head[3];

            if (s->in_len == 0 || s->in_len > EG_SWIM_MAX_STREAM) {
                eg_log_error(EG_LOG_INFO, c->log, 0, "gossip stream of "
                             "%lu bytes refused", (unsigned long) s->in_len);
                eg_gossip_stream_done(s, 0);
                return;
            }

            s->in = eg_pnalloc(c->pool, s->in_len);
            if (s->in == NULL) {
                eg_gossip_stream_done(s, 0);
                return;
            }
        }
    }

    while (s->in_got < s->in_len) {
        n = c->recv(c, s->in + s->in_got, s->in_len - s->in_got);

        if (n == EG_AGAIN) {
            goto again;
        }

        if (n == EG_ERROR || n == 0) {
            eg_gossip_stream_done(s, 0);
            return;
        }

        s->in_got += (size_t) n;
    }

    if (!s->incoming) {
        eg_swim_stream_response(s->gossip->swim, s->tag, s->in, s->in_len);
        s->tag = 0;
        eg_gossip_stream_done(s, 1);
        return;
    }

    if (s->answered) {
        return;
    }

    answer = eg_swim_stream_request(s->gossip->swim, &s->peer, s->in,
                                    s->in_len, &alen);
    s->answered = 1;

    eg_gossip_rearm(s->gossip);

    if (answer == NULL) {
        eg_gossip_stream_done(s, 0);
        return;
    }

    if (eg_gossip_stream_frame(s, answer, alen) != EG_OK) {
        free(answer);
        eg_gossip_stream_done(s, 0);
        return;
    }

    free(answer);

    eg_gossip_stream_write(c->write);
    return;

again:

    if (eg_handle_read_event(rev, 0) != EG_OK) {
        eg_gossip_stream_done(s, 0);
    }
}


static void
eg_gossip_stream_done(eg_gossip_stream_t *s, eg_uint_t ok)
{
    uint32_t          tag;
    eg_pool_t        *pool;
    eg_gossip_t      *g;
    eg_connection_t  *c;

    c = s->connection;
    g = s->gossip;
    tag = s->tag;
    pool = c->pool;

    c->pool = NULL;
    eg_close_connection(c);

    /* an outgoing exchange that failed still owes the core an answer */

    if (!s->incoming && tag && !ok) {
        eg_swim_stream_response(g->swim, tag, NULL, 0);
    }

    eg_destroy_pool(pool);

    eg_gossip_rearm(g);
}
