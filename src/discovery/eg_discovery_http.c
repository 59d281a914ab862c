/*
 * The discovery HTTP client: one request per connection, in the cluster
 * process's event loop, for the methods that ask an API (Kubernetes, AWS
 * EC2 and its metadata service).
 *
 * A request goes through these phases, each driven by the connection's
 * events and bounded, all together, by one timer:
 *
 *     resolve      host names through eg_resolver (c-ares); an address
 *                  in the URL skips this
 *     connect      a non-blocking connect() to each address in turn
 *                  until one takes it
 *     handshake    TLS for https: the peer's certificate checked against
 *                  the CA file (or the system's), its name against the
 *                  host of the URL, SNI sent for names
 *     write        the request, "Connection: close"
 *     read         the response, parsed as it comes (by
 *                  eg_discovery_http_parse.c) until its framing says it
 *                  is whole, or the server closes the connection
 *
 * However it ends, the connection is closed at once and the caller's
 * handler runs from a timer of its own, never from inside
 * eg_dhttp_fetch(): callers may start a request from any handler without
 * being called back while they are still in it.  After the handler, the
 * request's pool goes, and the response with it.
 *
 * The TLS code is here, not in src/event/eg_event_openssl.c, because that
 * file is the server's and is built only with the HTTP TLS module; the
 * client needs the other half of OpenSSL anyway (verification, SNI).
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_gossip.h>
#include <eg_discovery.h>
#include <eg_discovery_http.h>
#include <eg_discovery_http_int.h>
#include <engram.h>

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>


#define EG_DHTTP_TIMEOUT        10000   /* ms, a request's timeout 0 */
#define EG_DHTTP_READ_SIZE      16384

/* the phases of a request */
#define EG_DHTTP_RESOLVE        0
#define EG_DHTTP_CONNECT        1
#define EG_DHTTP_HANDSHAKE      2
#define EG_DHTTP_WRITE          3
#define EG_DHTTP_READ           4


struct eg_dhttp_s {
    eg_pool_t             *pool;        /* the request's, and the answer's */
    eg_log_t              *log;
    eg_dhttp_handler_pt    handler;
    void                  *data;

    eg_dhttp_url_t         url;
    u_char                *host;        /* NUL-terminated, for OpenSSL */
    u_char                *out;         /* the request as sent */
    size_t                 out_len;
    size_t                 sent;
    u_char                *in;          /* what recv() fills */

    eg_resolver_query_t   *query;
    eg_addr_t             *addrs;       /* to connect to, in order */
    eg_uint_t              naddrs;
    eg_uint_t              next;        /* the one being tried */

    eg_connection_t       *connection;
    SSL_CTX               *ssl_ctx;
    SSL                   *ssl;

    eg_msec_t              timeout;
    eg_event_t             timer;       /* the deadline, then the answer */
    eg_uint_t              phase;       /* EG_DHTTP_RESOLVE, ... */
    eg_dhttp_parser_t      parser;

    eg_int_t               rc;          /* for the handler */
    u_char                 err[320];

    unsigned               finished:1;  /* the handler is due */
    unsigned               in_handler:1;
};


static eg_int_t eg_dhttp_request(eg_dhttp_t *h, eg_dhttp_request_t *req);
static eg_int_t eg_dhttp_ssl_create(eg_dhttp_t *h, eg_dhttp_request_t *req);
static void eg_dhttp_resolved(void *data, eg_int_t rc, eg_array_t *addrs,
    eg_msec_t ttl, const char *error);
static void eg_dhttp_connect(eg_dhttp_t *h);
static eg_int_t eg_dhttp_connect_peer(eg_dhttp_t *h, eg_addr_t *a);
static void eg_dhttp_io(eg_event_t *ev);
static void eg_dhttp_run(eg_dhttp_t *h);
static eg_int_t eg_dhttp_ssl_again(eg_dhttp_t *h, int n);
static void eg_dhttp_ssl_failed(eg_dhttp_t *h, const char *what, int n);
static const char *eg_dhttp_ssl_reason(void);
static void eg_dhttp_timeout(eg_event_t *ev);
static void eg_dhttp_error(eg_dhttp_t *h, eg_err_t err, const char *fmt,
    ...) EG_PRINTF(3, 4);
static void eg_dhttp_finish(eg_dhttp_t *h, eg_int_t rc);
static void eg_dhttp_answer(eg_event_t *ev);
static void eg_dhttp_close(eg_dhttp_t *h);
static void eg_dhttp_free(eg_dhttp_t *h);


/* the request */

eg_dhttp_t *
eg_dhttp_fetch(eg_dhttp_request_t *req, eg_resolver_t *resolver,
    eg_dhttp_handler_pt handler, void *data, eg_log_t *log)
{
    eg_str_t      url;
    eg_pool_t    *pool;
    const char   *err;
    eg_dhttp_t   *h;

    pool = eg_create_pool(4096, log);
    if (pool == NULL) {
        return NULL;
    }

    h = eg_pcalloc(pool, sizeof(eg_dhttp_t));
    if (h == NULL) {
        goto failed;
    }

    h->pool = pool;
    h->log = log;
    h->handler = handler;
    h->data = data;
    h->timeout = req->timeout ? req->timeout : EG_DHTTP_TIMEOUT;

    /* the URL's text is the caller's: the parts must outlive it */

    url.len = req->url.len;
    url.data = eg_pnalloc(pool, url.len + 1);
    if (url.data == NULL) {
        goto failed;
    }

    eg_memcpy(url.data, req->url.data, url.len);
    url.data[url.len] = '\0';

    if (eg_dhttp__parse_url(pool, &url, &h->url, &err) != EG_OK) {
        eg_log_error(EG_LOG_ERR, log, 0, "invalid URL \"" EG_STR_FMT "\": %s",
                     EG_STR_ARG(req->url), err);
        goto failed;
    }

    h->host = eg_pstrdup(pool, &h->url.host);
    if (h->host == NULL) {
        goto failed;
    }

    if (eg_dhttp_request(h, req) != EG_OK) {
        goto failed;
    }

    if (eg_dhttp__parser_init(&h->parser, pool, req->max_body,
                             eg_str_eq(&req->method, "HEAD"))
        != EG_OK)
    {
        goto failed;
    }

    h->in = eg_pnalloc(pool, EG_DHTTP_READ_SIZE);
    if (h->in == NULL) {
        goto failed;
    }

    if (!h->url.literal && resolver == NULL) {
        eg_log_error(EG_LOG_ERR, log, 0, "no resolver for \"%s\"", h->host);
        goto failed;
    }

    h->timer.handler = eg_dhttp_timeout;
    h->timer.data = h;
    h->timer.log = log;
    h->timer.cancelable = 1;

    eg_event_add_timer(&h->timer, h->timeout);

    /*
     * From here on a failure is the handler's to hear about, later:
     * a CA file that does not load is as much news as a refused connect.
     */

    if (h->url.ssl && eg_dhttp_ssl_create(h, req) != EG_OK) {
        eg_dhttp_finish(h, EG_ERROR);
        return h;
    }

    if (h->url.literal) {
        h->addrs = &h->url.addr;
        h->naddrs = 1;
        eg_dhttp_connect(h);
        return h;
    }

    h->phase = EG_DHTTP_RESOLVE;

    h->query = eg_resolve_host(resolver, &h->url.host, h->url.port,
                               eg_dhttp_resolved, h);

    if (h->query == NULL) {
        eg_log_error(EG_LOG_ERR, log, 0, "cannot resolve \"%s\"", h->host);
        eg_event_del_timer(&h->timer);
        goto failed;
    }

    return h;

failed:

    if (h && h->ssl_ctx) {
        SSL_CTX_free(h->ssl_ctx);
    }

    eg_destroy_pool(pool);

    return NULL;
}


void
eg_dhttp_cancel(eg_dhttp_t *h)
{
    if (h == NULL || h->in_handler) {
        /* from the handler itself: the pool goes when it returns */
        return;
    }

    eg_dhttp_close(h);

    if (h->timer.timer_set) {
        eg_event_del_timer(&h->timer);
    }

    eg_dhttp_free(h);
}


/* the request's bytes: the line, our headers, the caller's, the body */
static eg_int_t
eg_dhttp_request(eg_dhttp_t *h, eg_dhttp_request_t *req)
{
    u_char        *p;
    size_t         len;
    eg_uint_t      i, n, agent, length;
    eg_keyval_t   *kv;

    if (req->method.len == 0
        || !eg_dhttp__token(req->method.data, req->method.len))
    {
        eg_log_error(EG_LOG_ERR, h->log, 0, "invalid HTTP method \""
                     EG_STR_FMT "\"", EG_STR_ARG(req->method));
        return EG_ERROR;
    }

    kv = req->headers ? req->headers->elts : NULL;
    n = req->headers ? req->headers->nelts : 0;

    agent = 1;
    len = 0;

    for (i = 0; i < n; i++) {

        /* a CR or LF from a token file would forge headers */

        if (kv[i].key.len == 0
            || !eg_dhttp__token(kv[i].key.data, kv[i].key.len)
            || eg_strlchr(kv[i].value.data,
                          kv[i].value.data + kv[i].value.len, '\r')
            || eg_strlchr(kv[i].value.data,
                          kv[i].value.data + kv[i].value.len, '\n')
            || eg_strlchr(kv[i].value.data,
                          kv[i].value.data + kv[i].value.len, '\0'))
        {
            eg_log_error(EG_LOG_ERR, h->log, 0, "invalid HTTP header \""
                         EG_STR_FMT "\"", EG_STR_ARG(kv[i].key));
            return EG_ERROR;
        }

        if (kv[i].key.len == sizeof("User-Agent") - 1
            && eg_strncasecmp(kv[i].key.data, (u_char *) "User-Agent",
                              kv[i].key.len) == 0)
        {
            agent = 0;
        }

        len += kv[i].key.len + 2 + kv[i].value.len + 2;
    }

    /* a POST or PUT without a body still says so */

    length = req->body.len
             || eg_str_eq(&req->method, "POST")
             || eg_str_eq(&req->method, "PUT");

    len += req->method.len + 1 + h->url.path.len + sizeof(" HTTP/1.1\r\n") - 1
           + sizeof("Host: \r\n") - 1 + h->url.host_header.len
           + sizeof("User-Agent: " ENGRAM_VER "\r\n") - 1
           + sizeof("Content-Length: \r\n") - 1 + EG_INT_T_LEN
           + sizeof("Connection: close\r\n") - 1
           + 2 + req->body.len;

    h->out = eg_pnalloc(h->pool, len);
    if (h->out == NULL) {
        return EG_ERROR;
    }

    p = eg_cpymem(h->out, req->method.data, req->method.len);
    *p++ = ' ';
    p = eg_cpymem(p, h->url.path.data, h->url.path.len);
    p = eg_cpymem(p, " HTTP/1.1\r\nHost: ", sizeof(" HTTP/1.1\r\nHost: ") - 1);
    p = eg_cpymem(p, h->url.host_header.data, h->url.host_header.len);
    *p++ = '\r'; *p++ = '\n';

    if (agent) {
        p = eg_cpymem(p, "User-Agent: " ENGRAM_VER "\r\n",
                      sizeof("User-Agent: " ENGRAM_VER "\r\n") - 1);
    }

    if (length) {
        p = eg_cpymem(p, "Content-Length: ", sizeof("Content-Length: ") - 1);
        p = eg_sprint_uint(p, req->body.len);
        *p++ = '\r'; *p++ = '\n';
    }

    p = eg_cpymem(p, "Connection: close\r\n",
                  sizeof("Connection: close\r\n") - 1);

    for (i = 0; i < n; i++) {
        p = eg_cpymem(p, kv[i].key.data, kv[i].key.len);
        *p++ = ':'; *p++ = ' ';
        p = eg_cpymem(p, kv[i].value.data, kv[i].value.len);
        *p++ = '\r'; *p++ = '\n';
    }

    *p++ = '\r'; *p++ = '\n';

    if (req->body.len) {
        p = eg_cpymem(p, req->body.data, req->body.len);
    }

    h->out_len = (size_t) (p - h->out);

    return EG_OK;
}


/*
 * A context per request: it costs a CA file read, once per discovery
 * round, and a CA bundle replaced on disk is picked up by the next round.
 */
static eg_int_t
eg_dhttp_ssl_create(eg_dhttp_t *h, eg_dhttp_request_t *req)
{
    u_char   *file;
    SSL_CTX  *ctx;

    ERR_clear_error();

    ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL) {
        eg_dhttp_error(h, 0, "SSL_CTX_new() failed");
        return EG_ERROR;
    }

    h->ssl_ctx = ctx;

    (void) SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);

    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
                             /*
                              * Servers that close without close_notify
                              * are common; the body's framing says
                              * whether the answer is whole.
                              */
                             | SSL_OP_IGNORE_UNEXPECTED_EOF
#endif
                             );

    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                          | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    if (!req->verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return EG_OK;
    }

    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

    if (req->ca_file.len == 0) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            eg_dhttp_error(h, 0, "cannot load the system's CA "
                           "certificates (%s)", eg_dhttp_ssl_reason());
            return EG_ERROR;
        }

        return EG_OK;
    }

    file = eg_pstrdup(h->pool, &req->ca_file);
    if (file == NULL) {
        eg_dhttp_error(h, 0, "out of memory");
        return EG_ERROR;
    }

    /* errno says more than OpenSSL's queue about a missing file */

    if (access((char *) file, R_OK) == -1) {
        eg_dhttp_error(h, eg_errno, "cannot read the CA file \"%s\"", file);
        return EG_ERROR;
    }

    if (SSL_CTX_load_verify_locations(ctx, (char *) file, NULL) != 1) {
        eg_dhttp_error(h, 0, "no CA certificate in \"%s\" (%s)", file,
                       eg_dhttp_ssl_reason());
        return EG_ERROR;
    }

    return EG_OK;
}


static void
eg_dhttp_resolved(void *data, eg_int_t rc, eg_array_t *addrs, eg_msec_t ttl,
    const char *error)
{
    eg_dhttp_t  *h = data;

    eg_uint_t        i;
    eg_swim_addr_t  *a;

    eg_unused(ttl);

    h->query = NULL;

    if (rc != EG_OK) {
        eg_dhttp_error(h, 0, "cannot resolve \"%s\": %s", h->host,
                       error ? error : "failed");
        eg_dhttp_finish(h, EG_ERROR);
        return;
    }

    if (addrs == NULL || addrs->nelts == 0) {
        eg_dhttp_error(h, 0, "\"%s\" has no address", h->host);
        eg_dhttp_finish(h, EG_ERROR);
        return;
    }

    /* the answer lives in the query's pool: keep our own copy */

    h->addrs = eg_pcalloc(h->pool, addrs->nelts * sizeof(eg_addr_t));
    if (h->addrs == NULL) {
        eg_dhttp_error(h, 0, "out of memory");
        eg_dhttp_finish(h, EG_ERROR);
        return;
    }

    a = addrs->elts;

    for (i = 0; i < addrs->nelts; i++) {
        if (eg_gossip_sockaddr(&a[i], &h->addrs[h->naddrs].sa,
                               &h->addrs[h->naddrs].socklen)
            != EG_OK)
        {
            continue;
        }

        /* the port is the URL's whatever the resolver put there */
        eg_inet_set_port(&h->addrs[h->naddrs].sa.sockaddr, h->url.port);

        if (eg_addr_set_name(h->pool, &h->addrs[h->naddrs]) != EG_OK) {
            eg_dhttp_error(h, 0, "out of memory");
            eg_dhttp_finish(h, EG_ERROR);
            return;
        }

        h->naddrs++;
    }

    if (h->naddrs == 0) {
        eg_dhttp_error(h, 0, "\"%s\" has no usable address", h->host);
        eg_dhttp_finish(h, EG_ERROR);
        return;
    }

    eg_dhttp_connect(h);
}


/* the addresses in turn, from h->next, until one connects or is pending */
static void
eg_dhttp_connect(eg_dhttp_t *h)
{
    eg_int_t  rc;

    h->phase = EG_DHTTP_CONNECT;

    for ( /* void */ ; h->next < h->naddrs; h->next++) {

        rc = eg_dhttp_connect_peer(h, &h->addrs[h->next]);

        if (rc == EG_AGAIN) {
            return;
        }

        if (rc == EG_OK) {
            h->phase = h->ssl_ctx ? EG_DHTTP_HANDSHAKE : EG_DHTTP_WRITE;
            eg_dhttp_run(h);
            return;
        }

        if (rc == EG_ERROR) {
            break;
        }

        /* EG_DECLINED: h->err says why; the next address may do */
    }

    eg_dhttp_finish(h, EG_ERROR);
}


/*
 * Our own connect() rather than eg_event_connect_peer(): a refusal is
 * the caller's news, errno and all, not only a line in the log.
 */
static eg_int_t
eg_dhttp_connect_peer(eg_dhttp_t *h, eg_addr_t *a)
{
    int               s, rc;
    SSL              *ssl;
    eg_err_t          err;
    eg_connection_t  *c;

    s = socket(a->sa.sockaddr.sa_family,
               SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);

    if (s == -1) {
        eg_dhttp_error(h, eg_socket_errno, "socket() failed");
        return EG_ERROR;
    }

    if (SOCK_NONBLOCK == 0 && eg_nonblocking(s) != EG_OK) {
        eg_dhttp_error(h, eg_socket_errno, "fcntl(O_NONBLOCK) failed");
        (void) close(s);
        return EG_ERROR;
    }

    c = eg_get_connection(s, h->log);

    if (c == NULL) {
        eg_dhttp_error(h, 0, "no free connection for %s",
                       a->name.data);
        (void) close(s);
        return EG_ERROR;
    }

    c->data = h;
    c->type = SOCK_STREAM;
    c->recv = eg_unix_recv;
    c->send = eg_unix_send;
    c->read->handler = eg_dhttp_io;
    c->write->handler = eg_dhttp_io;
    c->read->log = h->log;
    c->write->log = h->log;
    c->number = eg_connection_counter++;
    c->start_time = eg_current_msec;
    c->addr_text = a->name;

    h->connection = c;

    if (eg_add_conn && eg_add_conn(c) == EG_ERROR) {
        eg_dhttp_error(h, 0, "cannot watch the connection to %s",
                       a->name.data);
        eg_dhttp_close(h);
        return EG_ERROR;
    }

    rc = connect(s, &a->sa.sockaddr, a->socklen);

    if (rc == -1) {
        err = eg_socket_errno;

        if (err != EG_EINPROGRESS) {
            eg_dhttp_error(h, err, "connect() to %s failed", a->name.data);
            eg_dhttp_close(h);
            return EG_DECLINED;
        }

        if (!eg_add_conn
            && eg_add_event(c->write, EG_WRITE_EVENT, 0) != EG_OK)
        {
            eg_dhttp_error(h, 0, "cannot watch the connection to %s",
                           a->name.data);
            eg_dhttp_close(h);
            return EG_ERROR;
        }
    }

    if (h->ssl_ctx) {
        ERR_clear_error();

        ssl = SSL_new(h->ssl_ctx);

        if (ssl == NULL || SSL_set_fd(ssl, s) != 1) {
            SSL_free(ssl);
            eg_dhttp_error(h, 0, "SSL_new() failed");
            eg_dhttp_close(h);
            return EG_ERROR;
        }

        h->ssl = ssl;

        SSL_set_connect_state(ssl);

        /* RFC 6066: no SNI for an address; a name is checked by name */

        if (!h->url.literal
            && SSL_set_tlsext_host_name(ssl, (char *) h->host) != 1)
        {
            eg_dhttp_error(h, 0, "SSL_set_tlsext_host_name() failed");
            eg_dhttp_close(h);
            return EG_ERROR;
        }

        if (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) {
            if (h->url.literal
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
                                                (char *) h->host) != 1
                : SSL_set1_host(ssl, (char *) h->host) != 1)
            {
                eg_dhttp_error(h, 0, "cannot check the certificate of "
                               "\"%s\"", h->host);
                eg_dhttp_close(h);
                return EG_ERROR;
            }
        }
    }

    if (rc == -1) {
        return EG_AGAIN;
    }

    c->write->ready = 1;

    return EG_OK;
}


static void
eg_dhttp_io(eg_event_t *ev)
{
    int               err;
    socklen_t         len;
    eg_dhttp_t       *h;
    eg_connection_t  *c;

    c = ev->data;
    h = c->data;

    if (h->phase != EG_DHTTP_CONNECT) {
        eg_dhttp_run(h);
        return;
    }

    /* connecting: a write event, or an error, says how it went */

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = eg_socket_errno;
    }

    if (err) {
        eg_dhttp_error(h, err, "connect() to %s failed",
                       h->addrs[h->next].name.data);
        eg_dhttp_close(h);
        h->next++;
        eg_dhttp_connect(h);
        return;
    }

    if (!ev->write) {
        return;
    }

    h->phase = h->ssl ? EG_DHTTP_HANDSHAKE : EG_DHTTP_WRITE;

    eg_dhttp_run(h);
}


/* as far as the socket lets it go: handshake, request, response */
static void
eg_dhttp_run(eg_dhttp_t *h)
{
    int               n, sslerr;
    ssize_t           got;
    eg_int_t          rc;
    eg_err_t          err;
    eg_connection_t  *c;

    c = h->connection;

    for ( ;; ) {

        switch (h->phase) {

        case EG_DHTTP_HANDSHAKE:

            ERR_clear_error();

            n = SSL_do_handshake(h->ssl);

            if (n == 1) {
                h->phase = EG_DHTTP_WRITE;
                break;
            }

            if (eg_dhttp_ssl_again(h, n) == EG_AGAIN) {
                return;
            }

            eg_dhttp_ssl_failed(h, "SSL handshake", n);
            eg_dhttp_finish(h, EG_ERROR);
            return;

        case EG_DHTTP_WRITE:

            while (h->sent < h->out_len) {

                if (h->ssl) {
                    ERR_clear_error();

                    n = SSL_write(h->ssl, h->out + h->sent,
                                  (int) eg_min(h->out_len - h->sent,
                                               (size_t) INT_MAX));

                    if (n > 0) {
                        h->sent += (size_t) n;
                        continue;
                    }

                    if (eg_dhttp_ssl_again(h, n) == EG_AGAIN) {
                        return;
                    }

                    eg_dhttp_ssl_failed(h, "SSL_write()", n);
                    eg_dhttp_finish(h, EG_ERROR);
                    return;
                }

                got = send(c->fd, h->out + h->sent, h->out_len - h->sent,
                           MSG_NOSIGNAL);

                if (got >= 0) {
                    h->sent += (size_t) got;
                    continue;
                }

                err = eg_socket_errno;

                if (err == EG_EINTR) {
                    continue;
                }

                if (err == EG_EAGAIN) {
                    c->write->ready = 0;

                    if (eg_handle_write_event(c->write) != EG_OK) {
                        eg_dhttp_error(h, 0, "cannot watch the "
                                       "connection");
                        eg_dhttp_finish(h, EG_ERROR);
                    }

                    return;
                }

                eg_dhttp_error(h, err, "send() to " EG_STR_FMT " failed",
                               EG_STR_ARG(c->addr_text));
                eg_dhttp_finish(h, EG_ERROR);
                return;
            }

            /* level-triggered modules: stop waking up for writes */

            if (eg_handle_write_event(c->write) != EG_OK) {
                eg_dhttp_error(h, 0, "cannot watch the connection");
                eg_dhttp_finish(h, EG_ERROR);
                return;
            }

            h->phase = EG_DHTTP_READ;
            break;

        case EG_DHTTP_READ:

            if (h->ssl) {
                ERR_clear_error();
                eg_set_errno(0);

                n = SSL_read(h->ssl, h->in, EG_DHTTP_READ_SIZE);

                if (n <= 0) {
                    if (eg_dhttp_ssl_again(h, n) == EG_AGAIN) {
                        return;
                    }

                    /*
                     * A close, with close_notify or without: the
                     * parser knows whether the answer is whole.
                     */

                    sslerr = SSL_get_error(h->ssl, n);

                    if (sslerr != SSL_ERROR_ZERO_RETURN
                        && (ERR_peek_error() != 0
                            || (sslerr == SSL_ERROR_SYSCALL
                                && eg_socket_errno != 0)))
                    {
                        eg_dhttp_ssl_failed(h, "SSL_read()", n);
                        eg_dhttp_finish(h, EG_ERROR);
                        return;
                    }

                    n = 0;
                }

                got = n;

            } else {
                got = recv(c->fd, h->in, EG_DHTTP_READ_SIZE, 0);

                if (got == -1) {
                    err = eg_socket_errno;

                    if (err == EG_EINTR) {
                        break;
                    }

                    if (err == EG_EAGAIN) {
                        c->read->ready = 0;

                        if (eg_handle_read_event(c->read, 0) != EG_OK) {
                            eg_dhttp_error(h, 0, "cannot watch the "
                                           "connection");
                            eg_dhttp_finish(h, EG_ERROR);
                        }

                        return;
                    }

                    eg_dhttp_error(h, err, "recv() from " EG_STR_FMT
                                   " failed", EG_STR_ARG(c->addr_text));
                    eg_dhttp_finish(h, EG_ERROR);
                    return;
                }
            }

            if (got == 0) {
                rc = eg_dhttp__parse_eof(&h->parser);

            } else {
                rc = eg_dhttp__parse(&h->parser, h->in, (size_t) got);

                if (rc == EG_AGAIN) {
                    break;
                }
            }

            if (rc == EG_ERROR) {
                eg_dhttp_error(h, 0, "bad response from " EG_STR_FMT ": %s",
                               EG_STR_ARG(h->url.authority),
                               h->parser.err);
            }

            eg_dhttp_finish(h, rc);
            return;

        default:
            return;
        }
    }
}


/* EG_AGAIN with the event armed that OpenSSL waits for, or EG_ERROR */
static eg_int_t
eg_dhttp_ssl_again(eg_dhttp_t *h, int n)
{
    int               sslerr;
    eg_connection_t  *c;

    c = h->connection;

    sslerr = SSL_get_error(h->ssl, n);

    if (sslerr == SSL_ERROR_WANT_READ) {
        c->read->ready = 0;

        if (eg_handle_read_event(c->read, 0) != EG_OK) {
            return EG_ERROR;
        }

        return EG_AGAIN;
    }

    if (sslerr == SSL_ERROR_WANT_WRITE) {
        c->write->ready = 0;

        if (eg_handle_write_event(c->write) != EG_OK) {
            return EG_ERROR;
        }

        return EG_AGAIN;
    }

    return EG_ERROR;
}


/* why OpenSSL gave up, as a sentence: the certificate first */
static void
eg_dhttp_ssl_failed(eg_dhttp_t *h, const char *what, int n)
{
    int        sslerr;
    long       verify;
    eg_err_t   err;

    sslerr = SSL_get_error(h->ssl, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? eg_socket_errno : 0;

    verify = SSL_get_verify_result(h->ssl);

    if (verify != X509_V_OK) {
        eg_dhttp_error(h, 0, "%s with " EG_STR_FMT " failed: certificate "
                       "verify failed (%s)", what,
                       EG_STR_ARG(h->url.authority),
                       X509_verify_cert_error_string(verify));

    } else if (ERR_peek_last_error() != 0) {
        eg_dhttp_error(h, 0, "%s with " EG_STR_FMT " failed: %s", what,
                       EG_STR_ARG(h->url.authority), eg_dhttp_ssl_reason());

    } else if (err) {
        eg_dhttp_error(h, err, "%s with " EG_STR_FMT " failed", what,
                       EG_STR_ARG(h->url.authority));

    } else {
        eg_dhttp_error(h, 0, "%s with " EG_STR_FMT " failed: the server "
                       "closed the connection", what,
                       EG_STR_ARG(h->url.authority));
    }

    ERR_clear_error();
}


/* OpenSSL's last word, as words ("wrong version number"); the queue goes */
static const char *
eg_dhttp_ssl_reason(void)
{
    const char     *reason;
    unsigned long   e;

    e = ERR_peek_last_error();
    reason = e ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();

    return reason ? reason : "unknown reason";
}


static void
eg_dhttp_timeout(eg_event_t *ev)
{
    eg_dhttp_t  *h;
    const char  *doing;

    h = ev->data;

    switch (h->phase) {
    case EG_DHTTP_RESOLVE:
        doing = "resolving the host";
        break;
    case EG_DHTTP_CONNECT:
        doing = "connecting";
        break;
    case EG_DHTTP_HANDSHAKE:
        doing = "in the SSL handshake";
        break;
    case EG_DHTTP_WRITE:
        doing = "sending the request";
        break;
    default:
        doing = "waiting for the response";
        break;
    }

    eg_dhttp_error(h, 0, EG_STR_FMT " timed out after %lums "
                   "%s", EG_STR_ARG(h->url.authority),
                   (unsigned long) h->timeout, doing);

    eg_dhttp_finish(h, EG_ERROR);
}


static void
eg_dhttp_error(eg_dhttp_t *h, eg_err_t err, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    last = h->err + sizeof(h->err);

    va_start(args, fmt);
    p = eg_vslprintf(h->err, last, fmt, args);
    va_end(args);

    if (err) {
        (void) eg_log_errno(p, last, err);
    }
}


/* the connection goes now; the handler runs from the timer, soon */
static void
eg_dhttp_finish(eg_dhttp_t *h, eg_int_t rc)
{
    if (h->finished) {
        return;
    }

    h->finished = 1;
    h->rc = rc;

    eg_dhttp_close(h);

    if (h->timer.timer_set) {
        eg_event_del_timer(&h->timer);
    }

    h->timer.handler = eg_dhttp_answer;
    eg_event_add_timer(&h->timer, 0);
}


static void
eg_dhttp_answer(eg_event_t *ev)
{
    eg_dhttp_t  *h;

    h = ev->data;

    h->in_handler = 1;

    if (h->rc == EG_OK) {
        h->handler(h->data, EG_OK, &h->parser.res, NULL);

    } else {
        h->handler(h->data, EG_ERROR, NULL, (const char *) h->err);
    }

    eg_dhttp_free(h);
}


static void
eg_dhttp_close(eg_dhttp_t *h)
{
    if (h->query) {
        eg_resolve_cancel(h->query);
        h->query = NULL;
    }

    if (h->ssl) {
        /* a best-effort close_notify: nobody waits for the peer's */
        if (h->phase > EG_DHTTP_HANDSHAKE) {
            ERR_clear_error();
            (void) SSL_shutdown(h->ssl);
        }

        ERR_clear_error();
        SSL_free(h->ssl);
        h->ssl = NULL;
    }

    if (h->connection) {
        eg_close_connection(h->connection);
        h->connection = NULL;
    }
}


static void
eg_dhttp_free(eg_dhttp_t *h)
{
    if (h->ssl_ctx) {
        SSL_CTX_free(h->ssl_ctx);
        h->ssl_ctx = NULL;
    }

    eg_destroy_pool(h->pool);
}
