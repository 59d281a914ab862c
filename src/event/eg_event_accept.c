/*
 * Accepting connections on a listening socket.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


#define EG_ACCEPT_PAUSE  500    /* ms to stop accepting when out of fds */


static void eg_event_accept_resume(eg_event_t *ev);
static void eg_event_accept_close(eg_connection_t *c);


void
eg_event_accept(eg_event_t *ev)
{
    int               s;
    u_char            text[EG_SOCKADDR_STRLEN + 1];
    size_t            len;
    socklen_t         socklen;
    eg_err_t          err;
    eg_log_t         *log;
    eg_sockaddr_t     sa;
    eg_listening_t   *ls;
    eg_connection_t  *c, *lc;
    eg_event_conf_t  *ecf;

    if (ev->timedout) {
        ev->timedout = 0;
    }

    ecf = eg_event_get_conf(((eg_cycle_t *) eg_cycle)->conf_ctx,
                            eg_event_core_module);

    lc = ev->data;
    ls = lc->listening;
    ev->ready = 0;

    do {
        socklen = sizeof(eg_sockaddr_t);

#if (EG_HAVE_ACCEPT4)
        s = accept4(lc->fd, &sa.sockaddr, &socklen,
                    SOCK_NONBLOCK|SOCK_CLOEXEC);
#else
        s = accept(lc->fd, &sa.sockaddr, &socklen);
#endif

        if (s == -1) {
            err = eg_socket_errno;

            if (err == EG_EAGAIN || err == EG_EINTR) {
                return;
            }

            if (err == EG_ECONNABORTED) {
                /* the client gave up before we got to it */
                continue;
            }

            eg_log_error((err == EG_EMFILE || err == EG_ENFILE)
                         ? EG_LOG_CRIT : EG_LOG_ALERT,
                         ev->log, err, "accept() failed");

            if (err == EG_EMFILE || err == EG_ENFILE) {
                /*
                 * Out of descriptors: stop listening for a moment rather
                 * than spin on a socket that stays readable.
                 */

                if (ev->active) {
                    (void) eg_del_event(ev, EG_READ_EVENT, 0);
                }

                ev->handler = eg_event_accept_resume;
                eg_event_add_timer(ev, EG_ACCEPT_PAUSE);
            }

            return;
        }

#if !(EG_HAVE_ACCEPT4)
        if (eg_nonblocking(s) != EG_OK || eg_cloexec(s) != EG_OK) {
            eg_log_error(EG_LOG_ALERT, ev->log, eg_socket_errno,
                         "fcntl() on an accepted socket failed");
            (void) close(s);
            return;
        }
#endif

        c = eg_get_connection(s, ev->log);

        if (c == NULL) {
            (void) close(s);
            return;
        }

        c->type = SOCK_STREAM;

        c->pool = eg_create_pool(ls->pool_size, ev->log);
        if (c->pool == NULL) {
            eg_event_accept_close(c);
            return;
        }

        if (socklen > (socklen_t) sizeof(eg_sockaddr_t)) {
            socklen = sizeof(eg_sockaddr_t);
        }

        c->sockaddr = eg_palloc(c->pool, socklen);
        if (c->sockaddr == NULL) {
            eg_event_accept_close(c);
            return;
        }

        eg_memcpy(c->sockaddr, &sa, socklen);
        c->socklen = socklen;

        log = eg_palloc(c->pool, sizeof(eg_log_t));
        if (log == NULL) {
            eg_event_accept_close(c);
            return;
        }

        *log = ls->log;

        c->recv = eg_unix_recv;
        c->send = eg_unix_send;
        c->log = log;
        c->pool->log = log;
        c->listening = ls;
        c->number = eg_connection_counter++;
        c->start_time = eg_current_msec;

        c->read->log = log;
        c->write->log = log;

        /* a new socket can be written to at once */
        c->write->ready = 1;

        len = eg_sock_ntop(c->sockaddr, c->socklen, text, sizeof(text), 0);

        c->addr_text.data = eg_pnalloc(c->pool, len + 1);
        if (c->addr_text.data == NULL) {
            eg_event_accept_close(c);
            return;
        }

        eg_memcpy(c->addr_text.data, text, len + 1);
        c->addr_text.len = len;

        log->connection = c->number;
        log->handler = NULL;
        log->data = NULL;

        if (eg_add_conn && eg_add_conn(c) == EG_ERROR) {
            eg_event_accept_close(c);
            return;
        }

        eg_log_debug(log, "accept: %s fd:%d", c->addr_text.data, s);

        ls->handler(c);

    } while (ecf->multi_accept);
}


static void
eg_event_accept_resume(eg_event_t *ev)
{
    ev->timedout = 0;
    ev->handler = eg_event_accept;

    if (eg_add_event(ev, EG_READ_EVENT, 0) == EG_ERROR) {
        return;
    }

    eg_event_accept(ev);
}


static void
eg_event_accept_close(eg_connection_t *c)
{
    eg_pool_t  *pool;

    pool = c->pool;

    c->pool = NULL;
    eg_close_connection(c);

    if (pool) {
        eg_destroy_pool(pool);
    }
}


void
eg_event_listen_stop(eg_cycle_t *cycle)
{
    eg_uint_t         i;
    eg_listening_t   *ls;
    eg_connection_t  *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        c = ls[i].connection;

        if (c == NULL) {
            continue;
        }

        if (c->read->timer_set) {
            eg_event_del_timer(c->read);
        }

        if (c->read->active) {
            (void) eg_del_event(c->read, EG_READ_EVENT, 0);
        }
    }
}
