/*
 * Outgoing connections.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


eg_int_t
eg_event_connect_peer(eg_peer_connection_t *pc)
{
    int               s, rc, type;
    eg_err_t          err;
    eg_connection_t  *c;

    type = pc->type ? pc->type : SOCK_STREAM;

    s = socket(pc->sockaddr->sa_family, type|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);

    if (s == -1) {
        eg_log_error(EG_LOG_ALERT, pc->log, eg_socket_errno,
                     "socket() failed");
        return EG_ERROR;
    }

    if (SOCK_NONBLOCK == 0 && eg_nonblocking(s) != EG_OK) {
        eg_log_error(EG_LOG_ALERT, pc->log, eg_socket_errno,
                     "fcntl(O_NONBLOCK) failed");
        (void) close(s);
        return EG_ERROR;
    }

    c = eg_get_connection(s, pc->log);

    if (c == NULL) {
        (void) close(s);
        return EG_ERROR;
    }

    c->type = type;

    if (pc->rcvbuf) {
        if (setsockopt(s, SOL_SOCKET, SO_RCVBUF, (const void *) &pc->rcvbuf,
                       sizeof(int)) == -1)
        {
            eg_log_error(EG_LOG_ALERT, pc->log, eg_socket_errno,
                         "setsockopt(SO_RCVBUF) failed");
            goto failed;
        }
    }

    if (pc->local) {
        if (bind(s, pc->local,
                 pc->local->sa_family == AF_INET6
                 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in))
            == -1)
        {
            eg_log_error(EG_LOG_CRIT, pc->log, eg_socket_errno,
                         "bind() before connecting to " EG_STR_FMT
                         " failed", EG_STR_ARG(*pc->name));
            goto failed;
        }
    }

    c->recv = eg_unix_recv;
    c->send = eg_unix_send;
    c->log = pc->log;
    c->read->log = pc->log;
    c->write->log = pc->log;
    c->number = eg_connection_counter++;
    c->start_time = eg_current_msec;

    pc->connection = c;

    if (eg_add_conn) {
        if (eg_add_conn(c) == EG_ERROR) {
            goto failed;
        }
    }

    rc = connect(s, pc->sockaddr, pc->socklen);

    if (rc == -1) {
        err = eg_socket_errno;

        if (err != EG_EINPROGRESS) {
            eg_log_error(err == EG_ECONNREFUSED ? EG_LOG_INFO : EG_LOG_ERR,
                         pc->log, err, "connect() to " EG_STR_FMT " failed",
                         EG_STR_ARG(*pc->name));

            eg_close_connection(c);
            pc->connection = NULL;

            return EG_DECLINED;
        }
    }

    if (eg_add_conn) {
        if (rc == -1) {
            return EG_AGAIN;    /* edge mode: wait for the write event */
        }

        c->write->ready = 1;
        return EG_OK;
    }

    /* level-triggered: register what we wait for */

    if (rc == -1) {
        if (eg_add_event(c->write, EG_WRITE_EVENT, 0) != EG_OK) {
            goto failed;
        }

        return EG_AGAIN;
    }

    c->write->ready = 1;

    return EG_OK;

failed:

    eg_close_connection(c);
    pc->connection = NULL;

    return EG_ERROR;
}


eg_int_t
eg_event_connect_result(eg_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1)
    {
        err = eg_socket_errno;
    }

    if (err) {
        c->log->action = NULL;
        (void) eg_connection_error(c, err, "connect() failed");
        return EG_ERROR;
    }

    return EG_OK;
}
