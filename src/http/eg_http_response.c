/*
 * Responses.  Every response here is generated in memory and known in
 * full before it is sent, so the header carries an exact Content-Length
 * and the whole thing goes out with writev(): header and body together,
 * resumed by the writer when the socket is full.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>
#include <engram.h>


typedef struct {
    eg_uint_t    status;
    const char  *text;
} eg_http_status_t;


static eg_http_status_t  eg_http_statuses[] = {
    { 200, "OK" },
    { 204, "No Content" },
    { 301, "Moved Permanently" },
    { 302, "Found" },
    { 304, "Not Modified" },
    { 400, "Bad Request" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 408, "Request Timeout" },
    { 413, "Content Too Large" },
    { 414, "URI Too Long" },
    { 431, "Request Header Fields Too Large" },
    { 500, "Internal Server Error" },
    { 501, "Not Implemented" },
    { 503, "Service Unavailable" },
    { 505, "HTTP Version Not Supported" },
    { 0, NULL }
};


const char *
eg_http_status_text(eg_uint_t status)
{
    eg_http_status_t  *s;

    for (s = eg_http_statuses; s->status; s++) {
        if (s->status == status) {
            return s->text;
        }
    }

    return "Unknown";
}


eg_table_elt_t *
eg_http_add_header(eg_http_request_t *r, const char *name, eg_str_t *value)
{
    eg_table_elt_t  *h;

    h = eg_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->key.data = (u_char *) name;
    h->key.len = strlen(name);
    h->value = *value;
    h->lowcase_key = NULL;
    h->next = NULL;

    return h;
}


eg_int_t
eg_http_send_response(eg_http_request_t *r, eg_uint_t status,
    eg_str_t *content_type, eg_str_t *body)
{
    u_char                   *p;
    size_t                    len, text_len;
    eg_str_t                  b;
    const char               *text;
    eg_uint_t                 i, no_body;
    eg_list_part_t           *part;
    eg_table_elt_t           *h;
    eg_http_core_loc_conf_t  *clcf;

    if (r->response_sent) {
        eg_log_error(EG_LOG_ALERT, r->connection->log, 0,
                     "a response was already sent");
        return EG_ERROR;
    }

    r->response_sent = 1;
    r->headers_out.status = status;

    if (body) {
        b = *body;

    } else {
        eg_str_null(&b);
    }

    no_body = (status == EG_HTTP_NO_CONTENT
               || status == EG_HTTP_NOT_MODIFIED);

    if (content_type) {
        r->headers_out.content_type = *content_type;
    }

    if (eg_http_top_body_filter && status == EG_HTTP_OK && b.len) {
        if (eg_http_top_body_filter(r, &b) != EG_OK) {
            return EG_ERROR;
        }
    }

    clcf = eg_http_get_module_loc_conf(r, eg_http_core_module);

    /* say "close" when this will be the connection's last response */

    if (r->keepalive
        && (eg_exiting || clcf->keepalive_timeout == 0
            || r->http_connection->requests >= clcf->keepalive_requests))
    {
        r->keepalive = 0;
    }

    r->headers_out.content_length_n = (off_t) b.len;

    /* the size of the header: fixed lines, then the extra headers */

    text = eg_http_status_text(status);
    text_len = strlen(text);

    len = sizeof("HTTP/1.1 999 ") - 1 + text_len
          + 2
          + sizeof("Server: " ENGRAM_VER "\r\n") - 1
          + sizeof("Date: \r\n") - 1 + EG_HTTP_TIME_LEN
          + sizeof("Content-Length: \r\n") - 1 + EG_INT_T_LEN
          + sizeof("Connection: keep-alive\r\n") - 1
          + 2;

    if (content_type && content_type->len) {
        len += sizeof("Content-Type: \r\n") - 1 + content_type->len;
    }

    for (part = &r->headers_out.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            len += h[i].key.len + sizeof(": \r\n") - 1 + h[i].value.len;
        }
    }

    p = eg_pnalloc(r->pool, len);
    if (p == NULL) {
        return EG_ERROR;
    }

    r->out[0].iov_base = p;

    /* built with copies, not printf: this runs for every response */

    p = eg_cpymem(p, "HTTP/1.1 ", sizeof("HTTP/1.1 ") - 1);
    *p++ = (u_char) ('0' + status / 100 % 10);
    *p++ = (u_char) ('0' + status / 10 % 10);
    *p++ = (u_char) ('0' + status % 10);
    *p++ = ' ';
    p = eg_cpymem(p, text, text_len);
    *p++ = '\r'; *p++ = '\n';

    if (clcf->server_tokens) {
        p = eg_cpymem(p, "Server: " ENGRAM_VER "\r\n",
                      sizeof("Server: " ENGRAM_VER "\r\n") - 1);

    } else {
        p = eg_cpymem(p, "Server: engram\r\n",
                      sizeof("Server: engram\r\n") - 1);
    }

    p = eg_cpymem(p, "Date: ", sizeof("Date: ") - 1);
    p = eg_cpymem(p, eg_cached_http_time.data, eg_cached_http_time.len);
    *p++ = '\r'; *p++ = '\n';

    if (content_type && content_type->len) {
        p = eg_cpymem(p, "Content-Type: ", sizeof("Content-Type: ") - 1);
        p = eg_cpymem(p, content_type->data, content_type->len);
        *p++ = '\r'; *p++ = '\n';
    }

    if (!no_body) {
        p = eg_cpymem(p, "Content-Length: ",
                      sizeof("Content-Length: ") - 1);
        p = eg_sprint_uint(p, b.len);
        *p++ = '\r'; *p++ = '\n';
    }

    for (part = &r->headers_out.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            p = eg_cpymem(p, h[i].key.data, h[i].key.len);
            *p++ = ':'; *p++ = ' ';
            p = eg_cpymem(p, h[i].value.data, h[i].value.len);
            *p++ = '\r'; *p++ = '\n';
        }
    }

    if (r->keepalive) {
        p = eg_cpymem(p, "Connection: keep-alive\r\n\r\n",
                      sizeof("Connection: keep-alive\r\n\r\n") - 1);

    } else {
        p = eg_cpymem(p, "Connection: close\r\n\r\n",
                      sizeof("Connection: close\r\n\r\n") - 1);
    }

    r->out[0].iov_len = (size_t) (p - (u_char *) r->out[0].iov_base);
    r->nout = 1;

    if (!r->header_only && !no_body && b.len) {
        r->out[1].iov_base = b.data;
        r->out[1].iov_len = b.len;
        r->nout = 2;
    }

    return eg_http_output(r);
}


/* writes what is left of the response; EG_OK when all of it is out */
eg_int_t
eg_http_output(eg_http_request_t *r)
{
    ssize_t           n;
    size_t            sent;
    eg_err_t          err;
    eg_uint_t         i;
    struct iovec     *iov;
    eg_connection_t  *c;

    c = r->connection;

    while (r->nout) {
        iov = r->out[0].iov_len ? &r->out[0] : &r->out[1];

        if (c->ssl) {
            /* TLS writes one buffer at a time */
            n = c->send(c, iov->iov_base, iov->iov_len);

            if (n == EG_AGAIN) {
                return EG_AGAIN;
            }

            if (n == EG_ERROR) {
                return EG_ERROR;
            }

            goto sent;
        }

        n = writev(c->fd, iov, (int) (r->nout - (iov - r->out)));

        if (n == -1) {
            err = eg_socket_errno;

            if (err == EG_EINTR) {
                continue;
            }

            if (err == EG_EAGAIN) {
                c->write->ready = 0;
                return EG_AGAIN;
            }

            c->write->error = 1;
            (void) eg_connection_error(c, err, "writev() failed");

            return EG_ERROR;
        }

        c->sent += n;

    sent:

        sent = (size_t) n;
        r->bytes_sent += n;

        /* consume what went out from the front of the vector */

        for (i = 0; i < r->nout && sent; i++) {
            if (r->out[i].iov_len <= sent) {
                sent -= r->out[i].iov_len;

                if (i == 1) {
                    r->body_bytes_sent += (off_t) r->out[i].iov_len;
                }

                r->out[i].iov_len = 0;
                continue;
            }

            r->out[i].iov_base = (u_char *) r->out[i].iov_base + sent;
            r->out[i].iov_len -= sent;

            if (i == 1) {
                r->body_bytes_sent += (off_t) sent;
            }

            sent = 0;
        }

        if (r->out[r->nout - 1].iov_len == 0) {
            r->nout = 0;
        }
    }

    return EG_OK;
}


/* the default answer for errors and other statuses without a body */
eg_int_t
eg_http_send_special(eg_http_request_t *r, eg_uint_t status)
{
    u_char    *p, *last;
    size_t     len;
    eg_str_t   body, allow;

    if (status >= EG_HTTP_BAD_REQUEST
        && status != EG_HTTP_NOT_FOUND
        && status != EG_HTTP_NOT_ALLOWED
        && status != EG_HTTP_FORBIDDEN)
    {
        /* after a protocol error the rest of the stream is suspect */
        r->keepalive = 0;
    }

    if (status == EG_HTTP_NOT_ALLOWED) {
        if (r->allow.len) {
            allow = r->allow;

        } else {
            eg_str_set(&allow, "GET, HEAD");
        }

        if (eg_http_add_header(r, "Allow", &allow) == NULL) {
            return EG_ERROR;
        }
    }

    if (status == EG_HTTP_NO_CONTENT || status == EG_HTTP_NOT_MODIFIED) {
        return eg_http_send_response(r, status, NULL, NULL);
    }

    len = 2 * (sizeof("999 ") - 1 + strlen(eg_http_status_text(status)))
          + sizeof("<!DOCTYPE html>\n<html><head><title></title></head>"
                   "<body><h1></h1><hr><p>engram</p></body></html>\n");

    p = eg_pnalloc(r->pool, len);
    if (p == NULL) {
        return EG_ERROR;
    }

    body.data = p;
    last = p + len;

    p = eg_slprintf(p, last,
                    "<!DOCTYPE html>\n<html><head><title>%03u %s</title>"
                    "</head><body><h1>%03u %s</h1><hr><p>engram</p>"
                    "</body></html>\n",
                    (unsigned) status, eg_http_status_text(status),
                    (unsigned) status, eg_http_status_text(status));

    body.len = (size_t) (p - body.data);

    return eg_http_send_response(r, status, &eg_http_html_type, &body);
}
