/*
 * The discovery HTTP client's parsers (eg_discovery_http_int.h), which
 * do no I/O: the URL of a request, split into what the client connects
 * to and what it writes (the path, the Host header), and the response,
 * fed as its bytes come, in pieces of any size.  Also the RFC 7230 token
 * check that the request's method and header names go through too.
 *
 * The response parser is a state machine over the response's parts:
 *
 *     status       "HTTP/1.x NNN reason", a line; a 1xx answer's header
 *                  is read and dropped, and a status line comes again
 *     header       lines up to the empty one, names lowercased; the
 *                  empty line decides how the body is delimited
 *     body         Content-Length bytes, or all until the connection
 *                  closes (eg_dhttp__parse_eof() ends it then)
 *     chunks       a size line, the data, CRLF, again until the size 0;
 *                  then the trailer, read and ignored
 *
 * Lines are gathered across reads in a buffer of the request's pool that
 * grows by doubling up to the limit of its part; the body grows the same
 * way up to max_body, or is allocated whole when its length is known.
 * Any error leaves a sentence in p->err.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_discovery.h>
#include <eg_discovery_http.h>
#include <eg_discovery_http_int.h>


#define EG_DHTTP_MAX_CHUNK_LINE 4096    /* a chunk size and extensions */

/* the states of the response parser */
#define EG_DHTTP_ST_STATUS      0
#define EG_DHTTP_ST_HEADER      1
#define EG_DHTTP_ST_BODY        2   /* Content-Length bytes */
#define EG_DHTTP_ST_BODY_CLOSE  3   /* until the connection closes */
#define EG_DHTTP_ST_CHUNK_SIZE  4
#define EG_DHTTP_ST_CHUNK_DATA  5
#define EG_DHTTP_ST_CHUNK_END   6   /* the CRLF after a chunk's data */
#define EG_DHTTP_ST_TRAILER     7
#define EG_DHTTP_ST_DONE        8


static eg_int_t eg_dhttp_line(eg_dhttp_parser_t *p);
static eg_int_t eg_dhttp_status_line(eg_dhttp_parser_t *p);
static eg_int_t eg_dhttp_header_line(eg_dhttp_parser_t *p);
static eg_int_t eg_dhttp_header_done(eg_dhttp_parser_t *p);
static eg_int_t eg_dhttp_chunk_size(eg_dhttp_parser_t *p);
static eg_int_t eg_dhttp_line_add(eg_dhttp_parser_t *p, u_char *data,
    size_t len);
static eg_int_t eg_dhttp_body_add(eg_dhttp_parser_t *p, u_char *data,
    size_t len);
static eg_int_t eg_dhttp_body_reserve(eg_dhttp_parser_t *p, size_t size);


/* the URL */

eg_int_t
eg_dhttp__parse_url(eg_pool_t *pool, eg_str_t *text, eg_dhttp_url_t *u,
    const char **err)
{
    u_char     *p, *last, *start, *q;
    size_t      len;
    eg_url_t    url;
    eg_str_t    authority;
    in_port_t   default_port;

    eg_memzero(u, sizeof(eg_dhttp_url_t));

    p = text->data;
    last = p + text->len;

    if (text->len >= sizeof("https://") - 1
        && eg_strncasecmp(p, (u_char *) "https://", sizeof("https://") - 1)
           == 0)
    {
        u->ssl = 1;
        default_port = 443;
        p += sizeof("https://") - 1;

    } else if (text->len >= sizeof("http://") - 1
               && eg_strncasecmp(p, (u_char *) "http://",
                                 sizeof("http://") - 1) == 0)
    {
        default_port = 80;
        p += sizeof("http://") - 1;

    } else {
        *err = "it must start with \"http://\" or \"https://\"";
        return EG_ERROR;
    }

    start = p;

    while (p < last && *p != '/' && *p != '?' && *p != '#') {
        p++;
    }

    authority.data = start;
    authority.len = (size_t) (p - start);

    if (authority.len == 0) {
        *err = "no host";
        return EG_ERROR;
    }

    if (eg_strlchr(authority.data, p, '@')) {
        *err = "user names in URLs are not supported";
        return EG_ERROR;
    }

    if (eg_parse_url(pool, &url, &authority, default_port,
                     EG_URL_PORT_OPTIONAL)
        != EG_OK)
    {
        *err = url.err;
        return EG_ERROR;
    }

    if (url.wildcard) {
        *err = "no host";
        return EG_ERROR;
    }

    u->host = url.host;
    u->port = url.port;
    u->literal = url.literal;
    u->addr = url.addr;

    /* the path and query as given, without a fragment */

    q = eg_strlchr(p, last, '#');
    len = (size_t) ((q ? q : last) - p);

    for (q = p; q < p + len; q++) {
        if (*q <= 0x20 || *q == 0x7f) {
            *err = "spaces and control characters must be encoded";
            return EG_ERROR;
        }
    }

    if (len == 0 || *p == '?') {
        u->path.data = eg_pnalloc(pool, len + 1);
        if (u->path.data == NULL) {
            *err = "out of memory";
            return EG_ERROR;
        }

        u->path.data[0] = '/';
        eg_memcpy(u->path.data + 1, p, len);
        u->path.len = len + 1;

    } else {
        u->path.data = p;
        u->path.len = len;
    }

    /* "Host:" names the port only when it is not the scheme's */

    len = u->host.len + sizeof("[]:65535") - 1;

    u->host_header.data = eg_pnalloc(pool, len);
    u->authority.data = eg_pnalloc(pool, len);

    if (u->host_header.data == NULL || u->authority.data == NULL) {
        *err = "out of memory";
        return EG_ERROR;
    }

    p = u->authority.data;

    if (u->literal && u->addr.sa.sockaddr.sa_family == AF_INET6) {
        *p++ = '[';
        p = eg_cpymem(p, u->host.data, u->host.len);
        *p++ = ']';

    } else {
        p = eg_cpymem(p, u->host.data, u->host.len);
    }

    u->host_header.len = (size_t) (p - u->authority.data);
    eg_memcpy(u->host_header.data, u->authority.data, u->host_header.len);

    *p++ = ':';
    p = eg_sprint_uint(p, u->port);
    u->authority.len = (size_t) (p - u->authority.data);

    if (u->port != default_port) {
        u->host_header.len = u->authority.len;
        eg_memcpy(u->host_header.data, u->authority.data,
                  u->authority.len);
    }

    return EG_OK;
}


/* the response parser */

eg_int_t
eg_dhttp__parser_init(eg_dhttp_parser_t *p, eg_pool_t *pool, size_t max_body,
    eg_uint_t head)
{
    eg_memzero(p, sizeof(eg_dhttp_parser_t));

    p->pool = pool;
    p->max_body = max_body ? max_body : EG_DHTTP_MAX_BODY;
    p->head = head;
    p->content_length = -1;

    p->res.headers = eg_array_create(pool, 16, sizeof(eg_keyval_t));
    if (p->res.headers == NULL) {
        return EG_ERROR;
    }

    /* an empty body is "", never NULL */
    eg_str_set(&p->res.body, "");

    return EG_OK;
}


eg_int_t
eg_dhttp__parse(eg_dhttp_parser_t *p, u_char *data, size_t len)
{
    u_char  *pos, *last, *lf;
    size_t   n;

    pos = data;
    last = data + len;

    while (p->state != EG_DHTTP_ST_DONE) {

        if (pos == last) {
            return EG_AGAIN;
        }

        switch (p->state) {

        case EG_DHTTP_ST_BODY:
        case EG_DHTTP_ST_CHUNK_DATA:
        case EG_DHTTP_ST_BODY_CLOSE:

            n = (size_t) (last - pos);

            if (p->state != EG_DHTTP_ST_BODY_CLOSE) {
                n = eg_min(n, p->chunk_left);
            }

            if (eg_dhttp_body_add(p, pos, n) != EG_OK) {
                return EG_ERROR;
            }

            pos += n;

            if (p->state == EG_DHTTP_ST_BODY_CLOSE) {
                break;
            }

            p->chunk_left -= n;

            if (p->chunk_left == 0) {
                p->state = (p->state == EG_DHTTP_ST_BODY)
                           ? EG_DHTTP_ST_DONE : EG_DHTTP_ST_CHUNK_END;
            }

            break;

        default:

            /* a line: gathered across reads, ended by LF (CRLF or not) */

            lf = memchr(pos, '\n', (size_t) (last - pos));
            n = (size_t) ((lf ? lf : last) - pos);

            if (eg_dhttp_line_add(p, pos, lf ? n + 1 : n) != EG_OK) {
                return EG_ERROR;
            }

            if (lf == NULL) {
                return EG_AGAIN;
            }

            pos = lf + 1;

            /* line_add() kept the LF: drop it, and a CR before it */

            p->line_len--;

            if (p->line_len && p->line[p->line_len - 1] == '\r') {
                p->line_len--;
            }

            if (eg_dhttp_line(p) != EG_OK) {
                return EG_ERROR;
            }

            p->line_len = 0;
            break;
        }
    }

    return EG_OK;
}


eg_int_t
eg_dhttp__parse_eof(eg_dhttp_parser_t *p)
{
    switch (p->state) {

    case EG_DHTTP_ST_DONE:
        return EG_OK;

    case EG_DHTTP_ST_BODY_CLOSE:
        p->state = EG_DHTTP_ST_DONE;
        return EG_OK;

    case EG_DHTTP_ST_STATUS:
        if (p->header_len == 0) {
            (void) eg_slprintf((u_char *) p->err,
                               (u_char *) p->err + sizeof(p->err),
                               "the server closed the connection without "
                               "answering");
            return EG_ERROR;
        }

        /* fall through */

    case EG_DHTTP_ST_HEADER:
        (void) eg_slprintf((u_char *) p->err,
                           (u_char *) p->err + sizeof(p->err),
                           "the server closed the connection in the "
                           "response header");
        return EG_ERROR;

    case EG_DHTTP_ST_BODY:
        (void) eg_slprintf((u_char *) p->err,
                           (u_char *) p->err + sizeof(p->err),
                           "the server closed the connection after %lu of "
                           "%lld body bytes",
                           (unsigned long) p->res.body.len,
                           (long long) p->content_length);
        return EG_ERROR;

    default:
        (void) eg_slprintf((u_char *) p->err,
                           (u_char *) p->err + sizeof(p->err),
                           "the server closed the connection in the "
                           "chunked body");
        return EG_ERROR;
    }
}


#define eg_dhttp_fail(p, ...)                                                \
    (void) eg_slprintf((u_char *) (p)->err,                                  \
                       (u_char *) (p)->err + sizeof((p)->err), __VA_ARGS__)


/* a whole line, without its end, in p->line */
static eg_int_t
eg_dhttp_line(eg_dhttp_parser_t *p)
{
    switch (p->state) {

    case EG_DHTTP_ST_STATUS:
        return eg_dhttp_status_line(p);

    case EG_DHTTP_ST_HEADER:
        if (p->line_len == 0) {
            return eg_dhttp_header_done(p);
        }

        return eg_dhttp_header_line(p);

    case EG_DHTTP_ST_CHUNK_SIZE:
        return eg_dhttp_chunk_size(p);

    case EG_DHTTP_ST_CHUNK_END:
        if (p->line_len != 0) {
            eg_dhttp_fail(p, "no line end after a chunk");
            return EG_ERROR;
        }

        p->state = EG_DHTTP_ST_CHUNK_SIZE;
        return EG_OK;

    case EG_DHTTP_ST_TRAILER:
        /* trailer fields say nothing we use */
        if (p->line_len == 0) {
            p->state = EG_DHTTP_ST_DONE;
        }

        return EG_OK;

    default:
        eg_dhttp_fail(p, "internal error: line in state %lu",
                      (unsigned long) p->state);
        return EG_ERROR;
    }
}


/* "HTTP/1.1 200 OK", the reason optional */
static eg_int_t
eg_dhttp_status_line(eg_dhttp_parser_t *p)
{
    u_char     *l;
    eg_uint_t   status;

    l = p->line;

    if (p->line_len < sizeof("HTTP/1.1 200") - 1
        || eg_memcmp(l, "HTTP/1.", sizeof("HTTP/1.") - 1) != 0
        || l[7] < '0' || l[7] > '9'
        || l[8] != ' '
        || l[9] < '1' || l[9] > '5'
        || l[10] < '0' || l[10] > '9'
        || l[11] < '0' || l[11] > '9'
        || (p->line_len > 12 && l[12] != ' '))
    {
        eg_dhttp_fail(p, "invalid status line \"%.*s\"",
                      (int) eg_min(p->line_len, 64), l);
        return EG_ERROR;
    }

    status = (eg_uint_t) ((l[9] - '0') * 100 + (l[10] - '0') * 10
                          + (l[11] - '0'));

    if (status == 101) {
        eg_dhttp_fail(p, "the server switched protocols");
        return EG_ERROR;
    }

    p->res.status = status;
    p->interim = (status < 200);
    p->state = EG_DHTTP_ST_HEADER;

    return EG_OK;
}


/* "Name: value", the name lowercased, the value without its blanks */
static eg_int_t
eg_dhttp_header_line(eg_dhttp_parser_t *p)
{
    u_char       *l, *colon, *v, *end, *c;
    size_t        i;
    ssize_t       n;
    eg_str_t      name, value, coding;
    eg_keyval_t  *kv;

    l = p->line;

    if (l[0] == ' ' || l[0] == '\t') {
        /* obsolete line folding (RFC 7230, 3.2.4): nothing modern sends it */
        eg_dhttp_fail(p, "folded header line");
        return EG_ERROR;
    }

    colon = eg_strlchr(l, l + p->line_len, ':');

    if (colon == NULL || colon == l
        || !eg_dhttp__token(l, (size_t) (colon - l)))
    {
        eg_dhttp_fail(p, "invalid header line \"%.*s\"",
                      (int) eg_min(p->line_len, 64), l);
        return EG_ERROR;
    }

    v = colon + 1;
    end = l + p->line_len;

    while (v < end && (*v == ' ' || *v == '\t')) {
        v++;
    }

    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    for (c = v; c < end; c++) {
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
            eg_dhttp_fail(p, "control character in header \"%.*s\"",
                          (int) (colon - l), l);
            return EG_ERROR;
        }
    }

    if (p->res.headers->nelts >= EG_DHTTP_MAX_HEADERS) {
        eg_dhttp_fail(p, "more than %d header lines", EG_DHTTP_MAX_HEADERS);
        return EG_ERROR;
    }

    name.len = (size_t) (colon - l);
    value.len = (size_t) (end - v);

    name.data = eg_pnalloc(p->pool, name.len + 1 + value.len + 1);
    if (name.data == NULL) {
        eg_dhttp_fail(p, "out of memory");
        return EG_ERROR;
    }

    eg_strlow(name.data, l, name.len);
    name.data[name.len] = '\0';

    value.data = name.data + name.len + 1;
    eg_memcpy(value.data, v, value.len);
    value.data[value.len] = '\0';

    kv = eg_array_push(p->res.headers);
    if (kv == NULL) {
        eg_dhttp_fail(p, "out of memory");
        return EG_ERROR;
    }

    kv->key = name;
    kv->value = value;

    if (p->interim) {
        return EG_OK;
    }

    if (eg_str_eq(&name, "content-length")) {
        n = eg_atosz(value.data, value.len);

        if (n == EG_ERROR) {
            eg_dhttp_fail(p, "invalid Content-Length \"%.*s\"",
                          (int) eg_min(value.len, 32), value.data);
            return EG_ERROR;
        }

        /* two that differ leave the framing in doubt: smuggling */

        if (p->content_length != -1 && p->content_length != (off_t) n) {
            eg_dhttp_fail(p, "two different Content-Length headers");
            return EG_ERROR;
        }

        p->content_length = (off_t) n;
        return EG_OK;
    }

    if (!eg_str_eq(&name, "transfer-encoding")) {
        return EG_OK;
    }

    /* "chunked" last, "identity" anywhere; we decode nothing else */

    v = value.data;
    end = value.data + value.len;

    while (v < end) {
        c = eg_strlchr(v, end, ',');
        coding.data = v;
        coding.len = (size_t) ((c ? c : end) - v);
        v = c ? c + 1 : end;

        while (coding.len && (coding.data[0] == ' '
                              || coding.data[0] == '\t'))
        {
            coding.data++;
            coding.len--;
        }

        while (coding.len && (coding.data[coding.len - 1] == ' '
                              || coding.data[coding.len - 1] == '\t'))
        {
            coding.len--;
        }

        for (i = 0; i < coding.len; i++) {
            coding.data[i] = eg_tolower(coding.data[i]);
        }

        if (coding.len == 0 || eg_str_eq(&coding, "identity")) {
            continue;
        }

        if (eg_str_eq(&coding, "chunked") && !p->chunked) {
            p->chunked = 1;
            continue;
        }

        eg_dhttp_fail(p, "unsupported Transfer-Encoding \"%.*s\"",
                      (int) eg_min(value.len, 64), value.data);
        return EG_ERROR;
    }

    return EG_OK;
}


/* the empty line: what delimits the body, if there is one */
static eg_int_t
eg_dhttp_header_done(eg_dhttp_parser_t *p)
{
    if (p->interim) {
        /* "100 Continue" and friends: the real answer follows */
        p->interim = 0;
        p->res.headers->nelts = 0;
        p->res.status = 0;
        p->state = EG_DHTTP_ST_STATUS;
        return EG_OK;
    }

    if (p->head || p->res.status == 204 || p->res.status == 304) {
        p->state = EG_DHTTP_ST_DONE;
        return EG_OK;
    }

    if (p->chunked) {
        /* RFC 7230, 3.3.3: chunked wins over any Content-Length */
        p->state = EG_DHTTP_ST_CHUNK_SIZE;
        return EG_OK;
    }

    if (p->content_length == -1) {
        p->state = EG_DHTTP_ST_BODY_CLOSE;
        return EG_OK;
    }

    if ((uint64_t) p->content_length > p->max_body) {
        eg_dhttp_fail(p, "the body of %lld bytes is longer than %lu",
                      (long long) p->content_length,
                      (unsigned long) p->max_body);
        return EG_ERROR;
    }

    if (p->content_length == 0) {
        p->state = EG_DHTTP_ST_DONE;
        return EG_OK;
    }

    /* the whole body at once, it is known how much */

    if (eg_dhttp_body_reserve(p, (size_t) p->content_length) != EG_OK) {
        return EG_ERROR;
    }

    p->chunk_left = (size_t) p->content_length;
    p->state = EG_DHTTP_ST_BODY;

    return EG_OK;
}


/* "1a2b", maybe followed by ";name=value" extensions, which we ignore */
static eg_int_t
eg_dhttp_chunk_size(eg_dhttp_parser_t *p)
{
    u_char  *c, *end, d;
    size_t   size;

    c = p->line;
    end = p->line + p->line_len;
    size = 0;

    if (c == end) {
        eg_dhttp_fail(p, "empty chunk size line");
        return EG_ERROR;
    }

    for ( /* void */ ; c < end; c++) {

        if (*c >= '0' && *c <= '9') {
            d = (u_char) (*c - '0');

        } else {
            d = (u_char) (*c | 0x20);

            if (d < 'a' || d > 'f') {
                break;
            }

            d = (u_char) (d - 'a' + 10);
        }

        if (size > (p->max_body >> 4) + 1) {
            eg_dhttp_fail(p, "the chunked body is longer than %lu bytes",
                          (unsigned long) p->max_body);
            return EG_ERROR;
        }

        size = size * 16 + d;
    }

    if (c == p->line || (c < end && *c != ';' && *c != ' ' && *c != '\t')) {
        eg_dhttp_fail(p, "invalid chunk size \"%.*s\"",
                      (int) eg_min(p->line_len, 32), p->line);
        return EG_ERROR;
    }

    if (size > p->max_body - p->res.body.len) {
        eg_dhttp_fail(p, "the chunked body is longer than %lu bytes",
                      (unsigned long) p->max_body);
        return EG_ERROR;
    }

    if (size == 0) {
        p->state = EG_DHTTP_ST_TRAILER;
        return EG_OK;
    }

    p->chunk_left = size;
    p->state = EG_DHTTP_ST_CHUNK_DATA;

    return EG_OK;
}


/* a piece of the current line, its end included when it has come */
static eg_int_t
eg_dhttp_line_add(eg_dhttp_parser_t *p, u_char *data, size_t len)
{
    u_char  *line;
    size_t   size, max;

    if (p->state == EG_DHTTP_ST_CHUNK_SIZE
        || p->state == EG_DHTTP_ST_CHUNK_END)
    {
        max = EG_DHTTP_MAX_CHUNK_LINE;

        if (p->line_len + len > max) {
            eg_dhttp_fail(p, "chunk size line longer than %lu bytes",
                          (unsigned long) max);
            return EG_ERROR;
        }

    } else {
        /* the status line, the header and the trailer count together */
        max = EG_DHTTP_MAX_HEADER;

        if (p->header_len + len > max) {
            eg_dhttp_fail(p, "the response header is longer than %lu "
                          "bytes", (unsigned long) max);
            return EG_ERROR;
        }

        p->header_len += len;
    }

    if (p->line_len + len > p->line_size) {
        size = eg_max(p->line_size * 2, 256);

        while (size < p->line_len + len) {
            size *= 2;
        }

        size = eg_min(size, max);

        line = eg_pnalloc(p->pool, size);
        if (line == NULL) {
            eg_dhttp_fail(p, "out of memory");
            return EG_ERROR;
        }

        if (p->line_len) {
            eg_memcpy(line, p->line, p->line_len);
        }

        if (p->line) {
            /* large ones have their own malloc(): give it back */
            (void) eg_pfree(p->pool, p->line);
        }

        p->line = line;
        p->line_size = size;
    }

    eg_memcpy(p->line + p->line_len, data, len);
    p->line_len += len;

    return EG_OK;
}


static eg_int_t
eg_dhttp_body_add(eg_dhttp_parser_t *p, u_char *data, size_t len)
{
    if (len > p->max_body - p->res.body.len) {
        eg_dhttp_fail(p, "the body is longer than %lu bytes",
                      (unsigned long) p->max_body);
        return EG_ERROR;
    }

    if (p->res.body.len + len > p->body_size
        && eg_dhttp_body_reserve(p, p->res.body.len + len) != EG_OK)
    {
        return EG_ERROR;
    }

    eg_memcpy(p->res.body.data + p->res.body.len, data, len);
    p->res.body.len += len;
    p->res.body.data[p->res.body.len] = '\0';

    return EG_OK;
}


/* room for size bytes of body and a NUL, growing by doubling */
static eg_int_t
eg_dhttp_body_reserve(eg_dhttp_parser_t *p, size_t size)
{
    u_char  *body;
    size_t   n;

    if (size <= p->body_size) {
        return EG_OK;
    }

    n = eg_max(p->body_size * 2, 4096);
    n = eg_max(n, size);
    n = eg_min(n, p->max_body);

    body = eg_pnalloc(p->pool, n + 1);
    if (body == NULL) {
        eg_dhttp_fail(p, "out of memory for a body of %lu bytes",
                      (unsigned long) n);
        return EG_ERROR;
    }

    if (p->res.body.len) {
        eg_memcpy(body, p->res.body.data, p->res.body.len);
    }

    body[p->res.body.len] = '\0';

    if (p->body_size) {
        (void) eg_pfree(p->pool, p->res.body.data);
    }

    p->res.body.data = body;
    p->body_size = n;

    return EG_OK;
}


/* RFC 7230 tchar: what names and methods are made of */
eg_uint_t
eg_dhttp__token(u_char *p, size_t len)
{
    u_char  *last;

    for (last = p + len; p < last; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9'))
        {
            continue;
        }

        switch (*p) {
        case '!': case '#': case '$': case '%': case '&': case '\'':
        case '*': case '+': case '-': case '.': case '^': case '_':
        case '`': case '|': case '~':
            continue;
        default:
            return 0;
        }
    }

    return 1;
}
