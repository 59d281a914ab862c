/*
 * Listening sockets and connections.
 *
 * Listening sockets belong to the cycle and outlive it: a reload hands
 * each one to the new cycle when the address matches, and a binary
 * upgrade (USR2) hands them to the new executable through the ENGRAM
 * environment variable.  Clients never see the socket close.
 *
 * Connections are preallocated per worker (worker_connections) and kept
 * on a free list; an idle keep-alive connection marks itself reusable so
 * that it can be closed when the list runs dry.
 */

#ifndef EG_CONNECTION_H_INCLUDED
#define EG_CONNECTION_H_INCLUDED


typedef ssize_t (*eg_recv_pt)(eg_connection_t *c, u_char *buf, size_t size);
typedef ssize_t (*eg_send_pt)(eg_connection_t *c, u_char *buf, size_t size);


struct eg_listening_s {
    int                       fd;

    eg_sockaddr_t             sockaddr;
    socklen_t                 socklen;
    eg_str_t                  addr_text;    /* "127.0.0.1:8081" */

    int                       type;         /* SOCK_STREAM, SOCK_DGRAM */
    int                       backlog;
    int                       rcvbuf;       /* -1: leave the default */
    int                       sndbuf;

    /* called for each accepted connection */
    eg_connection_handler_pt  handler;
    void                     *servers;      /* the owner module's data */
    void                     *tag;          /* the owner module */

    eg_log_t                  log;
    eg_log_t                 *logp;
    size_t                    pool_size;    /* of each connection's pool */

    eg_uint_t                 worker;       /* owner, for reuseport */

    eg_listening_t           *previous;     /* this socket, old cycle */
    eg_connection_t          *connection;   /* in a worker's event loop */

    unsigned                  open:1;       /* fd is valid */
    unsigned                  remain:1;     /* kept by the new cycle */
    unsigned                  ignore:1;     /* not ours to close */
    unsigned                  inherited:1;  /* came from an old binary */
    unsigned                  reuseport:1;  /* SO_REUSEPORT */
    unsigned                  ipv6only:1;   /* IPV6_V6ONLY */
    unsigned                  module_only:1;/* not accepted by workers */
};


struct eg_connection_s {
    void                     *data;         /* the protocol's state */
    eg_event_t               *read;
    eg_event_t               *write;

    int                       fd;

    eg_recv_pt                recv;
    eg_send_pt                send;

    eg_listening_t           *listening;

    off_t                     sent;         /* bytes written */

    eg_log_t                 *log;
    eg_pool_t                *pool;

    int                       type;         /* SOCK_STREAM, SOCK_DGRAM */

    struct sockaddr          *sockaddr;     /* the peer */
    socklen_t                 socklen;
    eg_str_t                  addr_text;

    eg_buf_t                 *buffer;

    eg_queue_t                queue;        /* in the reusable queue */

    eg_uint_t                 number;       /* for log lines, "*N" */
    eg_msec_t                 start_time;
    eg_uint_t                 requests;     /* served on this connection */

    void                     *ssl;          /* TLS state, when used */

    unsigned                  timedout:1;
    unsigned                  error:1;
    unsigned                  destroyed:1;
    unsigned                  idle:1;       /* between requests */
    unsigned                  reusable:1;   /* may be closed for room */
    unsigned                  close:1;      /* close at the next chance */
    unsigned                  tcp_nodelay:1;
    unsigned                  ssl_failed:1; /* the TLS handshake did */
};


eg_listening_t *eg_create_listening(eg_conf_t *cf, struct sockaddr *sa,
    socklen_t socklen, int type);
eg_int_t eg_set_inherited_sockets(eg_cycle_t *cycle);
eg_int_t eg_clone_listening(eg_cycle_t *cycle, eg_uint_t workers);
eg_int_t eg_open_listening_sockets(eg_cycle_t *cycle);
void eg_configure_listening_sockets(eg_cycle_t *cycle);
void eg_close_listening_sockets(eg_cycle_t *cycle);

eg_connection_t *eg_get_connection(int fd, eg_log_t *log);
void eg_free_connection(eg_connection_t *c);
void eg_close_connection(eg_connection_t *c);
void eg_close_idle_connections(eg_cycle_t *cycle);
void eg_reusable_connection(eg_connection_t *c, eg_uint_t reusable);
eg_int_t eg_tcp_nodelay(eg_connection_t *c);
eg_int_t eg_connection_error(eg_connection_t *c, eg_err_t err,
    const char *text);

extern eg_uint_t  eg_connection_counter;

#endif /* EG_CONNECTION_H_INCLUDED */
