/*
 * Incremental HTTP/1.x parsers.  Each call consumes what the buffer holds
 * and either finishes the element (request line, one header), or returns
 * EG_AGAIN with its state saved in the request, to be called again when
 * more bytes arrive.  Pointers into the buffer are saved too; whoever
 * moves the buffer must move them (eg_http_request.c does).
 *
 * The grammar is RFC 9112's, applied strictly where laxness has been a
 * source of request smuggling (bare CR, NUL, folded headers, spaces in
 * header names) and leniently where clients are known to differ (a bare
 * LF ends a line, leading empty lines before a request are skipped).
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>


/* characters allowed in a request target, beyond alphanumerics */
static eg_uint_t
eg_http_uri_char(u_char ch)
{
    /* visible ASCII and any UTF-8 byte; no controls, space or DEL */
    return ch > 0x20 && ch != 0x7f;
}


static eg_uint_t
eg_http_token_char(u_char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
        || (ch >= '0' && ch <= '9'))
    {
        return 1;
    }

    switch (ch) {
    case '!': case '#': case '$': case '%': case '&': case '\'':
    case '*': case '+': case '-': case '.': case '^': case '_':
    case '`': case '|': case '~':
        return 1;
    }

    return 0;
}


static void
eg_http_set_method(eg_http_request_t *r, u_char *start, u_char *end)
{
    static const struct {
        const char  *name;
        eg_uint_t    method;
    } methods[] = {
        { "GET",     EG_HTTP_GET },
        { "HEAD",    EG_HTTP_HEAD },
        { "POST",    EG_HTTP_POST },
        { "PUT",     EG_HTTP_PUT },
        { "DELETE",  EG_HTTP_DELETE },
        { "OPTIONS", EG_HTTP_OPTIONS },
        { "PATCH",   EG_HTTP_PATCH },
        { "TRACE",   EG_HTTP_TRACE },
        { "CONNECT", EG_HTTP_CONNECT },
        { NULL, 0 }
    };

    size_t     len;
    eg_uint_t  i;

    len = (size_t) (end - start);

    for (i = 0; methods[i].name; i++) {
        if (strlen(methods[i].name) == len
            && eg_memcmp(start, methods[i].name, len) == 0)
        {
            r->method = methods[i].method;
            return;
        }
    }

    r->method = EG_HTTP_UNKNOWN;
}


eg_int_t
eg_http_parse_request_line(eg_http_request_t *r, eg_buf_t *b)
{
    u_char  ch, *p;
    enum {
        sw_start = 0,
        sw_method,
        sw_spaces_before_uri,
        sw_schema,
        sw_schema_slash,
        sw_schema_slash_slash,
        sw_host,
        sw_uri,
        sw_http_H,
        sw_http_HT,
        sw_http_HTT,
        sw_http_HTTP,
        sw_http_slash,
        sw_first_major_digit,
        sw_major_digit,
        sw_first_minor_digit,
        sw_minor_digit,
        sw_spaces_after_version,
        sw_almost_done
    } state;

    state = r->state;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {

        case sw_start:
            if (ch == '\r' || ch == '\n') {
                break;      /* empty lines before a request are allowed */
            }

            if (ch < 'A' || ch > 'Z') {
                return EG_HTTP_PARSE_INVALID_METHOD;
            }

            r->request_start = p;
            state = sw_method;
            break;

        case sw_method:
            if (ch == ' ') {
                r->method_end = p;
                eg_http_set_method(r, r->request_start, p);
                state = sw_spaces_before_uri;
                break;
            }

            if ((ch < 'A' || ch > 'Z') && ch != '_' && ch != '-') {
                return EG_HTTP_PARSE_INVALID_METHOD;
            }

            if (p - r->request_start >= 32) {
                return EG_HTTP_PARSE_INVALID_METHOD;    /* 32 at most */
            }

            break;

        case sw_spaces_before_uri:
            if (ch == '/') {
                r->uri_start = p;
                state = sw_uri;
                break;
            }

            if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') {
                r->schema_start = p;
                state = sw_schema;
                break;
            }

            if (ch == '*' && r->method == EG_HTTP_OPTIONS) {
                r->uri_start = p;
                state = sw_uri;
                break;
            }

            return EG_HTTP_PARSE_INVALID_REQUEST;

        case sw_schema:
            if (((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
                || (ch >= '0' && ch <= '9') || ch == '+' || ch == '-'
                || ch == '.')
            {
                break;
            }

            if (ch == ':') {
                r->schema_end = p;
                state = sw_schema_slash;
                break;
            }

            return EG_HTTP_PARSE_INVALID_REQUEST;

        case sw_schema_slash:
            if (ch != '/') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            state = sw_schema_slash_slash;
            break;

        case sw_schema_slash_slash:
            if (ch != '/') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            r->host_start = p + 1;
            state = sw_host;
            break;

        case sw_host:
            if (ch == '/') {
                r->host_end = p;
                r->uri_start = p;
                state = sw_uri;
                break;
            }

            if (ch == ' ') {
                /* "GET http://host HTTP/1.1": the path is "/" */
                r->host_end = p;
                r->uri_start = NULL;
                r->uri_end = NULL;
                state = sw_http_H;
                break;
            }

            if (eg_http_token_char(ch) || ch == ':' || ch == '[' || ch == ']')
            {
                break;
            }

            return EG_HTTP_PARSE_INVALID_REQUEST;

        case sw_uri:
            if (ch == ' ') {
                r->uri_end = p;
                state = sw_http_H;
                break;
            }

            if (!eg_http_uri_char(ch)) {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            switch (ch) {
            case '?':
                if (r->args_start == NULL) {
                    r->args_start = p + 1;
                }
                break;

            case '%':
                if (r->args_start == NULL) {
                    r->quoted_uri = 1;
                }
                break;

            case '.':
            case '#':
            case '\\':
                if (r->args_start == NULL) {
                    r->complex_uri = 1;
                }
                break;

            case '/':
                if (r->args_start == NULL && p[-1] == '/') {
                    r->complex_uri = 1;
                }
                break;
            }

            break;

        case sw_http_H:
            if (ch == ' ') {
                break;      /* tolerate several spaces before the version */
            }

            if (ch != 'H') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_start = p;
            state = sw_http_HT;
            break;

        case sw_http_HT:
            if (ch != 'T') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_http_HTT;
            break;

        case sw_http_HTT:
            if (ch != 'T') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_http_HTTP;
            break;

        case sw_http_HTTP:
            if (ch != 'P') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_http_slash;
            break;

        case sw_http_slash:
            if (ch != '/') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_first_major_digit;
            break;

        case sw_first_major_digit:
            if (ch < '1' || ch > '9') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_major = ch - '0';
            state = sw_major_digit;
            break;

        case sw_major_digit:
            if (ch == '.') {
                state = sw_first_minor_digit;
                break;
            }

            if (ch < '0' || ch > '9' || r->http_major > 9) {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_major = r->http_major * 10 + (ch - '0');
            break;

        case sw_first_minor_digit:
            if (ch < '0' || ch > '9') {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_minor = ch - '0';
            state = sw_minor_digit;
            break;

        case sw_minor_digit:
            if (ch == '\r') {
                state = sw_almost_done;
                break;
            }

            if (ch == '\n') {
                goto done;
            }

            if (ch == ' ') {
                state = sw_spaces_after_version;
                break;
            }

            if (ch < '0' || ch > '9' || r->http_minor > 99) {
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            r->http_minor = r->http_minor * 10 + (ch - '0');
            break;

        case sw_spaces_after_version:
            /* trailing spaces only: "HTTP/1.1 1" is not HTTP/1.11 */
            switch (ch) {
            case ' ':
                break;

            case '\r':
                state = sw_almost_done;
                break;

            case '\n':
                goto done;

            default:
                return EG_HTTP_PARSE_INVALID_REQUEST;
            }

            break;

        case sw_almost_done:
            r->request_end = p - 1;

            if (ch == '\n') {
                goto done;
            }

            return EG_HTTP_PARSE_INVALID_REQUEST;
        }
    }

    b->pos = p;
    r->state = state;

    return EG_AGAIN;

done:

    b->pos = p + 1;

    if (r->request_end == NULL) {
        r->request_end = p;
    }

    r->http_version = r->http_major * 1000 + r->http_minor;
    r->state = sw_start;

    if (r->http_major > 1) {
        return EG_HTTP_PARSE_INVALID_VERSION;
    }

    return EG_OK;
}


/*
 * One header line.  The lower-cased name (up to 32 bytes) is collected
 * in r->lowcase_header as it goes, for the caller's lookups.
 */
eg_int_t
eg_http_parse_header_line(eg_http_request_t *r, eg_buf_t *b,
    eg_uint_t allow_underscores)
{
    u_char     c, ch, *p;
    eg_uint_t  i;
    enum {
        sw_start = 0,
        sw_name,
        sw_space_before_value,
        sw_value,
        sw_space_after_value,
        sw_almost_done,
        sw_header_almost_done
    } state;

    state = r->state;
    i = r->lowcase_index;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {

        case sw_start:
            r->header_name_start = p;
            r->invalid_header = 0;

            switch (ch) {
            case '\r':
                r->header_end = p;
                state = sw_header_almost_done;
                break;

            case '\n':
                r->header_end = p;
                goto header_done;

            default:
                state = sw_name;
                i = 0;

                c = eg_tolower(ch);

                if (eg_http_token_char(ch)
                    && (ch != '_' || allow_underscores))
                {
                    r->lowcase_header[i++] = c;
                    break;
                }

                if (ch == ' ' || ch == '\t') {
                    /* obsolete line folding: refused (RFC 9112, 5.2) */
                    return EG_HTTP_PARSE_INVALID_HEADER;
                }

                if (ch <= 0x20 || ch == 0x7f || ch == ':') {
                    return EG_HTTP_PARSE_INVALID_HEADER;
                }

                r->invalid_header = 1;
                break;
            }

            break;

        case sw_name:
            if (ch == ':') {
                r->header_name_end = p;
                state = sw_space_before_value;
                break;
            }

            if (eg_http_token_char(ch) && (ch != '_' || allow_underscores)) {
                if (i < sizeof(r->lowcase_header)) {
                    r->lowcase_header[i++] = eg_tolower(ch);
                } else {
                    i = sizeof(r->lowcase_header) + 1;
                }

                break;
            }

            if (ch <= 0x20 || ch == 0x7f) {
                /* no space before the colon: a smuggling vector */
                return EG_HTTP_PARSE_INVALID_HEADER;
            }

            r->invalid_header = 1;
            break;

        case sw_space_before_value:
            switch (ch) {
            case ' ':
            case '\t':
                break;

            case '\r':
                r->header_start = p;
                r->header_end = p;
                state = sw_almost_done;
                break;

            case '\n':
                r->header_start = p;
                r->header_end = p;
                goto done;

            case '\0':
                return EG_HTTP_PARSE_INVALID_HEADER;

            default:
                r->header_start = p;
                state = sw_value;
                break;
            }

            break;

        case sw_value:
            switch (ch) {
            case ' ':
            case '\t':
                r->header_end = p;
                state = sw_space_after_value;
                break;

            case '\r':
                r->header_end = p;
                state = sw_almost_done;
                break;

            case '\n':
                r->header_end = p;
                goto done;

            case '\0':
                return EG_HTTP_PARSE_INVALID_HEADER;
            }

            break;

        case sw_space_after_value:
            switch (ch) {
            case ' ':
            case '\t':
                break;

            case '\r':
                state = sw_almost_done;
                break;

            case '\n':
                goto done;

            case '\0':
                return EG_HTTP_PARSE_INVALID_HEADER;

            default:
                state = sw_value;
                break;
            }

            break;

        case sw_almost_done:
            if (ch == '\n') {
                goto done;
            }

            return EG_HTTP_PARSE_INVALID_HEADER;

        case sw_header_almost_done:
            if (ch == '\n') {
                goto header_done;
            }

            return EG_HTTP_PARSE_INVALID_HEADER;
        }
    }

    b->pos = p;
    r->state = state;
    r->lowcase_index = i;

    return EG_AGAIN;

done:

    b->pos = p + 1;
    r->state = sw_start;
    r->lowcase_index = i;

    if (i > sizeof(r->lowcase_header)) {
        /* too long to be one we know; kept, never matched */
        r->lowcase_index = 0;
    }

    return EG_OK;

header_done:

    b->pos = p + 1;
    r->state = sw_start;

    return EG_HTTP_PARSE_HEADER_DONE;
}


static eg_int_t
eg_http_unhex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = (u_char) (c | 0x20);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/*
 * Decodes %XX in the path and resolves "//", "/./" and "/../", so that
 * locations match what the client means and never more: "/../" above the
 * root and an encoded NUL are errors.  r->uri must already point at a
 * writable copy of the path.
 */
eg_int_t
eg_http_normalize_uri(eg_http_request_t *r)
{
    u_char    *src, *dst, *last, ch;
    eg_int_t   hi, lo;

    if (r->uri.len == 0 || r->uri.data[0] != '/') {
        return EG_ERROR;    /* the "/../" walk back stops at this slash */
    }

    src = r->uri.data;
    last = src + r->uri.len;
    dst = r->uri.data;

    while (src < last) {
        ch = *src++;

        if (ch == '#') {
            break;      /* a fragment is not part of the path; "%23" is */
        }

        if (ch == '%') {
            if (last - src < 2) {
                return EG_ERROR;
            }

            hi = eg_http_unhex(src[0]);
            lo = eg_http_unhex(src[1]);

            if (hi < 0 || lo < 0) {
                return EG_ERROR;
            }

            ch = (u_char) (hi * 16 + lo);
            src += 2;

            if (ch == '\0') {
                return EG_ERROR;
            }
        }

        if (ch == '\\') {
            ch = '/';
        }

        *dst++ = ch;

        if (ch != '/') {
            continue;
        }

        /* at a "/": fold what the previous segment turned out to be */

        for ( ;; ) {
            if (dst - r->uri.data >= 2 && dst[-2] == '/') {
                dst--;                          /* "//" */
                continue;
            }

            if (dst - r->uri.data >= 3 && dst[-2] == '.' && dst[-3] == '/')
            {
                dst -= 2;                       /* "/./" */
                continue;
            }

            if (dst - r->uri.data >= 4 && dst[-2] == '.' && dst[-3] == '.'
                && dst[-4] == '/')
            {
                dst -= 4;                       /* "/../" */

                if (dst == r->uri.data) {
                    return EG_ERROR;
                }

                while (dst[-1] != '/') {
                    dst--;
                }

                continue;
            }

            break;
        }
    }

    /* a trailing "/." or "/.." */

    if (dst - r->uri.data >= 2 && dst[-1] == '.' && dst[-2] == '/') {
        dst--;

    } else if (dst - r->uri.data >= 3 && dst[-1] == '.' && dst[-2] == '.'
               && dst[-3] == '/')
    {
        dst -= 3;

        if (dst == r->uri.data) {
            return EG_ERROR;
        }

        while (dst[-1] != '/') {
            dst--;
        }
    }

    r->uri.len = (size_t) (dst - r->uri.data);

    return EG_OK;
}


/* "close", "keep-alive", or a list of tokens: which one applies */
eg_int_t
eg_http_parse_connection(eg_str_t *value)
{
    u_char    *p, *last, *start;
    size_t     len;
    eg_int_t   rc;

    rc = 0;
    p = value->data;
    last = p + value->len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }

        len = (size_t) (p - start);

        if (len == 5 && eg_strncasecmp(start, (u_char *) "close", 5) == 0) {
            return 1;   /* close wins over anything else */
        }

        if (len == 10
            && eg_strncasecmp(start, (u_char *) "keep-alive", 10) == 0)
        {
            rc = 2;
        }
    }

    return rc;
}


/*
 * Whether an Accept-Encoding value accepts the coding: listed (or "*")
 * with a q-value that is not zero.
 */
eg_uint_t
eg_http_parse_accept_encoding(eg_str_t *value, const char *coding)
{
    u_char    *p, *last, *start, *end;
    size_t     clen;
    eg_uint_t  match, star, zero;

    clen = strlen(coding);
    p = value->data;
    last = p + value->len;
    star = 0;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',' && *p != ';' && *p != ' '
               && *p != '\t')
        {
            p++;
        }

        end = p;

        match = ((size_t) (end - start) == clen
                 && eg_strncasecmp(start, (u_char *) coding, clen) == 0);

        zero = 0;

        /* parameters: only q matters, and only whether it is zero */

        while (p < last && *p != ',') {
            if (*p == 'q' || *p == 'Q') {
                p++;

                while (p < last && (*p == ' ' || *p == '\t')) {
                    p++;
                }

                if (p < last && *p == '=') {
                    p++;

                    while (p < last && (*p == ' ' || *p == '\t')) {
                        p++;
                    }

                    zero = 1;

                    while (p < last && (*p == '0' || *p == '.')) {
                        p++;
                    }

                    if (p < last && *p >= '1' && *p <= '9') {
                        zero = 0;
                    }
                }

                continue;
            }

            p++;
        }

        if (match) {
            return !zero;
        }

        if (end - start == 1 && *start == '*' && !zero) {
            star = 1;
        }
    }

    return star;
}
