/*
 * HTTP requests.
 */

#ifndef EG_HTTP_REQUEST_H_INCLUDED
#define EG_HTTP_REQUEST_H_INCLUDED


#define EG_HTTP_VERSION_9           9
#define EG_HTTP_VERSION_10          1000
#define EG_HTTP_VERSION_11          1001

#define EG_HTTP_UNKNOWN             0x0001
#define EG_HTTP_GET                 0x0002
#define EG_HTTP_HEAD                0x0004
#define EG_HTTP_POST                0x0008
#define EG_HTTP_PUT                 0x0010
#define EG_HTTP_DELETE              0x0020
#define EG_HTTP_OPTIONS             0x0040
#define EG_HTTP_PATCH               0x0080
#define EG_HTTP_TRACE               0x0100
#define EG_HTTP_CONNECT             0x0200

/* parser results besides EG_OK and EG_AGAIN */
#define EG_HTTP_PARSE_HEADER_DONE       1
#define EG_HTTP_PARSE_INVALID_METHOD    10
#define EG_HTTP_PARSE_INVALID_REQUEST   11
#define EG_HTTP_PARSE_INVALID_VERSION   12
#define EG_HTTP_PARSE_INVALID_HEADER    13

#define EG_HTTP_OK                      200
#define EG_HTTP_NO_CONTENT              204
#define EG_HTTP_MOVED_PERMANENTLY       301
#define EG_HTTP_NOT_MODIFIED            304
#define EG_HTTP_BAD_REQUEST             400
#define EG_HTTP_FORBIDDEN               403
#define EG_HTTP_NOT_FOUND               404
#define EG_HTTP_NOT_ALLOWED             405
#define EG_HTTP_REQUEST_TIME_OUT        408
#define EG_HTTP_REQUEST_ENTITY_TOO_LARGE 413
#define EG_HTTP_REQUEST_URI_TOO_LARGE   414
#define EG_HTTP_HEADER_FIELDS_TOO_LARGE 431
#define EG_HTTP_INTERNAL_SERVER_ERROR   500
#define EG_HTTP_NOT_IMPLEMENTED         501
#define EG_HTTP_SERVICE_UNAVAILABLE     503
#define EG_HTTP_VERSION_NOT_SUPPORTED   505

/* "close the connection without a response", as nginx's 444 */
#define EG_HTTP_CLOSE                   444


typedef struct eg_table_elt_s  eg_table_elt_t;

struct eg_table_elt_s {
    eg_str_t             key;
    eg_str_t             value;
    u_char              *lowcase_key;
    eg_table_elt_t      *next;
};


typedef struct {
    eg_list_t            headers;       /* eg_table_elt_t, all of them */

    eg_table_elt_t      *host;
    eg_table_elt_t      *connection;
    eg_table_elt_t      *user_agent;
    eg_table_elt_t      *accept_encoding;
    eg_table_elt_t      *content_length;
    eg_table_elt_t      *transfer_encoding;

    eg_str_t             server;        /* the host name, without port */
    off_t                content_length_n;

    unsigned             connection_close:1;
    unsigned             connection_keep_alive:1;
    unsigned             chunked:1;
} eg_http_headers_in_t;


typedef struct {
    eg_list_t            headers;       /* extra response headers */

    eg_uint_t            status;
    eg_str_t             content_type;
    off_t                content_length_n;
} eg_http_headers_out_t;


typedef void (*eg_http_event_handler_pt)(eg_http_request_t *r);


/* per connection, kept between the requests of a keep-alive connection */
typedef struct {
    eg_connection_t     *connection;
    eg_http_request_t   *request;       /* the one being served, or NULL */
    void                *addr_conf;     /* eg_http_addr_conf_t */
    eg_uint_t            requests;      /* served so far */
    eg_buf_t            *buf;           /* client_header_buffer_size */
    eg_buf_t            *large;         /* for pipelined leftovers */
    eg_buf_t            *current;       /* where the next request is */
    eg_uint_t            stat;          /* EG_HTTP_STAT_*, for metrics */
    unsigned             grace:1;       /* idle at shutdown, given a
                                           moment for one more request */
} eg_http_connection_t;


struct eg_http_request_s {
    eg_connection_t         *connection;
    eg_http_connection_t    *http_connection;

    void                   **ctx;       /* per module, by ctx_index */
    void                   **main_conf;
    void                   **srv_conf;
    void                   **loc_conf;

    eg_http_event_handler_pt read_event_handler;
    eg_http_event_handler_pt write_event_handler;

    eg_pool_t               *pool;
    eg_buf_t                *header_in;

    eg_http_headers_in_t     headers_in;
    eg_http_headers_out_t    headers_out;

    eg_msec_t                start_msec;
    uint64_t                 start_usec;    /* precise, for the histogram */

    eg_uint_t                method;
    eg_uint_t                http_version;

    eg_str_t                 request_line;
    eg_str_t                 uri;           /* decoded, normalised */
    eg_str_t                 args;          /* after "?" */
    eg_str_t                 unparsed_uri;
    eg_str_t                 method_name;
    eg_str_t                 http_protocol;

    /* the response being written: header, then body */
    struct iovec             out[2];
    eg_uint_t                nout;
    off_t                    body_bytes_sent;
    off_t                    bytes_sent;

    eg_uint_t                large_buffers;    /* grown this many times */
    eg_int_t                 phase_handler;
    eg_http_handler_pt       content_handler;
    eg_str_t                 allow;         /* for 405: "GET, HEAD" */

    /* parser state */
    eg_uint_t                state;
    eg_uint_t                header_hash;
    eg_uint_t                lowcase_index;
    u_char                   lowcase_header[32];

    u_char                  *header_name_start;
    u_char                  *header_name_end;
    u_char                  *header_start;
    u_char                  *header_end;

    u_char                  *request_start;
    u_char                  *request_end;
    u_char                  *method_end;
    u_char                  *schema_start;
    u_char                  *schema_end;
    u_char                  *host_start;
    u_char                  *host_end;
    u_char                  *uri_start;
    u_char                  *uri_end;
    u_char                  *args_start;
    u_char                  *http_start;

    eg_uint_t                http_major;
    eg_uint_t                http_minor;

    unsigned                 complex_uri:1;     /* needs normalising */
    unsigned                 quoted_uri:1;      /* has %XX */
    unsigned                 invalid_header:1;
    unsigned                 keepalive:1;
    unsigned                 header_only:1;     /* HEAD */
    unsigned                 header_sent:1;
    unsigned                 response_sent:1;
    unsigned                 logged:1;
    unsigned                 gzip_ok:1;         /* client accepts gzip */
    unsigned                 gzip_vary:1;
};

#endif /* EG_HTTP_REQUEST_H_INCLUDED */
