/*
 * Events.  An event is "this connection can be read" or "... written" or
 * "this timer fired"; its handler runs from the worker's loop.  The loop
 * is driven by one event module (epoll, kqueue or poll), which fills in
 * eg_event_actions; the rest of the code calls eg_handle_read_event() and
 * friends and never learns which one is in use.
 */

#ifndef EG_EVENT_H_INCLUDED
#define EG_EVENT_H_INCLUDED


#define EG_INVALID_INDEX  0xd0d0d0d0


struct eg_event_s {
    void                 *data;         /* usually the connection */
    eg_event_handler_pt   handler;

    eg_uint_t             index;        /* in the poll module's array */
    eg_log_t             *log;

    eg_rbtree_node_t      timer;        /* in the timer tree */
    eg_queue_t            queue;        /* in a posted queue */

    int                   available;    /* bytes readable, when known */

    unsigned              write:1;      /* a write event */
    unsigned              accept:1;     /* on a listening socket */
    unsigned              instance:1;   /* detects stale epoll events */
    unsigned              active:1;     /* registered with the kernel */
    unsigned              disabled:1;
    unsigned              ready:1;      /* I/O may proceed */
    unsigned              oneshot:1;
    unsigned              eof:1;        /* the peer closed */
    unsigned              pending_eof:1;
    unsigned              error:1;
    unsigned              timedout:1;
    unsigned              timer_set:1;
    unsigned              delayed:1;
    unsigned              posted:1;
    unsigned              closed:1;     /* its connection is closed */
    unsigned              cancelable:1; /* a timer that must not delay exit */
    unsigned              channel:1;    /* the signal pipe, not a client */
};


typedef struct {
    eg_int_t  (*add)(eg_event_t *ev, eg_int_t event, eg_uint_t flags);
    eg_int_t  (*del)(eg_event_t *ev, eg_int_t event, eg_uint_t flags);

    /* registers both directions of a connection at once (edge modes) */
    eg_int_t  (*add_conn)(eg_connection_t *c);
    eg_int_t  (*del_conn)(eg_connection_t *c, eg_uint_t flags);

    /* waits at most timer ms and runs the handlers of what fired */
    eg_int_t  (*process_events)(eg_cycle_t *cycle, eg_msec_t timer,
                                eg_uint_t flags);

    eg_int_t  (*init)(eg_cycle_t *cycle, eg_msec_t timer);
    void      (*done)(eg_cycle_t *cycle);
} eg_event_actions_t;


extern eg_event_actions_t  eg_event_actions;
extern eg_uint_t           eg_event_flags;
extern eg_module_t         eg_events_module;
extern eg_module_t         eg_event_core_module;


/* the context of directives inside "events {}" */
#define EG_EVENT_CONF          0x02000000


/* what an event module can do, in eg_event_flags */
#define EG_USE_LEVEL_EVENT     0x00000001   /* poll: level-triggered */
#define EG_USE_CLEAR_EVENT     0x00000002   /* epoll, kqueue: edge */
#define EG_USE_FD_EVENT        0x00000004   /* poll: events by fd index */
#define EG_USE_EPOLL_EVENT     0x00000008
#define EG_USE_KQUEUE_EVENT    0x00000010
#define EG_USE_EXCLUSIVE_EVENT 0x00000020   /* wake one worker per accept */

/* the events: abstract, each module maps them to its own */
#define EG_READ_EVENT          1
#define EG_WRITE_EVENT         2

/* flags of add/del */
#define EG_LEVEL_EVENT         0x00
#define EG_CLEAR_EVENT         0x01
#define EG_EXCLUSIVE_EVENT     0x02
#define EG_CLOSE_EVENT         0x04         /* fd is about to close */
#define EG_DISABLE_EVENT       0x08

/* flags of process_events */
#define EG_UPDATE_TIME         1


#define eg_add_event         eg_event_actions.add
#define eg_del_event         eg_event_actions.del
#define eg_add_conn          eg_event_actions.add_conn
#define eg_del_conn          eg_event_actions.del_conn
#define eg_process_events    eg_event_actions.process_events
#define eg_done_events       eg_event_actions.done


typedef struct {
    eg_uint_t             connections;  /* worker_connections */
    eg_uint_t             use;          /* ctx_index of the module */
    eg_flag_t             multi_accept;
    const char           *name;         /* of the module in use */
} eg_event_conf_t;


/* the context of an event module */
typedef struct {
    eg_str_t             *name;
    void               *(*create_conf)(eg_cycle_t *cycle);
    char               *(*init_conf)(eg_cycle_t *cycle, void *conf);
    eg_event_actions_t    actions;
} eg_event_module_t;


#define eg_event_get_conf(conf_ctx, module)                                  \
    ((void **) (conf_ctx)[eg_events_module.index])[module.ctx_index]


void eg_process_events_and_timers(eg_cycle_t *cycle);
eg_int_t eg_handle_read_event(eg_event_t *rev, eg_uint_t flags);
eg_int_t eg_handle_write_event(eg_event_t *wev);
eg_int_t eg_event_listen_start(eg_cycle_t *cycle);
void eg_event_listen_stop(eg_cycle_t *cycle);
void eg_event_accept(eg_event_t *ev);

/* the worker's signal pipe; see eg_process_cycle.c */
eg_connection_t *eg_event_add_channel(eg_cycle_t *cycle, int fd,
    eg_event_handler_pt handler);

ssize_t eg_unix_recv(eg_connection_t *c, u_char *buf, size_t size);
ssize_t eg_unix_send(eg_connection_t *c, u_char *buf, size_t size);
ssize_t eg_udp_recvfrom(eg_connection_t *c, u_char *buf, size_t size,
    struct sockaddr *sa, socklen_t *socklen);
ssize_t eg_udp_sendto(eg_connection_t *c, u_char *buf, size_t size,
    struct sockaddr *sa, socklen_t socklen);


#include <eg_event_timer.h>
#include <eg_event_posted.h>
#include <eg_event_connect.h>

#endif /* EG_EVENT_H_INCLUDED */
