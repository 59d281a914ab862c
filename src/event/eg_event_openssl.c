/*
 * OpenSSL glue.  Everything here is non-blocking: SSL_do_handshake(),
 * SSL_read() and SSL_write() report WANT_READ or WANT_WRITE, which become
 * EG_AGAIN and an event to wait for.  Renegotiation is off, so reads only
 * ever wait for reads and writes for writes.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_event_openssl.h>


static void eg_ssl_handshake_handler(eg_event_t *ev);
static void eg_ssl_ctx_cleanup(void *data);


eg_int_t
eg_ssl_init(eg_log_t *log)
{
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) == 0) {
        eg_ssl_error(EG_LOG_ALERT, log, 0, "OPENSSL_init_ssl() failed");
        return EG_ERROR;
    }

    ERR_clear_error();

    return EG_OK;
}


eg_int_t
eg_ssl_create(eg_ssl_t *ssl, eg_uint_t protocols, eg_pool_t *pool)
{
    eg_pool_cleanup_t  *cln;

    ssl->ctx = SSL_CTX_new(TLS_server_method());

    if (ssl->ctx == NULL) {
        eg_ssl_error(EG_LOG_EMERG, ssl->log, 0, "SSL_CTX_new() failed");
        return EG_ERROR;
    }

    cln = eg_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        SSL_CTX_free(ssl->ctx);
        ssl->ctx = NULL;
        return EG_ERROR;
    }

    cln->handler = eg_ssl_ctx_cleanup;
    cln->data = ssl;

    /* the two protocols we speak; anything older is refused */

    (void) SSL_CTX_set_min_proto_version(ssl->ctx,
                                         (protocols & EG_SSL_TLSv1_2)
                                         ? TLS1_2_VERSION : TLS1_3_VERSION);
    (void) SSL_CTX_set_max_proto_version(ssl->ctx,
                                         (protocols & EG_SSL_TLSv1_3)
                                         ? TLS1_3_VERSION : TLS1_2_VERSION);

    SSL_CTX_set_options(ssl->ctx, SSL_OP_NO_RENEGOTIATION
                                  | SSL_OP_CIPHER_SERVER_PREFERENCE
                                  | SSL_OP_NO_COMPRESSION);

    /* partial writes, resumed from wherever our buffer has moved */

    SSL_CTX_set_mode(ssl->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                               | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                               | SSL_MODE_RELEASE_BUFFERS);

    SSL_CTX_set_read_ahead(ssl->ctx, 1);

    return EG_OK;
}


static void
eg_ssl_ctx_cleanup(void *data)
{
    eg_ssl_t  *ssl = data;

    if (ssl->ctx) {
        SSL_CTX_free(ssl->ctx);
        ssl->ctx = NULL;
    }
}


/* read at configuration time, so every reload reads the files again */
eg_int_t
eg_ssl_certificate(eg_conf_t *cf, eg_ssl_t *ssl, eg_str_t *cert,
    eg_str_t *key)
{
    if (SSL_CTX_use_certificate_chain_file(ssl->ctx, (char *) cert->data)
        != 1)
    {
        eg_ssl_conf_error(cf, "cannot load certificate \"%s\"", cert->data);
        return EG_ERROR;
    }

    if (SSL_CTX_use_PrivateKey_file(ssl->ctx, (char *) key->data,
                                    SSL_FILETYPE_PEM)
        != 1)
    {
        eg_ssl_conf_error(cf, "cannot load certificate key \"%s\"",
                          key->data);
        return EG_ERROR;
    }

    if (SSL_CTX_check_private_key(ssl->ctx) != 1) {
        eg_ssl_conf_error(cf, "certificate \"%s\" and key \"%s\" do not "
                          "match", cert->data, key->data);
        return EG_ERROR;
    }

    return EG_OK;
}


eg_int_t
eg_ssl_ciphers(eg_conf_t *cf, eg_ssl_t *ssl, eg_str_t *ciphers)
{
    if (SSL_CTX_set_cipher_list(ssl->ctx, (char *) ciphers->data) != 1) {
        eg_ssl_conf_error(cf, "invalid \"ssl_ciphers\" \"%s\"",
                          ciphers->data);
        return EG_ERROR;
    }

    return EG_OK;
}


eg_int_t
eg_ssl_create_connection(eg_ssl_t *ssl, eg_connection_t *c)
{
    eg_ssl_connection_t  *sc;

    sc = eg_pcalloc(c->pool, sizeof(eg_ssl_connection_t));
    if (sc == NULL) {
        return EG_ERROR;
    }

    sc->connection = SSL_new(ssl->ctx);

    if (sc->connection == NULL) {
        eg_ssl_error(EG_LOG_ALERT, c->log, 0, "SSL_new() failed");
        return EG_ERROR;
    }

    if (SSL_set_fd(sc->connection, c->fd) == 0) {
        eg_ssl_error(EG_LOG_ALERT, c->log, 0, "SSL_set_fd() failed");
        SSL_free(sc->connection);
        return EG_ERROR;
    }

    SSL_set_accept_state(sc->connection);

    c->ssl = sc;

    return EG_OK;
}


eg_int_t
eg_ssl_handshake(eg_connection_t *c)
{
    int                   n, sslerr;
    eg_err_t              err;
    eg_ssl_connection_t  *sc;

    sc = c->ssl;

    ERR_clear_error();

    n = SSL_do_handshake(sc->connection);

    if (n == 1) {
        sc->handshaked = 1;
        c->recv = eg_ssl_recv;
        c->send = eg_ssl_send;
        return EG_OK;
    }

    sslerr = SSL_get_error(sc->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? eg_errno : 0;

    if (sslerr == SSL_ERROR_WANT_READ || sslerr == SSL_ERROR_WANT_WRITE) {
        c->read->ready = 0;

        c->read->handler = eg_ssl_handshake_handler;
        c->write->handler = eg_ssl_handshake_handler;

        if (sslerr == SSL_ERROR_WANT_READ) {
            if (eg_handle_read_event(c->read, 0) != EG_OK) {
                return EG_ERROR;
            }

        } else {
            c->write->ready = 0;

            if (eg_handle_write_event(c->write) != EG_OK) {
                return EG_ERROR;
            }
        }

        return EG_AGAIN;
    }

    c->read->eof = 1;

    if (sslerr == SSL_ERROR_ZERO_RETURN || ERR_peek_error() == 0) {
        eg_log_error(EG_LOG_INFO, c->log, err,
                     "peer closed connection in SSL handshake");
        return EG_ERROR;
    }

    /* plain HTTP to a TLS port, old clients, junk: the client's problem */
    eg_ssl_error(EG_LOG_INFO, c->log, err, "SSL_do_handshake() failed");

    return EG_ERROR;
}


static void
eg_ssl_handshake_handler(eg_event_t *ev)
{
    eg_int_t              rc;
    eg_connection_t      *c;
    eg_ssl_connection_t  *sc;

    c = ev->data;
    sc = c->ssl;

    if (ev->timedout) {
        eg_log_error(EG_LOG_INFO, c->log, EG_ETIMEDOUT,
                     "client timed out in SSL handshake");
        c->timedout = 1;
        c->ssl_failed = 1;
        sc->handler(c);
        return;
    }

    rc = eg_ssl_handshake(c);

    if (rc == EG_AGAIN) {
        return;
    }

    if (rc == EG_ERROR) {
        c->ssl_failed = 1;
    }

    sc->handler(c);
}


ssize_t
eg_ssl_recv(eg_connection_t *c, u_char *buf, size_t size)
{
    int                   n, sslerr;
    eg_err_t              err;
    eg_ssl_connection_t  *sc;

    sc = c->ssl;

    ERR_clear_error();

    n = SSL_read(sc->connection, buf, (int) eg_min(size, (size_t) INT_MAX));

    if (n > 0) {
        return n;
    }

    sslerr = SSL_get_error(sc->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? eg_errno : 0;

    if (sslerr == SSL_ERROR_WANT_READ || sslerr == SSL_ERROR_WANT_WRITE) {
        c->read->ready = 0;
        return EG_AGAIN;
    }

    c->read->ready = 0;
    c->read->eof = 1;

    if (sslerr == SSL_ERROR_ZERO_RETURN || ERR_peek_error() == 0) {
        return 0;   /* a close, clean or not */
    }

    c->read->error = 1;
    eg_ssl_error(EG_LOG_INFO, c->log, err, "SSL_read() failed");

    return EG_ERROR;
}


ssize_t
eg_ssl_send(eg_connection_t *c, u_char *buf, size_t size)
{
    int                   n, sslerr;
    eg_err_t              err;
    eg_ssl_connection_t  *sc;

    sc = c->ssl;

    if (size == 0) {
        return 0;
    }

    ERR_clear_error();

    n = SSL_write(sc->connection, buf, (int) eg_min(size, (size_t) INT_MAX));

    if (n > 0) {
        c->sent += n;
        return n;
    }

    sslerr = SSL_get_error(sc->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? eg_errno : 0;

    if (sslerr == SSL_ERROR_WANT_WRITE || sslerr == SSL_ERROR_WANT_READ) {
        c->write->ready = 0;
        return EG_AGAIN;
    }

    c->write->error = 1;
    eg_ssl_error(EG_LOG_INFO, c->log, err, "SSL_write() failed");

    return EG_ERROR;
}


/* a best-effort close_notify; nobody waits for the peer's */
void
eg_ssl_shutdown(eg_connection_t *c)
{
    eg_ssl_connection_t  *sc;

    sc = c->ssl;

    if (sc == NULL || sc->connection == NULL) {
        return;
    }

    if (sc->handshaked && !c->error && !c->timedout) {
        ERR_clear_error();
        (void) SSL_shutdown(sc->connection);
    }

    ERR_clear_error();

    SSL_free(sc->connection);
    sc->connection = NULL;
    c->ssl = NULL;
}


/* OpenSSL's reasons appended to the message */
static u_char *
eg_ssl_reasons(u_char *p, u_char *last)
{
    u_char         *start;
    char            buf[256];
    unsigned long   n;

    start = p;

    while ((n = ERR_get_error()) != 0) {
        ERR_error_string_n(n, buf, sizeof(buf));
        p = eg_slprintf(p, last, "%s%s)", p > start ? " (SSL: " : " (SSL: ",
                        buf);
    }

    return p;
}


/* a configuration error: says where, as every config error does */
void
eg_ssl_conf_error(eg_conf_t *cf, const char *fmt, ...)
{
    u_char   errstr[EG_MAX_CONF_ERRSTR], *p, *last;
    va_list  args;

    last = errstr + sizeof(errstr);

    va_start(args, fmt);
    p = eg_vslprintf(errstr, last, fmt, args);
    va_end(args);

    (void) eg_ssl_reasons(p, last);

    eg_conf_log_error(EG_LOG_EMERG, cf, 0, "%s", errstr);
}


void
eg_ssl_error(eg_uint_t level, eg_log_t *log, eg_err_t err,
    const char *fmt, ...)
{
    u_char         errstr[EG_MAX_CONF_ERRSTR], *p, *last;
    va_list        args;

    if (log->log_level < level) {
        ERR_clear_error();
        return;
    }

    last = errstr + sizeof(errstr);

    va_start(args, fmt);
    p = eg_vslprintf(errstr, last, fmt, args);
    va_end(args);

    /* OpenSSL's queue says why; the first entry is usually the cause */
    (void) eg_ssl_reasons(p, last);

    eg_log_error(level, log, err, "%s", errstr);
}
