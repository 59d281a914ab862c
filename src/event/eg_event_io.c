/*
 * Non-blocking socket I/O for connections in the event loop.  Each helper
 * returns bytes moved, 0 at end of stream (recv), EG_AGAIN when the socket
 * is not ready (and clears "ready" so the caller waits for the event), or
 * EG_ERROR with the error logged.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


ssize_t
eg_unix_recv(eg_connection_t *c, u_char *buf, size_t size)
{
    ssize_t      n;
    eg_err_t     err;
    eg_event_t  *rev;

    rev = c->read;

    for ( ;; ) {
        n = recv(c->fd, buf, size, 0);

        if (n == 0) {
            rev->ready = 0;
            rev->eof = 1;
            return 0;
        }

        if (n > 0) {
            /* a short read on an edge-triggered socket drained it */
            if ((size_t) n < size && (eg_event_flags & EG_USE_CLEAR_EVENT)
                && !rev->pending_eof)
            {
                rev->ready = 0;
            }

            return n;
        }

        err = eg_socket_errno;

        if (err == EG_EINTR) {
            continue;
        }

        if (err == EG_EAGAIN) {
            rev->ready = 0;
            return EG_AGAIN;
        }

        rev->ready = 0;
        rev->error = 1;
        (void) eg_connection_error(c, err, "recv() failed");

        return EG_ERROR;
    }
}


ssize_t
eg_unix_send(eg_connection_t *c, u_char *buf, size_t size)
{
    ssize_t      n;
    eg_err_t     err;
    eg_event_t  *wev;

    wev = c->write;

    for ( ;; ) {
        n = send(c->fd, buf, size, MSG_NOSIGNAL);

        if (n > 0) {
            if ((size_t) n < size) {
                wev->ready = 0;
            }

            c->sent += n;
            return n;
        }

        err = eg_socket_errno;

        if (n == 0) {
            eg_log_error(EG_LOG_ALERT, c->log, err, "send() returned zero");
            wev->ready = 0;
            return n;
        }

        if (err == EG_EINTR) {
            continue;
        }

        if (err == EG_EAGAIN) {
            wev->ready = 0;
            return EG_AGAIN;
        }

        wev->error = 1;
        (void) eg_connection_error(c, err, "send() failed");

        return EG_ERROR;
    }
}


ssize_t
eg_udp_recvfrom(eg_connection_t *c, u_char *buf, size_t size,
    struct sockaddr *sa, socklen_t *socklen)
{
    ssize_t   n;
    eg_err_t  err;

    for ( ;; ) {
        n = recvfrom(c->fd, buf, size, MSG_TRUNC, sa, socklen);

        if (n >= 0) {
            return n;   /* more than size means the datagram was cut */
        }

        err = eg_socket_errno;

        if (err == EG_EINTR) {
            continue;
        }

        if (err == EG_EAGAIN) {
            c->read->ready = 0;
            return EG_AGAIN;
        }

        (void) eg_connection_error(c, err, "recvfrom() failed");

        return EG_ERROR;
    }
}


ssize_t
eg_udp_sendto(eg_connection_t *c, u_char *buf, size_t size,
    struct sockaddr *sa, socklen_t socklen)
{
    ssize_t   n;
    eg_err_t  err;

    for ( ;; ) {
        n = sendto(c->fd, buf, size, MSG_NOSIGNAL, sa, socklen);

        if (n >= 0) {
            c->sent += n;
            return n;
        }

        err = eg_socket_errno;

        if (err == EG_EINTR) {
            continue;
        }

        if (err == EG_EAGAIN) {
            c->write->ready = 0;
            return EG_AGAIN;
        }

        (void) eg_connection_error(c, err, "sendto() failed");

        return EG_ERROR;
    }
}
