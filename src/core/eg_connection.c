/*
 * Listening sockets and the per-process connection pool.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


#define EG_LISTEN_TRIES        5
#define EG_LISTEN_RETRY_USEC   500000


eg_uint_t  eg_connection_counter = 1;


static void eg_drain_connections(eg_cycle_t *cycle);


eg_listening_t *
eg_create_listening(eg_conf_t *cf, struct sockaddr *sa, socklen_t socklen,
    int type)
{
    u_char           text[EG_SOCKADDR_STRLEN + 1];
    size_t           len;
    eg_listening_t  *ls;

    ls = eg_array_push(&cf->cycle->listening);
    if (ls == NULL) {
        return NULL;
    }

    eg_memzero(ls, sizeof(eg_listening_t));

    eg_memcpy(&ls->sockaddr, sa, socklen);
    ls->socklen = socklen;

    len = eg_sock_ntop(sa, socklen, text, sizeof(text), 1);

    ls->addr_text.data = eg_pnalloc(cf->pool, len + 1);
    if (ls->addr_text.data == NULL) {
        return NULL;
    }

    eg_memcpy(ls->addr_text.data, text, len + 1);
    ls->addr_text.len = len;

    ls->fd = -1;
    ls->type = type;
    ls->backlog = 511;
    ls->rcvbuf = -1;
    ls->sndbuf = -1;
    ls->ipv6only = 1;
    ls->pool_size = 1024;
    ls->logp = &cf->cycle->new_log;

    return ls;
}


/*
 * "reuseport": a socket per worker, so that the kernel spreads new
 * connections across workers instead of waking them all for each one.
 */
eg_int_t
eg_clone_listening(eg_cycle_t *cycle, eg_uint_t workers)
{
    eg_uint_t        i, n, w;
    eg_listening_t  *ls, *copy;

    n = cycle->listening.nelts;

    for (i = 0; i < n; i++) {
        ls = (eg_listening_t *) cycle->listening.elts + i;

        if (!ls->reuseport || ls->worker != 0) {
            continue;
        }

        for (w = 1; w < workers; w++) {
            copy = eg_array_push(&cycle->listening);
            if (copy == NULL) {
                return EG_ERROR;
            }

            /* the push may have moved the array */
            ls = (eg_listening_t *) cycle->listening.elts + i;

            *copy = *ls;
            copy->worker = w;
        }
    }

    return EG_OK;
}


/* fills in what an inherited descriptor does not tell by itself */
eg_int_t
eg_set_inherited_sockets(eg_cycle_t *cycle)
{
    int              type;
    u_char           text[EG_SOCKADDR_STRLEN + 1];
    size_t           len;
    socklen_t        olen;
    eg_uint_t        i;
    eg_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        ls[i].socklen = sizeof(eg_sockaddr_t);

        if (getsockname(ls[i].fd, &ls[i].sockaddr.sockaddr, &ls[i].socklen)
            == -1)
        {
            eg_log_error(EG_LOG_CRIT, cycle->log, eg_socket_errno,
                         "getsockname() of the inherited socket #%d failed",
                         ls[i].fd);
            ls[i].ignore = 1;
            continue;
        }

        if (ls[i].socklen > (socklen_t) sizeof(eg_sockaddr_t)) {
            ls[i].socklen = sizeof(eg_sockaddr_t);
        }

        switch (ls[i].sockaddr.sockaddr.sa_family) {
        case AF_INET:
        case AF_INET6:
            break;

        default:
            eg_log_error(EG_LOG_CRIT, cycle->log, 0,
                         "the inherited socket #%d has an unsupported "
                         "protocol family", ls[i].fd);
            ls[i].ignore = 1;
            continue;
        }

        len = eg_sock_ntop(&ls[i].sockaddr.sockaddr, ls[i].socklen, text,
                           sizeof(text), 1);

        ls[i].addr_text.data = eg_pnalloc(cycle->pool, len + 1);
        if (ls[i].addr_text.data == NULL) {
            return EG_ERROR;
        }

        eg_memcpy(ls[i].addr_text.data, text, len + 1);
        ls[i].addr_text.len = len;

        olen = sizeof(int);

        if (getsockopt(ls[i].fd, SOL_SOCKET, SO_TYPE, (void *) &type, &olen)
            == -1)
        {
            eg_log_error(EG_LOG_CRIT, cycle->log, eg_socket_errno,
                         "getsockopt(SO_TYPE) %s failed",
                         ls[i].addr_text.data);
            ls[i].ignore = 1;
            continue;
        }

        ls[i].type = type;
        ls[i].backlog = 511;
        ls[i].rcvbuf = -1;
        ls[i].sndbuf = -1;

        /* the new binary closes them on exec no more than the old did */
        (void) eg_cloexec(ls[i].fd);
    }

    return EG_OK;
}


eg_int_t
eg_open_listening_sockets(eg_cycle_t *cycle)
{
    int              s, reuse, on;
    eg_err_t         err;
    eg_uint_t        i, tries, failed;
    eg_listening_t  *ls;

    for (tries = EG_LISTEN_TRIES; tries; tries--) {
        failed = 0;

        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {

            if (ls[i].ignore || ls[i].fd != -1) {
                continue;
            }

            s = socket(ls[i].sockaddr.sockaddr.sa_family,
                       ls[i].type|SOCK_CLOEXEC|SOCK_NONBLOCK, 0);

            if (s == -1) {
                eg_log_error(EG_LOG_EMERG, cycle->log, eg_socket_errno,
                             "socket() %s failed", ls[i].addr_text.data);
                return EG_ERROR;
            }

            if (SOCK_NONBLOCK == 0 && eg_nonblocking(s) != EG_OK) {
                eg_log_error(EG_LOG_EMERG, cycle->log, eg_socket_errno,
                             "fcntl(O_NONBLOCK) %s failed",
                             ls[i].addr_text.data);
                (void) close(s);
                return EG_ERROR;
            }

            if (SOCK_CLOEXEC == 0) {
                (void) eg_cloexec(s);
            }

            reuse = 1;

            if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (const void *) &reuse,
                           sizeof(int))
                == -1)
            {
                eg_log_error(EG_LOG_EMERG, cycle->log, eg_socket_errno,
                             "setsockopt(SO_REUSEADDR) %s failed",
                             ls[i].addr_text.data);
                (void) close(s);
                return EG_ERROR;
            }

#if (EG_HAVE_REUSEPORT)
            if (ls[i].reuseport) {
                if (setsockopt(s, SOL_SOCKET, SO_REUSEPORT,
                               (const void *) &reuse, sizeof(int))
                    == -1)
                {
                    eg_log_error(EG_LOG_EMERG, cycle->log, eg_socket_errno,
                                 "setsockopt(SO_REUSEPORT) %s failed",
                                 ls[i].addr_text.data);
                    (void) close(s);
                    return EG_ERROR;
                }
            }
#endif

            if (ls[i].sockaddr.sockaddr.sa_family == AF_INET6) {
                on = ls[i].ipv6only ? 1 : 0;

                if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY,
                               (const void *) &on, sizeof(int))
                    == -1)
                {
                    eg_log_error(EG_LOG_EMERG, cycle->log, eg_socket_errno,
                                 "setsockopt(IPV6_V6ONLY) %s failed, "
                                 "ignored", ls[i].addr_text.data);
                }
            }

            if (bind(s, &ls[i].sockaddr.sockaddr, ls[i].socklen) == -1) {
                err = eg_socket_errno;

                if (err != EG_EADDRINUSE || !eg_test_config) {
                    eg_log_error(EG_LOG_EMERG, cycle->log, err,
                                 "bind() to %s failed",
                                 ls[i].addr_text.data);
                }

                (void) close(s);

                if (err != EG_EADDRINUSE) {
                    return EG_ERROR;
                }

                failed = 1;
                continue;
            }

            if (ls[i].type == SOCK_STREAM && listen(s, ls[i].backlog) == -1)
            {
                eg_log_error(EG_LOG_EMERG, cycle->log, eg_socket_errno,
                             "listen() to %s, backlog %d failed",
                             ls[i].addr_text.data, ls[i].backlog);
                (void) close(s);
                return EG_ERROR;
            }

            ls[i].fd = s;
            ls[i].open = 1;
        }

        if (!failed) {
            break;
        }

        /* a previous instance may still be letting go of the address */

        eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "try again to bind()");
        (void) usleep(EG_LISTEN_RETRY_USEC);
    }

    if (failed) {
        eg_log_error(EG_LOG_EMERG, cycle->log, 0, "still could not bind()");
        return EG_ERROR;
    }

    return EG_OK;
}


void
eg_configure_listening_sockets(eg_cycle_t *cycle)
{
    eg_uint_t        i;
    eg_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        ls[i].log = *ls[i].logp;

        if (ls[i].fd == -1) {
            continue;
        }

        if (ls[i].rcvbuf != -1) {
            if (setsockopt(ls[i].fd, SOL_SOCKET, SO_RCVBUF,
                           (const void *) &ls[i].rcvbuf, sizeof(int))
                == -1)
            {
                eg_log_error(EG_LOG_ALERT, cycle->log, eg_socket_errno,
                             "setsockopt(SO_RCVBUF, %d) %s failed, ignored",
                             ls[i].rcvbuf, ls[i].addr_text.data);
            }
        }

        if (ls[i].sndbuf != -1) {
            if (setsockopt(ls[i].fd, SOL_SOCKET, SO_SNDBUF,
                           (const void *) &ls[i].sndbuf, sizeof(int))
                == -1)
            {
                eg_log_error(EG_LOG_ALERT, cycle->log, eg_socket_errno,
                             "setsockopt(SO_SNDBUF, %d) %s failed, ignored",
                             ls[i].sndbuf, ls[i].addr_text.data);
            }
        }

        /* a changed backlog takes effect on an inherited socket too */

        if (ls[i].type == SOCK_STREAM && ls[i].previous) {
            if (listen(ls[i].fd, ls[i].backlog) == -1) {
                eg_log_error(EG_LOG_ALERT, cycle->log, eg_socket_errno,
                             "listen() to %s, backlog %d failed, ignored",
                             ls[i].addr_text.data, ls[i].backlog);
            }
        }
    }
}


/* in a worker that quits: stop accepting, leave the sockets to others */
void
eg_close_listening_sockets(eg_cycle_t *cycle)
{
    eg_uint_t         i;
    eg_listening_t   *ls;
    eg_connection_t  *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        c = ls[i].connection;

        if (c) {
            if (c->read->active) {
                /*
                 * Removed from epoll for real, not by the close() below:
                 * the master and the other workers still hold the socket,
                 * so it would stay in this worker's epoll set, and an
                 * exclusive wakeup for a new connection could come here,
                 * to a worker that no longer accepts, instead of to one
                 * that does.
                 */
                (void) eg_del_event(c->read, EG_READ_EVENT, 0);
            }

            eg_free_connection(c);
            c->fd = -1;
        }

        if (ls[i].fd != -1 && close(ls[i].fd) == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_socket_errno,
                         "close() socket %s failed", ls[i].addr_text.data);
        }

        ls[i].fd = -1;
        ls[i].connection = NULL;
    }
}


eg_connection_t *
eg_get_connection(int fd, eg_log_t *log)
{
    eg_uint_t         instance;
    eg_event_t       *rev, *wev;
    eg_cycle_t       *cycle;
    eg_connection_t  *c;

    cycle = (eg_cycle_t *) eg_cycle;

    c = cycle->free_connections;

    if (c == NULL && cycle->connection_used < cycle->connection_n) {
        /* a never-used slot: its pages become resident only now */
        c = &cycle->connections[cycle->connection_used];
        c->read = &cycle->read_events[cycle->connection_used];
        c->write = &cycle->write_events[cycle->connection_used];
        c->data = NULL;
        cycle->connection_used++;
        cycle->free_connections = c;
    }

    if (c == NULL) {
        eg_drain_connections(cycle);
        c = cycle->free_connections;
    }

    if (c == NULL) {
        eg_log_error(EG_LOG_ALERT, log, 0,
                     "%lu worker_connections are not enough",
                     (unsigned long) cycle->connection_n);
        return NULL;
    }

    cycle->free_connections = c->data;
    cycle->free_connection_n--;

    rev = c->read;
    wev = c->write;

    eg_memzero(c, sizeof(eg_connection_t));

    c->read = rev;
    c->write = wev;
    c->fd = fd;
    c->log = log;

    /* flip the instance bit so that stale epoll events are recognised */

    instance = rev->instance;

    eg_memzero(rev, sizeof(eg_event_t));
    eg_memzero(wev, sizeof(eg_event_t));

    rev->instance = !instance;
    wev->instance = !instance;

    rev->index = EG_INVALID_INDEX;
    wev->index = EG_INVALID_INDEX;

    rev->data = c;
    wev->data = c;

    wev->write = 1;

    return c;
}


void
eg_free_connection(eg_connection_t *c)
{
    eg_cycle_t  *cycle;

    cycle = (eg_cycle_t *) eg_cycle;

    c->data = cycle->free_connections;
    cycle->free_connections = c;
    cycle->free_connection_n++;
}


void
eg_close_connection(eg_connection_t *c)
{
    int  fd;

    if (c->fd == -1) {
        eg_log_error(EG_LOG_ALERT, c->log, 0, "connection already closed");
        return;
    }

    if (c->read->timer_set) {
        eg_event_del_timer(c->read);
    }

    if (c->write->timer_set) {
        eg_event_del_timer(c->write);
    }

    if (eg_del_conn) {
        (void) eg_del_conn(c, EG_CLOSE_EVENT);

    } else {
        if (c->read->active || c->read->disabled) {
            (void) eg_del_event(c->read, EG_READ_EVENT, EG_CLOSE_EVENT);
        }

        if (c->write->active || c->write->disabled) {
            (void) eg_del_event(c->write, EG_WRITE_EVENT, EG_CLOSE_EVENT);
        }
    }

    if (c->read->posted) {
        eg_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        eg_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    eg_reusable_connection(c, 0);

    fd = c->fd;
    c->fd = -1;

    eg_free_connection(c);

    if (close(fd) == -1) {
        eg_log_error(EG_LOG_ALERT, c->log, eg_socket_errno,
                     "close() socket %d failed", fd);
    }
}


void
eg_reusable_connection(eg_connection_t *c, eg_uint_t reusable)
{
    eg_cycle_t  *cycle;

    cycle = (eg_cycle_t *) eg_cycle;

    if (c->reusable) {
        eg_queue_remove(&c->queue);
        cycle->reusable_connections_n--;
    }

    c->reusable = reusable;

    if (reusable) {
        eg_queue_insert_head(&cycle->reusable_connections_queue, &c->queue);
        cycle->reusable_connections_n++;
    }
}


/* closes the oldest idle connections to make room for new ones */
static void
eg_drain_connections(eg_cycle_t *cycle)
{
    eg_uint_t         i, n;
    eg_queue_t       *q;
    eg_connection_t  *c;

    static eg_msec_t  warned;

    if (cycle->free_connection_n == 0 && cycle->reusable_connections_n > 0
        && eg_current_msec - warned >= 1000)
    {
        /* once a second at most: under a flood this is every accept */
        warned = eg_current_msec;

        eg_log_error(EG_LOG_WARN, cycle->log, 0,
                     "%lu worker_connections are not enough, reusing "
                     "connections", (unsigned long) cycle->connection_n);
    }

    n = eg_max(eg_min(32, cycle->reusable_connections_n / 8), 1);

    for (i = 0; i < n; i++) {
        if (eg_queue_empty(&cycle->reusable_connections_queue)) {
            break;
        }

        q = eg_queue_last(&cycle->reusable_connections_queue);
        c = eg_queue_data(q, eg_connection_t, queue);

        c->close = 1;
        c->read->handler(c->read);
    }
}


/* on graceful shutdown: idle connections go now, busy ones when done */
void
eg_close_idle_connections(eg_cycle_t *cycle)
{
    eg_uint_t         i;
    eg_connection_t  *c;

    c = cycle->connections;

    for (i = 0; i < cycle->connection_used; i++) {

        if (c[i].fd != -1 && c[i].idle) {
            c[i].close = 1;
            c[i].read->handler(c[i].read);
        }
    }
}


eg_int_t
eg_tcp_nodelay(eg_connection_t *c)
{
    int  on;

    if (c->tcp_nodelay) {
        return EG_OK;
    }

    on = 1;

    if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, (const void *) &on,
                   sizeof(int))
        == -1)
    {
        return eg_connection_error(c, eg_socket_errno,
                                   "setsockopt(TCP_NODELAY) failed");
    }

    c->tcp_nodelay = 1;

    return EG_OK;
}


/* logs a socket error at a level that fits how ordinary it is */
eg_int_t
eg_connection_error(eg_connection_t *c, eg_err_t err, const char *text)
{
    eg_uint_t  level;

    if (err == EG_ECONNRESET || err == EG_EPIPE || err == EG_ENOTCONN
        || err == EG_ETIMEDOUT || err == EG_ECONNREFUSED
        || err == EG_EHOSTUNREACH)
    {
        level = EG_LOG_INFO;

    } else {
        level = EG_LOG_ERR;
    }

    eg_log_error(level, c->log, err, "%s", text);

    return EG_ERROR;
}
