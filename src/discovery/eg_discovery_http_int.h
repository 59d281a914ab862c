/*
 * The parts of the discovery HTTP client that do no I/O
 * (eg_discovery_http_parse.c), for the connection's code
 * (eg_discovery_http.c) and so that the unit tests and the fuzzers can
 * feed them bytes: the URL of a request, and the response parser.
 *
 * The parser takes the bytes of one response as they come, in pieces of
 * any size: the status line, the header (names lowercased), then the
 * body, delimited by Content-Length, by chunks (de-chunked as it goes) or
 * by the end of the connection.  Interim 1xx answers are skipped.  Every
 * length is bounded: a line, the whole header, the number of headers and
 * the body (max_body), so that a server cannot make the cluster process
 * grow without end.
 */

#ifndef EG_DISCOVERY_HTTP_INT_H_INCLUDED
#define EG_DISCOVERY_HTTP_INT_H_INCLUDED


#include <eg_discovery_http.h>


#define EG_DHTTP_MAX_HEADER     65536   /* status line and header lines */
#define EG_DHTTP_MAX_HEADERS    100     /* header lines */
#define EG_DHTTP_MAX_BODY       (16 * 1024 * 1024)  /* max_body 0 */


typedef struct {
    eg_uint_t            ssl;           /* https */
    eg_str_t             host;          /* without brackets */
    in_port_t            port;          /* given, or 80 / 443 */
    eg_str_t             path;          /* "/path?query", "/" at least */
    eg_str_t             host_header;   /* "host", "host:port", "[::1]:80" */
    eg_str_t             authority;     /* "host:port" for messages */
    eg_uint_t            literal;       /* host is an IP address */
    eg_addr_t            addr;          /* then, with the port */
} eg_dhttp_url_t;


typedef struct {
    eg_uint_t            state;         /* where in the response */
    eg_pool_t           *pool;          /* of the request */
    size_t               max_body;
    eg_uint_t            head;          /* the request was HEAD */

    u_char              *line;          /* the line being gathered */
    size_t               line_len;
    size_t               line_size;     /* allocated */
    size_t               header_len;    /* bytes of header so far */

    off_t                content_length;    /* -1: not given */
    size_t               chunk_left;    /* bytes of the current chunk */
    size_t               body_size;     /* allocated for res.body */

    eg_uint_t            chunked;
    eg_uint_t            interim;       /* the header of a 1xx answer */

    eg_dhttp_response_t  res;           /* what was parsed */
    char                 err[160];      /* why EG_ERROR */
} eg_dhttp_parser_t;


/*
 * "http[s]://host[:port][/path][?query]"; EG_ERROR with *err saying why.
 * The path must come encoded: spaces and control characters are refused.
 */
eg_int_t eg_dhttp__parse_url(eg_pool_t *pool, eg_str_t *text,
    eg_dhttp_url_t *u, const char **err);

/* max_body 0: EG_DHTTP_MAX_BODY */
eg_int_t eg_dhttp__parser_init(eg_dhttp_parser_t *p, eg_pool_t *pool,
    size_t max_body, eg_uint_t head);

/*
 * The next bytes of the response: EG_AGAIN (more to come), EG_OK (the
 * response is complete: p->res; bytes after it are ignored, there is one
 * request per connection) or EG_ERROR (p->err).
 */
eg_int_t eg_dhttp__parse(eg_dhttp_parser_t *p, u_char *data, size_t len);

/* the server closed the connection: EG_OK if that ends the response */
eg_int_t eg_dhttp__parse_eof(eg_dhttp_parser_t *p);

/* all of the len bytes are RFC 7230 tchar: a header name, a method */
eg_uint_t eg_dhttp__token(u_char *p, size_t len);


#endif /* EG_DISCOVERY_HTTP_INT_H_INCLUDED */
