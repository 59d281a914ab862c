/*
 * The life of an HTTP connection: wait for a request, read and parse its
 * header (growing the buffer within the configured limits), run it
 * through the phases, write the response, then keep the connection alive
 * for the next request (pipelined bytes already read are kept) or close.
 *
 * Buffers: each connection has a small buffer of client_header_buffer_size
 * for the common case.  A longer request line or header grows into large
 * buffers taken from the request's pool, at most large_client_header_
 * buffers of them; an element longer than one large buffer is refused
 * with 414 (request line) or 431 (header).
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>

#if (EG_HTTP_SSL)
#include <eg_http_ssl_module.h>
#endif


static void eg_http_wait_request_handler(eg_event_t *ev);
#if (EG_HTTP_SSL)
static void eg_http_ssl_handshake(eg_event_t *rev);
static void eg_http_ssl_handshake_done(eg_connection_t *c);
#endif
static eg_http_request_t *eg_http_create_request(eg_connection_t *c);
static void eg_http_process_request_line(eg_event_t *rev);
static void eg_http_process_request_headers(eg_event_t *rev);
static ssize_t eg_http_read_request_header(eg_http_request_t *r);
static eg_int_t eg_http_alloc_large_header_buffer(eg_http_request_t *r,
    eg_uint_t request_line);
static eg_int_t eg_http_process_request_uri(eg_http_request_t *r);
static eg_int_t eg_http_process_header(eg_http_request_t *r,
    eg_table_elt_t *h);
static eg_int_t eg_http_process_request_header(eg_http_request_t *r);
static void eg_http_process_request(eg_http_request_t *r);
static void eg_http_request_handler(eg_event_t *ev);
static void eg_http_block_reading(eg_http_request_t *r);
static void eg_http_writer(eg_http_request_t *r);
static void eg_http_request_done(eg_http_request_t *r);
static void eg_http_set_keepalive(eg_http_request_t *r);
static void eg_http_run_log_phase(eg_http_request_t *r);
static void eg_http_free_request(eg_http_request_t *r);
static void eg_http_close_request(eg_http_request_t *r);
static void eg_http_empty_handler(eg_event_t *wev);
static u_char *eg_http_log_error(eg_log_t *log, u_char *buf, size_t len);


/*
 * How long a keep-alive connection idle at a graceful shutdown may still
 * bring a request: long enough for one already on its way, short enough
 * that an old worker does not linger (a client quiet for longer is as
 * likely to find the connection closed as it would be at any time).
 */
#define EG_HTTP_SHUTDOWN_GRACE  1000


static uint64_t
eg_http_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

#define eg_http_core_srv_conf_of(c)                                          \
    ((eg_http_core_srv_conf_t *)                                             \
     ((eg_http_addr_conf_t *) ((eg_http_connection_t *) (c))->addr_conf)     \
         ->default_server->ctx->srv_conf[eg_http_core_module.ctx_index])


void
eg_http_init_connection(eg_connection_t *c)
{
    eg_event_t               *rev;
    eg_http_connection_t     *hc;
    eg_http_core_srv_conf_t  *cscf;

    hc = eg_pcalloc(c->pool, sizeof(eg_http_connection_t));
    if (hc == NULL) {
        eg_http_close_connection(c);
        return;
    }

    hc->addr_conf = c->listening->servers;
    hc->connection = c;
    c->data = hc;

    eg_metric_inc(eg_http_stats.accepted, 1);
    eg_metric_inc(eg_http_stats.active, 1);
    eg_http_stat_state(hc, EG_HTTP_STAT_WAITING);

    c->log->handler = eg_http_log_error;
    c->log->data = hc;
    c->log->action = "waiting for request";

    rev = c->read;
    rev->handler = eg_http_wait_request_handler;
    c->write->handler = eg_http_empty_handler;

    cscf = eg_http_core_srv_conf_of(hc);

#if (EG_HTTP_SSL)
    if (((eg_http_addr_conf_t *) hc->addr_conf)->ssl) {
        if (eg_ssl_create_connection(eg_http_ssl_server(cscf), c) != EG_OK)
        {
            eg_http_close_connection(c);
            return;
        }

        c->log->action = "SSL handshaking";
        ((eg_ssl_connection_t *) c->ssl)->handler =
                                                eg_http_ssl_handshake_done;
        rev->handler = eg_http_ssl_handshake;
    }
#endif

    eg_event_add_timer(rev, cscf->client_header_timeout);
    eg_reusable_connection(c, 1);

    if (eg_handle_read_event(rev, 0) != EG_OK) {
        eg_http_close_connection(c);
        return;
    }
}


#if (EG_HTTP_SSL)

/* the first bytes of a TLS connection: start the handshake */
static void
eg_http_ssl_handshake(eg_event_t *rev)
{
    eg_int_t          rc;
    eg_connection_t  *c;

    c = rev->data;

    if (rev->timedout) {
        eg_log_error(EG_LOG_INFO, c->log, EG_ETIMEDOUT,
                     "client timed out in SSL handshake");
        eg_http_close_connection(c);
        return;
    }

    if (c->close) {
        eg_http_close_connection(c);
        return;
    }

    rc = eg_ssl_handshake(c);

    if (rc == EG_AGAIN) {
        return;     /* eg_ssl_handshake() waits and calls back */
    }

    if (rc == EG_ERROR) {
        c->ssl_failed = 1;
    }

    eg_http_ssl_handshake_done(c);
}


static void
eg_http_ssl_handshake_done(eg_connection_t *c)
{
    eg_event_t  *rev;

    if (c->ssl_failed) {
        eg_http_close_connection(c);
        return;
    }

    c->log->action = "waiting for request";

    rev = c->read;
    rev->handler = eg_http_wait_request_handler;
    c->write->handler = eg_http_empty_handler;

    /* the client's first request may be in OpenSSL's buffer already */
    eg_http_wait_request_handler(rev);
}

#endif


/* an idle connection: the first request, or the next on a keep-alive one */
static void
eg_http_wait_request_handler(eg_event_t *rev)
{
    size_t                    size;
    ssize_t                   n;
    eg_buf_t                 *b;
    eg_connection_t          *c;
    eg_http_request_t        *r;
    eg_http_connection_t     *hc;
    eg_http_core_srv_conf_t  *cscf;

    c = rev->data;
    hc = c->data;

    if (rev->timedout) {
        if (!hc->grace) {
            eg_log_error(EG_LOG_INFO, c->log, EG_ETIMEDOUT,
                         "client timed out");
        }

        eg_http_close_connection(c);
        return;
    }

    if (c->close) {
        if (!eg_exiting || hc->grace) {
            eg_http_close_connection(c);
            return;
        }

        /*
         * A graceful shutdown, and the connection is between requests.
         * The client may have sent its next one already, or be sending
         * it: closing now would answer it with a reset or an early end,
         * which a client counts as a failed request.  So the connection
         * gets a moment more; a request that comes in it is served with
         * "Connection: close", and the worker exits once it is done.
         */

        c->close = 0;
        hc->grace = 1;
        eg_event_add_timer(rev, EG_HTTP_SHUTDOWN_GRACE);
    }

    cscf = eg_http_core_srv_conf_of(hc);

    if (hc->buf == NULL) {
        size = cscf->client_header_buffer_size;

        hc->buf = eg_create_temp_buf(c->pool, size);
        if (hc->buf == NULL) {
            eg_http_close_connection(c);
            return;
        }

        hc->current = hc->buf;
    }

    b = hc->current;

    if (b->pos < b->last) {
        /* a pipelined request, read with the previous one */
        n = 0;
        goto request;
    }

    b->pos = b->start;
    b->last = b->start;

    n = c->recv(c, b->last, (size_t) (b->end - b->last));

    if (n == EG_AGAIN) {
        if (eg_handle_read_event(rev, 0) != EG_OK) {
            eg_http_close_connection(c);
        }

        return;
    }

    if (n == EG_ERROR || n == 0) {
        if (n == 0) {
            eg_log_error(EG_LOG_INFO, c->log, 0,
                         "client closed connection");
        }

        eg_http_close_connection(c);
        return;
    }

    b->last += n;

request:

    c->idle = 0;
    eg_reusable_connection(c, 0);

    if (rev->timer_set) {
        eg_event_del_timer(rev);
    }

    r = eg_http_create_request(c);
    if (r == NULL) {
        eg_http_close_connection(c);
        return;
    }

    c->log->action = "reading client request line";

    rev->handler = eg_http_process_request_line;
    eg_http_process_request_line(rev);
}


static eg_http_request_t *
eg_http_create_request(eg_connection_t *c)
{
    eg_pool_t                *pool;
    eg_http_request_t        *r;
    eg_http_connection_t     *hc;
    eg_http_core_srv_conf_t  *cscf;

    hc = c->data;

    pool = eg_create_pool(4096, c->log);
    if (pool == NULL) {
        return NULL;
    }

    r = eg_pcalloc(pool, sizeof(eg_http_request_t));
    if (r == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    r->pool = pool;
    r->connection = c;
    r->http_connection = hc;

    cscf = eg_http_core_srv_conf_of(hc);

    r->main_conf = cscf->ctx->main_conf;
    r->srv_conf = cscf->ctx->srv_conf;
    r->loc_conf = cscf->ctx->loc_conf;

    r->ctx = eg_pcalloc(pool, sizeof(void *) * eg_http_max_module);

    if (r->ctx == NULL
        || eg_list_init(&r->headers_in.headers, pool, 16,
                        sizeof(eg_table_elt_t)) != EG_OK
        || eg_list_init(&r->headers_out.headers, pool, 8,
                        sizeof(eg_table_elt_t)) != EG_OK)
    {
        eg_destroy_pool(pool);
        return NULL;
    }

    r->header_in = hc->current;
    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->method = EG_HTTP_UNKNOWN;
    r->start_msec = eg_current_msec;
    r->start_usec = eg_http_usec();

    eg_http_stat_state(hc, EG_HTTP_STAT_READING);

    hc->requests++;
    hc->request = r;
    c->requests++;
    c->data = r;

    return r;
}


static void
eg_http_process_request_line(eg_event_t *rev)
{
    ssize_t             n;
    eg_int_t            rc, rv;
    eg_connection_t    *c;
    eg_http_request_t  *r;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        eg_log_error(EG_LOG_INFO, c->log, EG_ETIMEDOUT, "client timed out");
        c->timedout = 1;
        eg_http_close_request(r);
        return;
    }

    rc = EG_AGAIN;

    for ( ;; ) {

        if (rc == EG_AGAIN) {
            n = eg_http_read_request_header(r);

            if (n == EG_AGAIN || n == EG_ERROR) {
                return;
            }
        }

        rc = eg_http_parse_request_line(r, r->header_in);

        if (rc == EG_OK) {
            r->request_line.data = r->request_start;
            r->request_line.len = (size_t) (r->request_end
                                            - r->request_start);
            r->method_name.data = r->request_start;
            r->method_name.len = (size_t) (r->method_end
                                           - r->request_start);
            r->http_protocol.data = r->http_start;
            r->http_protocol.len = (size_t) (r->request_end
                                             - r->http_start);

            while (r->http_protocol.len
                   && r->http_protocol.data[r->http_protocol.len - 1]
                      == ' ')
            {
                r->http_protocol.len--;
            }

            if (eg_http_process_request_uri(r) != EG_OK) {
                return;
            }

            c->log->action = "reading client request headers";

            rev->handler = eg_http_process_request_headers;
            eg_http_process_request_headers(rev);
            return;
        }

        if (rc != EG_AGAIN) {
            eg_log_error(EG_LOG_INFO, c->log, 0,
                         rc == EG_HTTP_PARSE_INVALID_VERSION
                         ? "client sent unsupported HTTP version"
                         : "client sent invalid request");

            r->keepalive = 0;
            eg_http_finalize_request(r,
                                     rc == EG_HTTP_PARSE_INVALID_VERSION
                                     ? EG_HTTP_VERSION_NOT_SUPPORTED
                                     : EG_HTTP_BAD_REQUEST);
            return;
        }

        /* EG_AGAIN: everything read was consumed; is there room? */

        if (r->header_in->last == r->header_in->end) {
            rv = eg_http_alloc_large_header_buffer(r, 1);

            if (rv == EG_ERROR) {
                eg_http_finalize_request(r, EG_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            if (rv == EG_DECLINED) {
                eg_log_error(EG_LOG_INFO, c->log, 0,
                             "client sent too long URI");
                r->keepalive = 0;
                eg_http_finalize_request(r, EG_HTTP_REQUEST_URI_TOO_LARGE);
                return;
            }
        }
    }
}


static eg_int_t
eg_http_process_request_uri(eg_http_request_t *r)
{
    u_char  *end;

    if (r->uri_start == NULL) {
        /* "GET http://host HTTP/1.1" */
        eg_str_set(&r->uri, "/");
        eg_str_set(&r->unparsed_uri, "/");
        return EG_OK;
    }

    r->unparsed_uri.data = r->uri_start;
    r->unparsed_uri.len = (size_t) (r->uri_end - r->uri_start);

    end = r->args_start ? r->args_start - 1 : r->uri_end;

    if (r->args_start) {
        r->args.data = r->args_start;
        r->args.len = (size_t) (r->uri_end - r->args_start);
    }

    r->uri.len = (size_t) (end - r->uri_start);

    if (!r->complex_uri && !r->quoted_uri) {
        r->uri.data = r->uri_start;
        return EG_OK;
    }

    /* decode and normalise a copy; the original stays for the log */

    r->uri.data = eg_pnalloc(r->pool, r->uri.len + 1);
    if (r->uri.data == NULL) {
        eg_http_finalize_request(r, EG_HTTP_INTERNAL_SERVER_ERROR);
        return EG_ERROR;
    }

    eg_memcpy(r->uri.data, r->uri_start, r->uri.len);

    if (r->uri_start[0] == '*') {
        return EG_OK;
    }

    if (eg_http_normalize_uri(r) != EG_OK) {
        eg_log_error(EG_LOG_INFO, r->connection->log, 0,
                     "client sent invalid request URI \"" EG_STR_FMT "\"",
                     EG_STR_ARG(r->unparsed_uri));
        r->keepalive = 0;
        eg_http_finalize_request(r, EG_HTTP_BAD_REQUEST);
        return EG_ERROR;
    }

    return EG_OK;
}


static void
eg_http_process_request_headers(eg_event_t *rev)
{
    ssize_t                   n;
    eg_int_t                  rc, rv;
    eg_connection_t          *c;
    eg_table_elt_t           *h;
    eg_http_request_t        *r;
    eg_http_core_srv_conf_t  *cscf;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        eg_log_error(EG_LOG_INFO, c->log, EG_ETIMEDOUT, "client timed out");
        c->timedout = 1;
        eg_http_close_request(r);
        return;
    }

    cscf = eg_http_get_module_srv_conf(r, eg_http_core_module);

    rc = EG_AGAIN;

    for ( ;; ) {

        if (rc == EG_AGAIN) {

            if (r->header_in->last == r->header_in->end) {
                rv = eg_http_alloc_large_header_buffer(r, 0);

                if (rv == EG_ERROR) {
                    eg_http_finalize_request(r,
                                             EG_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                if (rv == EG_DECLINED) {
                    eg_log_error(EG_LOG_INFO, c->log, 0,
                                 "client sent too large request header");
                    r->keepalive = 0;
                    eg_http_finalize_request(r,
                                          EG_HTTP_HEADER_FIELDS_TOO_LARGE);
                    return;
                }
            }

            n = eg_http_read_request_header(r);

            if (n == EG_AGAIN || n == EG_ERROR) {
                return;
            }
        }

        rc = eg_http_parse_header_line(r, r->header_in,
                                       (eg_uint_t)
                                       cscf->underscores_in_headers);

        if (rc == EG_OK) {

            if (r->invalid_header) {
                eg_log_error(EG_LOG_INFO, c->log, 0,
                             "client sent invalid header line: \"%.*s\"",
                             (int) (r->header_end - r->header_name_start),
                             r->header_name_start);
                continue;
            }

            h = eg_list_push(&r->headers_in.headers);
            if (h == NULL) {
                eg_http_finalize_request(r, EG_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            h->key.data = r->header_name_start;
            h->key.len = (size_t) (r->header_name_end
                                   - r->header_name_start);
            h->value.data = r->header_start;
            h->value.len = (size_t) (r->header_end - r->header_start);
            h->next = NULL;

            /* terminate both in place: ':' and CR/LF are parsed already */
            h->key.data[h->key.len] = '\0';
            h->value.data[h->value.len] = '\0';

            h->lowcase_key = eg_pnalloc(r->pool, h->key.len + 1);
            if (h->lowcase_key == NULL) {
                eg_http_finalize_request(r, EG_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            eg_strlow(h->lowcase_key, h->key.data, h->key.len + 1);

            if (eg_http_process_header(r, h) != EG_OK) {
                return;
            }

            continue;
        }

        if (rc == EG_HTTP_PARSE_HEADER_DONE) {
            c->log->action = "processing client request";

            if (eg_http_process_request_header(r) != EG_OK) {
                return;
            }

            eg_http_process_request(r);
            return;
        }

        if (rc == EG_AGAIN) {
            continue;
        }

        eg_log_error(EG_LOG_INFO, c->log, 0,
                     "client sent invalid header line");
        r->keepalive = 0;
        eg_http_finalize_request(r, EG_HTTP_BAD_REQUEST);
        return;
    }
}


static ssize_t
eg_http_read_request_header(eg_http_request_t *r)
{
    ssize_t                   n;
    eg_event_t               *rev;
    eg_connection_t          *c;
    eg_http_core_srv_conf_t  *cscf;

    c = r->connection;
    rev = c->read;

    n = r->header_in->last - r->header_in->pos;

    if (n > 0) {
        return n;
    }

    if (rev->ready) {
        n = c->recv(c, r->header_in->last,
                    (size_t) (r->header_in->end - r->header_in->last));

    } else {
        n = EG_AGAIN;
    }

    if (n == EG_AGAIN) {
        if (!rev->timer_set) {
            cscf = eg_http_get_module_srv_conf(r, eg_http_core_module);
            eg_event_add_timer(rev, cscf->client_header_timeout);
        }

        if (eg_handle_read_event(rev, 0) != EG_OK) {
            eg_http_close_request(r);
            return EG_ERROR;
        }

        return EG_AGAIN;
    }

    if (n == 0) {
        eg_log_error(EG_LOG_INFO, c->log, 0,
                     "client prematurely closed connection");
    }

    if (n == 0 || n == EG_ERROR) {
        c->error = 1;
        eg_http_close_request(r);
        return EG_ERROR;
    }

    r->header_in->last += n;

    return n;
}


#define eg_http_rebase(p, from, to)                                          \
    if ((p) && (p) >= (from)) {                                              \
        (p) = (to) + ((p) - (from));                                         \
    }


static eg_int_t
eg_http_alloc_large_header_buffer(eg_http_request_t *r,
    eg_uint_t request_line)
{
    u_char                   *old;
    size_t                    used;
    eg_buf_t                 *b, *nb;
    eg_http_core_srv_conf_t  *cscf;

    b = r->header_in;

    if (request_line && r->state == 0) {
        /* only empty lines so far: just start over */
        b->pos = b->start;
        b->last = b->start;
        return EG_OK;
    }

    if (request_line) {
        old = r->request_start;

    } else if (r->state == 0) {
        /* between headers: nothing of the next one is in the buffer */
        old = b->pos;

    } else {
        old = r->header_name_start;
    }

    cscf = eg_http_get_module_srv_conf(r, eg_http_core_module);

    used = (size_t) (b->last - old);

    if (used >= cscf->large_client_header_buffers_size
        || r->large_buffers >= cscf->large_client_header_buffers_num)
    {
        return EG_DECLINED;
    }

    nb = eg_create_temp_buf(r->pool, cscf->large_client_header_buffers_size);
    if (nb == NULL) {
        return EG_ERROR;
    }

    r->large_buffers++;

    eg_memcpy(nb->start, old, used);

    nb->pos = nb->start + (b->pos - old);
    nb->last = nb->start + used;

    /*
     * Move the parser's pointers that point into what was copied; those
     * of finished elements stay in the old buffer, which lives as long
     * as the request.
     */

    if (request_line) {
        eg_http_rebase(r->request_start, old, nb->start);
        eg_http_rebase(r->method_end, old, nb->start);
        eg_http_rebase(r->schema_start, old, nb->start);
        eg_http_rebase(r->schema_end, old, nb->start);
        eg_http_rebase(r->host_start, old, nb->start);
        eg_http_rebase(r->host_end, old, nb->start);
        eg_http_rebase(r->uri_start, old, nb->start);
        eg_http_rebase(r->uri_end, old, nb->start);
        eg_http_rebase(r->args_start, old, nb->start);
        eg_http_rebase(r->http_start, old, nb->start);
        eg_http_rebase(r->request_end, old, nb->start);

    } else {
        eg_http_rebase(r->header_name_start, old, nb->start);
        eg_http_rebase(r->header_name_end, old, nb->start);
        eg_http_rebase(r->header_start, old, nb->start);
        eg_http_rebase(r->header_end, old, nb->start);
    }

    r->header_in = nb;

    return EG_OK;
}


static eg_int_t
eg_http_process_header(eg_http_request_t *r, eg_table_elt_t *h)
{
    eg_table_elt_t  **slot;

    slot = NULL;

    switch (h->key.len) {

    case 4:
        if (eg_strcmp(h->lowcase_key, "host") == 0) {
            if (r->headers_in.host) {
                eg_log_error(EG_LOG_INFO, r->connection->log, 0,
                             "client sent duplicate host header");
                r->keepalive = 0;
                eg_http_finalize_request(r, EG_HTTP_BAD_REQUEST);
                return EG_ERROR;
            }

            slot = &r->headers_in.host;
        }
        break;

    case 10:
        if (eg_strcmp(h->lowcase_key, "connection") == 0) {
            slot = &r->headers_in.connection;

        } else if (eg_strcmp(h->lowcase_key, "user-agent") == 0) {
            slot = &r->headers_in.user_agent;
        }
        break;

    case 14:
        if (eg_strcmp(h->lowcase_key, "content-length") == 0) {
            if (r->headers_in.content_length) {
                eg_log_error(EG_LOG_INFO, r->connection->log, 0,
                             "client sent duplicate Content-Length header");
                r->keepalive = 0;
                eg_http_finalize_request(r, EG_HTTP_BAD_REQUEST);
                return EG_ERROR;
            }

            slot = &r->headers_in.content_length;
        }
        break;

    case 15:
        if (eg_strcmp(h->lowcase_key, "accept-encoding") == 0) {
            slot = &r->headers_in.accept_encoding;
        }
        break;

    case 17:
        if (eg_strcmp(h->lowcase_key, "transfer-encoding") == 0) {
            slot = &r->headers_in.transfer_encoding;
        }
        break;
    }

    if (slot) {
        if (*slot) {
            /* keep the first; later ones chain behind it */
            h->next = (*slot)->next;
            (*slot)->next = h;

        } else {
            *slot = h;
        }
    }

    return EG_OK;
}


/* the request header is complete: check it as a whole */
static eg_int_t
eg_http_process_request_header(eg_http_request_t *r)
{
    u_char     *p, *last;
    eg_int_t    rc;
    eg_str_t   *host;

    if (r->headers_in.host) {
        host = &r->headers_in.host->value;

        /* the name, lower case, without the port; checked for junk */

        last = host->data + host->len;

        if (host->len && host->data[0] == '[') {
            p = eg_strlchr(host->data, last, ']');
            p = p ? p + 1 : last;

        } else {
            p = eg_strlchr(host->data, last, ':');
            p = p ? p : last;
        }

        r->headers_in.server.len = (size_t) (p - host->data);
        r->headers_in.server.data = eg_pnalloc(r->pool,
                                               r->headers_in.server.len + 1);
        if (r->headers_in.server.data == NULL) {
            eg_http_finalize_request(r, EG_HTTP_INTERNAL_SERVER_ERROR);
            return EG_ERROR;
        }

        eg_strlow(r->headers_in.server.data, host->data,
                  r->headers_in.server.len);
        r->headers_in.server.data[r->headers_in.server.len] = '\0';

        for (p = r->headers_in.server.data;
             p < r->headers_in.server.data + r->headers_in.server.len;
             p++)
        {
            if (*p == '/' || *p == '\\' || *p <= 0x20 || *p == 0x7f) {
                eg_log_error(EG_LOG_INFO, r->connection->log, 0,
                             "client sent invalid host header");
                r->keepalive = 0;
                eg_http_finalize_request(r, EG_HTTP_BAD_REQUEST);
                return EG_ERROR;
            }
        }

    } else if (r->http_version >= EG_HTTP_VERSION_11) {
        eg_log_error(EG_LOG_INFO, r->connection->log, 0,
                     "client sent HTTP/1.1 request without \"Host\" "
                     "header");
        r->keepalive = 0;
        eg_http_finalize_request(r, EG_HTTP_BAD_REQUEST);
        return EG_ERROR;
    }

    if (r->headers_in.content_length) {
        r->headers_in.content_length_n =
                          eg_atoi(r->headers_in.content_length->value.data,
                                  r->headers_in.content_length->value.len);

        if (r->headers_in.content_length_n == EG_ERROR) {
            eg_log_error(EG_LOG_INFO, r->connection->log, 0,
                         "client sent invalid \"Content-Length\" header");
            r->keepalive = 0;
            eg_http_finalize_request(r, EG_HTTP_BAD_REQUEST);
            return EG_ERROR;
        }
    }

    if (r->headers_in.transfer_encoding) {
        if (r->headers_in.content_length) {
            /* both at once is how requests get smuggled (RFC 9112, 6.1) */
            eg_log_error(EG_LOG_INFO, r->connection->log, 0,
                         "client sent \"Content-Length\" and "
                         "\"Transfer-Encoding\" headers at the same time");
            r->keepalive = 0;
            eg_http_finalize_request(r, EG_HTTP_BAD_REQUEST);
            return EG_ERROR;
        }

        if (r->http_version < EG_HTTP_VERSION_11
            || r->headers_in.transfer_encoding->next
            || r->headers_in.transfer_encoding->value.len != 7
            || eg_strncasecmp(r->headers_in.transfer_encoding->value.data,
                              (u_char *) "chunked", 7) != 0)
        {
            eg_log_error(EG_LOG_INFO, r->connection->log, 0,
                         "client sent unknown \"Transfer-Encoding\": \"%s\"",
                         r->headers_in.transfer_encoding->value.data);
            r->keepalive = 0;
            eg_http_finalize_request(r, EG_HTTP_NOT_IMPLEMENTED);
            return EG_ERROR;
        }

        r->headers_in.chunked = 1;
    }

    rc = 0;

    if (r->headers_in.connection) {
        rc = eg_http_parse_connection(&r->headers_in.connection->value);
    }

    r->keepalive = (r->http_version >= EG_HTTP_VERSION_11)
                   ? (rc != 1) : (rc == 2);

    if (r->headers_in.chunked || r->headers_in.content_length_n > 0) {
        /*
         * Nothing here reads request bodies; rather than skip an unknown
         * amount of bytes, answer and close.
         */
        r->keepalive = 0;
    }

    if (r->method == EG_HTTP_HEAD) {
        r->header_only = 1;
    }

    return EG_OK;
}


static void
eg_http_process_request(eg_http_request_t *r)
{
    eg_int_t          rc;
    eg_connection_t  *c;

    c = r->connection;

    if (c->read->timer_set) {
        eg_event_del_timer(c->read);
    }

    eg_http_stat_state(r->http_connection, EG_HTTP_STAT_WRITING);

    c->read->handler = eg_http_request_handler;
    c->write->handler = eg_http_request_handler;
    r->read_event_handler = eg_http_block_reading;
    r->write_event_handler = eg_http_writer;

    eg_http_block_reading(r);

    (void) eg_http_core_find_server(r);

    rc = eg_http_core_run_phases(r);

    eg_http_finalize_request(r, rc);
}


static void
eg_http_request_handler(eg_event_t *ev)
{
    eg_connection_t    *c;
    eg_http_request_t  *r;

    c = ev->data;
    r = c->data;

    if (c->close) {
        eg_http_close_request(r);
        return;
    }

    if (ev->write) {
        r->write_event_handler(r);

    } else {
        r->read_event_handler(r);
    }
}


/* while a request runs, reads wait; level-triggered modules must be told */
static void
eg_http_block_reading(eg_http_request_t *r)
{
    eg_event_t  *rev;

    rev = r->connection->read;

    if ((eg_event_flags & EG_USE_LEVEL_EVENT) && rev->active) {
        if (eg_del_event(rev, EG_READ_EVENT, 0) != EG_OK) {
            eg_http_close_request(r);
        }
    }
}


static void
eg_http_writer(eg_http_request_t *r)
{
    eg_int_t                  rc;
    eg_event_t               *wev;
    eg_connection_t          *c;
    eg_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    if (wev->timedout) {
        eg_log_error(EG_LOG_INFO, c->log, EG_ETIMEDOUT,
                     "client timed out");
        c->timedout = 1;
        eg_http_close_request(r);
        return;
    }

    rc = eg_http_output(r);

    if (rc == EG_ERROR) {
        c->error = 1;
        eg_http_close_request(r);
        return;
    }

    if (rc == EG_AGAIN) {
        clcf = eg_http_get_module_loc_conf(r, eg_http_core_module);

        eg_event_add_timer(wev, clcf->send_timeout);

        if (eg_handle_write_event(wev) != EG_OK) {
            eg_http_close_request(r);
        }

        return;
    }

    if (wev->timer_set) {
        eg_event_del_timer(wev);
    }

    eg_http_request_done(r);
}


/*
 * The end of a handler's work.  rc is EG_OK (the response is written or
 * being written), EG_AGAIN (the handler finishes later by itself),
 * EG_ERROR, or an HTTP status to answer with.
 */
void
eg_http_finalize_request(eg_http_request_t *r, eg_int_t rc)
{
    eg_connection_t  *c;

    c = r->connection;

    if (rc == EG_AGAIN && r->response_sent && r->nout) {
        /*
         * eg_http_send_response() filled the socket: the writer sends the
         * rest, waiting for the write event under send_timeout
         */
        eg_http_writer(r);
        return;
    }

    if (rc == EG_DONE || rc == EG_AGAIN || rc == EG_DECLINED) {
        if (rc != EG_DECLINED) {
            return;
        }

        rc = EG_HTTP_NOT_FOUND;
    }

    if (rc == EG_ERROR) {
        rc = EG_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == EG_HTTP_CLOSE) {
        eg_http_close_request(r);
        return;
    }

    if (rc >= EG_HTTP_OK) {
        if (r->response_sent) {
            /* too late for an error page: just drop the connection */
            c->error = 1;
            eg_http_close_request(r);
            return;
        }

        rc = eg_http_send_special(r, (eg_uint_t) rc);
    }

    if (rc == EG_ERROR) {
        c->error = 1;
        eg_http_close_request(r);
        return;
    }

    if (rc == EG_AGAIN) {
        /* the writer finishes the response when the socket drains */
        eg_http_writer(r);
        return;
    }

    eg_http_request_done(r);
}


static void
eg_http_request_done(eg_http_request_t *r)
{
    eg_connection_t          *c;
    eg_http_connection_t     *hc;
    eg_http_core_loc_conf_t  *clcf;

    c = r->connection;
    hc = r->http_connection;

    clcf = eg_http_get_module_loc_conf(r, eg_http_core_module);

    if (!r->keepalive || c->error || eg_exiting
        || hc->requests >= clcf->keepalive_requests
        || clcf->keepalive_timeout == 0)
    {
        eg_http_close_request(r);
        return;
    }

    eg_http_set_keepalive(r);
}


static void
eg_http_set_keepalive(eg_http_request_t *r)
{
    size_t                    left;
    eg_buf_t                 *b, *to;
    eg_event_t               *rev, *wev;
    eg_msec_t                 timeout;
    eg_connection_t          *c;
    eg_http_connection_t     *hc;
    eg_http_core_loc_conf_t  *clcf;
    eg_http_core_srv_conf_t  *cscf;

    c = r->connection;
    hc = r->http_connection;
    rev = c->read;
    wev = c->write;

    clcf = eg_http_get_module_loc_conf(r, eg_http_core_module);
    cscf = eg_http_get_module_srv_conf(r, eg_http_core_module);
    timeout = clcf->keepalive_timeout;

    /* pipelined bytes already read move to a buffer of the connection */

    eg_http_run_log_phase(r);

    b = r->header_in;
    left = (size_t) (b->last - b->pos);

    to = hc->buf;

    if (left > (size_t) (hc->buf->end - hc->buf->start)) {
        if (hc->large == NULL) {
            hc->large = eg_create_temp_buf(c->pool,
                                   cscf->large_client_header_buffers_size);
            if (hc->large == NULL) {
                eg_http_close_request(r);
                return;
            }
        }

        to = hc->large;
    }

    if (left) {
        (void) memmove(to->start, b->pos, left);
    }

    to->pos = to->start;
    to->last = to->start + left;
    hc->current = to;

    eg_http_free_request(r);

    c->data = hc;
    c->log->action = "keepalive";

    if (wev->timer_set) {
        eg_event_del_timer(wev);
    }

    wev->handler = eg_http_empty_handler;
    rev->handler = eg_http_wait_request_handler;

    if (left) {
        /* the next request is here already: serve it after this stack */
        eg_post_event(rev, &eg_posted_events);
        return;
    }

    c->idle = 1;
    eg_reusable_connection(c, 1);
    eg_http_stat_state(hc, EG_HTTP_STAT_WAITING);

    eg_event_add_timer(rev, timeout);

    if (eg_handle_read_event(rev, 0) != EG_OK) {
        eg_http_close_connection(c);
        return;
    }

    if (rev->ready) {
        /* data came while we were busy; an edge will not come again */
        eg_post_event(rev, &eg_posted_events);
    }
}


static void
eg_http_run_log_phase(eg_http_request_t *r)
{
    eg_uint_t                   i, n;
    eg_http_handler_pt         *h;
    eg_http_core_main_conf_t   *cmcf;

    if (r->logged) {
        return;
    }

    r->logged = 1;

    if (r->headers_out.status) {
        eg_metric_inc(eg_http_stat_code(r->headers_out.status), 1);
        eg_metric_observe(eg_http_stats.duration,
                          (double) (eg_http_usec() - r->start_usec) / 1e6);
    }

    cmcf = eg_http_get_module_main_conf(r, eg_http_core_module);

    h = cmcf->phases[EG_HTTP_LOG_PHASE].handlers.elts;
    n = cmcf->phases[EG_HTTP_LOG_PHASE].handlers.nelts;

    for (i = 0; i < n; i++) {
        (void) h[i](r);
    }
}


static void
eg_http_free_request(eg_http_request_t *r)
{
    eg_pool_t  *pool;

    pool = r->pool;
    r->pool = NULL;
    r->http_connection->request = NULL;
    r->connection->data = r->http_connection;

    eg_destroy_pool(pool);
}


static void
eg_http_close_request(eg_http_request_t *r)
{
    eg_connection_t  *c;

    c = r->connection;

    if (r->response_sent || r->headers_out.status) {
        eg_http_run_log_phase(r);
    }

    eg_http_free_request(r);
    eg_http_close_connection(c);
}


void
eg_http_close_connection(eg_connection_t *c)
{
    eg_pool_t             *pool;
    eg_http_connection_t  *hc;

    hc = c->data;

    if (hc && c->listening) {
        eg_http_stat_state(hc, EG_HTTP_STAT_NONE);
        eg_metric_dec(eg_http_stats.active, 1);
    }

#if (EG_HTTP_SSL)
    if (c->ssl) {
        eg_ssl_shutdown(c);
    }
#endif

    c->destroyed = 1;

    pool = c->pool;
    c->pool = NULL;

    eg_close_connection(c);

    if (pool) {
        eg_destroy_pool(pool);
    }
}


static void
eg_http_empty_handler(eg_event_t *wev)
{
    eg_unused(wev);
}


eg_table_elt_t *
eg_http_find_header(eg_http_request_t *r, const char *lcname)
{
    eg_uint_t        i;
    eg_list_part_t  *part;
    eg_table_elt_t  *h;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (eg_strcmp(h[i].lowcase_key, lcname) == 0) {
                return &h[i];
            }
        }
    }

    return NULL;
}


/* the context for error lines: ", client: ..., server: ..., request" */
static u_char *
eg_http_log_error(eg_log_t *log, u_char *buf, size_t len)
{
    u_char                *p, *last;
    eg_connection_t       *c;
    eg_http_request_t     *r;
    eg_http_connection_t  *hc;

    hc = log->data;
    c = hc->connection;
    r = hc->request;

    p = buf;
    last = buf + len;

    if (log->action) {
        p = eg_slprintf(p, last, " while %s", log->action);
    }

    p = eg_slprintf(p, last, ", client: " EG_STR_FMT ", server: " EG_STR_FMT,
                    EG_STR_ARG(c->addr_text),
                    EG_STR_ARG(c->listening->addr_text));

    if (r && r->request_line.len) {
        p = eg_slprintf(p, last, ", request: \"" EG_STR_FMT "\"",
                        EG_STR_ARG(r->request_line));
    }

    return p;
}
