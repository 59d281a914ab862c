/*
 * Outgoing connections: a non-blocking connect() wrapped as a connection
 * in the event loop.
 */

#ifndef EG_EVENT_CONNECT_H_INCLUDED
#define EG_EVENT_CONNECT_H_INCLUDED


typedef struct {
    eg_connection_t      *connection;

    struct sockaddr      *sockaddr;
    socklen_t             socklen;
    eg_str_t             *name;         /* for messages */

    int                   type;         /* SOCK_STREAM or SOCK_DGRAM */
    int                   rcvbuf;

    eg_log_t             *log;
    struct sockaddr      *local;        /* bind to this first, if set */
} eg_peer_connection_t;


/*
 * Returns EG_OK (connected), EG_AGAIN (in progress: wait for the write
 * event), EG_DECLINED (refused at once: try another peer) or EG_ERROR.
 */
eg_int_t eg_event_connect_peer(eg_peer_connection_t *pc);

/* after the write event of an EG_AGAIN connect: EG_OK or EG_ERROR */
eg_int_t eg_event_connect_result(eg_connection_t *c);

#endif /* EG_EVENT_CONNECT_H_INCLUDED */
