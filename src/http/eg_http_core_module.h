/*
 * The HTTP core module: servers, listen addresses, locations, limits and
 * timeouts, and the phase engine.
 */

#ifndef EG_HTTP_CORE_MODULE_H_INCLUDED
#define EG_HTTP_CORE_MODULE_H_INCLUDED


typedef enum {
    EG_HTTP_FIND_CONFIG_PHASE = 0,  /* pick the location */
    EG_HTTP_ACCESS_PHASE,           /* allow/deny */
    EG_HTTP_CONTENT_PHASE,          /* produce the response */
    EG_HTTP_LOG_PHASE               /* after the response: access_log */
} eg_http_phases;

#define EG_HTTP_PHASES  (EG_HTTP_LOG_PHASE + 1)


typedef struct {
    eg_array_t                handlers;     /* eg_http_handler_pt */
} eg_http_phase_t;


typedef struct eg_http_core_loc_conf_s  eg_http_core_loc_conf_t;


typedef struct {
    eg_array_t                servers;      /* eg_http_core_srv_conf_t * */
    eg_array_t                listen;       /* eg_http_listen_t */
    eg_http_phase_t           phases[EG_HTTP_PHASES];
} eg_http_core_main_conf_t;


typedef struct {
    eg_array_t                server_names; /* eg_str_t, lower case */
    eg_http_conf_ctx_t       *ctx;          /* the server's confs */

    u_char                   *file_name;    /* where it was defined */
    eg_uint_t                 line;

    size_t                    client_header_buffer_size;
    size_t                    large_client_header_buffers_size;
    eg_uint_t                 large_client_header_buffers_num;
    eg_msec_t                 client_header_timeout;
    eg_flag_t                 underscores_in_headers;

    /* in match order: exact, then prefix longest first, then regex */
    eg_array_t                locations;    /* eg_http_core_loc_conf_t * */

    unsigned                  listen:1;     /* has its own listen */
} eg_http_core_srv_conf_t;


struct eg_http_core_loc_conf_s {
    eg_str_t                  name;         /* "/", "/metrics", regex */

    unsigned                  exact_match:1;    /* "=" */
    unsigned                  noregex:1;        /* "^~" */
    unsigned                  regex_caseless:1; /* "~*" */

    eg_regex_t               *regex;        /* "~", "~*" */
    void                    **loc_conf;     /* this location's confs */

    eg_http_handler_pt        handler;      /* the content handler */

    eg_msec_t                 keepalive_timeout;
    eg_msec_t                 send_timeout;
    eg_uint_t                 keepalive_requests;
    eg_flag_t                 server_tokens;
};


typedef struct {
    eg_sockaddr_t             sockaddr;
    socklen_t                 socklen;
    eg_str_t                  addr_text;

    eg_http_core_srv_conf_t  *server;
    u_char                   *file_name;    /* where the listen is */
    eg_uint_t                 line;

    int                       backlog;
    int                       rcvbuf;
    int                       sndbuf;

    unsigned                  default_server:1;
    unsigned                  ssl:1;
    unsigned                  reuseport:1;
    unsigned                  ipv6only:1;
    unsigned                  bind_opts:1;  /* socket options were given */
} eg_http_listen_t;


/* what a listening socket knows: the servers that share its address */
typedef struct {
    eg_http_core_srv_conf_t  *default_server;
    eg_array_t                servers;      /* eg_http_core_srv_conf_t * */
    eg_uint_t                 ls_index;     /* in cycle->listening */
    unsigned                  ssl:1;
    unsigned                  explicit_default:1;
    unsigned                  bind_opts:1;
} eg_http_addr_conf_t;


eg_int_t eg_http_core_run_phases(eg_http_request_t *r);
eg_int_t eg_http_core_find_location(eg_http_request_t *r);
eg_int_t eg_http_core_find_server(eg_http_request_t *r);
eg_int_t eg_http_core_add_listen(eg_conf_t *cf, eg_http_core_main_conf_t *c,
    eg_http_listen_t *l);

#endif /* EG_HTTP_CORE_MODULE_H_INCLUDED */
