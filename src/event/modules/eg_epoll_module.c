/*
 * epoll(7), edge-triggered.  A connection is registered once for both
 * directions (add_conn) and stays registered until it closes; single
 * events are added for listening sockets and the signal pipe.
 *
 * Stale events: a connection closed and reused within one epoll_wait()
 * batch could receive an event meant for its previous life.  The event
 * pointer stored in the kernel carries the connection's "instance" bit in
 * its lowest bit; a mismatch marks the event stale and it is skipped.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


typedef struct {
    eg_uint_t  events;      /* epoll_wait() batch size */
} eg_epoll_conf_t;


static eg_int_t eg_epoll_init(eg_cycle_t *cycle, eg_msec_t timer);
static void eg_epoll_done(eg_cycle_t *cycle);
static eg_int_t eg_epoll_add_event(eg_event_t *ev, eg_int_t event,
    eg_uint_t flags);
static eg_int_t eg_epoll_del_event(eg_event_t *ev, eg_int_t event,
    eg_uint_t flags);
static eg_int_t eg_epoll_add_connection(eg_connection_t *c);
static eg_int_t eg_epoll_del_connection(eg_connection_t *c,
    eg_uint_t flags);
static eg_int_t eg_epoll_process_events(eg_cycle_t *cycle, eg_msec_t timer,
    eg_uint_t flags);
static void *eg_epoll_create_conf(eg_cycle_t *cycle);
static char *eg_epoll_init_conf(eg_cycle_t *cycle, void *conf);


static int                  ep = -1;
static struct epoll_event  *event_list;
static eg_uint_t            nevents;


static eg_str_t  epoll_name = eg_string("epoll");

static eg_conf_num_bounds_t  eg_epoll_events_bounds = { 1, 65536 };


static eg_command_t  eg_epoll_commands[] = {

    { eg_string("epoll_events"),
      EG_EVENT_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_epoll_conf_t, events),
      &eg_epoll_events_bounds },

      eg_null_command
};


static eg_event_module_t  eg_epoll_module_ctx = {
    &epoll_name,
    eg_epoll_create_conf,               /* create configuration */
    eg_epoll_init_conf,                 /* init configuration */

    {
        eg_epoll_add_event,             /* add an event */
        eg_epoll_del_event,             /* delete an event */
        eg_epoll_add_connection,        /* add a connection */
        eg_epoll_del_connection,        /* delete a connection */
        eg_epoll_process_events,        /* process the events */
        eg_epoll_init,                  /* init the events */
        eg_epoll_done                   /* done the events */
    }
};


eg_module_t  eg_epoll_module = {
    EG_MODULE_V1,
    "eg_epoll_module",
    EG_EVENT_MODULE,                    /* module type */
    &eg_epoll_module_ctx,               /* module context */
    eg_epoll_commands,                  /* module directives */
    NULL,                               /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static eg_int_t
eg_epoll_init(eg_cycle_t *cycle, eg_msec_t timer)
{
    eg_epoll_conf_t  *epcf;

    eg_unused(timer);

    epcf = eg_event_get_conf(cycle->conf_ctx, eg_epoll_module);

    if (ep == -1) {
        ep = epoll_create1(EPOLL_CLOEXEC);

        if (ep == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "epoll_create1() failed");
            return EG_ERROR;
        }
    }

    if (nevents < epcf->events) {
        if (event_list) {
            eg_free(event_list);
        }

        event_list = eg_alloc(sizeof(struct epoll_event) * epcf->events,
                              cycle->log);
        if (event_list == NULL) {
            return EG_ERROR;
        }
    }

    nevents = epcf->events;

    eg_event_actions = eg_epoll_module_ctx.actions;

    eg_event_flags = EG_USE_CLEAR_EVENT|EG_USE_EPOLL_EVENT;

#if (EG_HAVE_EPOLLEXCLUSIVE)
    eg_event_flags |= EG_USE_EXCLUSIVE_EVENT;
#endif

    return EG_OK;
}


static void
eg_epoll_done(eg_cycle_t *cycle)
{
    if (ep != -1 && close(ep) == -1) {
        eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                     "epoll close() failed");
    }

    ep = -1;

    eg_free(event_list);

    event_list = NULL;
    nevents = 0;
}


static uint32_t
eg_epoll_mask(eg_int_t event)
{
    return event == EG_READ_EVENT ? (EPOLLIN|EPOLLRDHUP) : EPOLLOUT;
}


static eg_int_t
eg_epoll_add_event(eg_event_t *ev, eg_int_t event, eg_uint_t flags)
{
    int                  op;
    uint32_t             events, prev;
    eg_event_t          *e;
    eg_connection_t     *c;
    struct epoll_event   ee;

    c = ev->data;

    events = eg_epoll_mask(event);

    /* the other direction may already be registered: merge with it */

    if (event == EG_READ_EVENT) {
        e = c->write;
        prev = EPOLLOUT;

    } else {
        e = c->read;
        prev = EPOLLIN|EPOLLRDHUP;
    }

    if (e->active) {
        op = EPOLL_CTL_MOD;
        events |= prev;

    } else {
        op = EPOLL_CTL_ADD;
    }

    if (flags & EG_CLEAR_EVENT) {
        events |= EPOLLET;
    }

#if (EG_HAVE_EPOLLEXCLUSIVE)
    if ((flags & EG_EXCLUSIVE_EVENT) && op == EPOLL_CTL_ADD) {
        events |= EPOLLEXCLUSIVE;
        events &= ~EPOLLRDHUP;
    }
#endif

    ee.events = events;
    ee.data.ptr = (void *) ((uintptr_t) c | ev->instance);

    if (epoll_ctl(ep, op, c->fd, &ee) == -1) {
        eg_log_error(EG_LOG_ALERT, ev->log, eg_errno,
                     "epoll_ctl(%d, %d) failed", op, c->fd);
        return EG_ERROR;
    }

    ev->active = 1;

    return EG_OK;
}


static eg_int_t
eg_epoll_del_event(eg_event_t *ev, eg_int_t event, eg_uint_t flags)
{
    int                  op;
    eg_event_t          *e;
    eg_connection_t     *c;
    struct epoll_event   ee;

    /* closing the descriptor removes it from epoll by itself */

    if (flags & EG_CLOSE_EVENT) {
        ev->active = 0;
        return EG_OK;
    }

    c = ev->data;

    e = (event == EG_READ_EVENT) ? c->write : c->read;

    if (e->active) {
        op = EPOLL_CTL_MOD;
        ee.events = eg_epoll_mask(event == EG_READ_EVENT ? EG_WRITE_EVENT
                                                         : EG_READ_EVENT)
                    | EPOLLET;
        ee.data.ptr = (void *) ((uintptr_t) c | ev->instance);

    } else {
        op = EPOLL_CTL_DEL;
        ee.events = 0;
        ee.data.ptr = NULL;
    }

    if (epoll_ctl(ep, op, c->fd, &ee) == -1) {
        eg_log_error(EG_LOG_ALERT, ev->log, eg_errno,
                     "epoll_ctl(%d, %d) failed", op, c->fd);
        return EG_ERROR;
    }

    ev->active = 0;

    return EG_OK;
}


static eg_int_t
eg_epoll_add_connection(eg_connection_t *c)
{
    struct epoll_event  ee;

    ee.events = EPOLLIN|EPOLLOUT|EPOLLET|EPOLLRDHUP;
    ee.data.ptr = (void *) ((uintptr_t) c | c->read->instance);

    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        eg_log_error(EG_LOG_ALERT, c->log, eg_errno,
                     "epoll_ctl(EPOLL_CTL_ADD, %d) failed", c->fd);
        return EG_ERROR;
    }

    c->read->active = 1;
    c->write->active = 1;

    return EG_OK;
}


static eg_int_t
eg_epoll_del_connection(eg_connection_t *c, eg_uint_t flags)
{
    struct epoll_event  ee;

    if (flags & EG_CLOSE_EVENT) {
        c->read->active = 0;
        c->write->active = 0;
        return EG_OK;
    }

    ee.events = 0;
    ee.data.ptr = NULL;

    if (epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, &ee) == -1) {
        eg_log_error(EG_LOG_ALERT, c->log, eg_errno,
                     "epoll_ctl(EPOLL_CTL_DEL, %d) failed", c->fd);
        return EG_ERROR;
    }

    c->read->active = 0;
    c->write->active = 0;

    return EG_OK;
}


static eg_int_t
eg_epoll_process_events(eg_cycle_t *cycle, eg_msec_t timer, eg_uint_t flags)
{
    int               events, i, wait;
    uint32_t          revents;
    eg_err_t          err;
    eg_uint_t         instance;
    eg_event_t       *rev, *wev;
    eg_connection_t  *c;

    wait = (timer == EG_TIMER_INFINITE) ? -1
           : (int) eg_min(timer, (eg_msec_t) INT_MAX);

    events = epoll_wait(ep, event_list, (int) nevents, wait);

    err = (events == -1) ? eg_errno : 0;

    if (flags & EG_UPDATE_TIME) {
        eg_time_update();
    }

    if (err) {
        if (err == EG_EINTR) {
            return EG_OK;   /* a signal: the caller looks at the flags */
        }

        eg_log_error(EG_LOG_ALERT, cycle->log, err, "epoll_wait() failed");
        return EG_ERROR;
    }

    if (events == 0) {
        if (timer != EG_TIMER_INFINITE) {
            return EG_OK;
        }

        eg_log_error(EG_LOG_ALERT, cycle->log, 0,
                     "epoll_wait() returned no events without timeout");
        return EG_ERROR;
    }

    for (i = 0; i < events; i++) {
        c = event_list[i].data.ptr;

        instance = (uintptr_t) c & 1;
        c = (eg_connection_t *) ((uintptr_t) c & (uintptr_t) ~1);

        rev = c->read;

        if (c->fd == -1 || rev->instance != instance) {
            /* stale: the connection was closed earlier in this batch */
            continue;
        }

        revents = event_list[i].events;

        if (revents & (EPOLLERR|EPOLLHUP)) {
            /* let the handlers find the error in read() or write() */
            revents |= EPOLLIN|EPOLLOUT;
        }

        if ((revents & EPOLLIN) && rev->active) {

            if (revents & EPOLLRDHUP) {
                rev->pending_eof = 1;
            }

            rev->ready = 1;
            rev->available = -1;

            rev->handler(rev);
        }

        wev = c->write;

        if ((revents & EPOLLOUT) && wev->active) {

            if (c->fd == -1 || wev->instance != instance) {
                /* the read handler closed it */
                continue;
            }

            wev->ready = 1;

            wev->handler(wev);
        }
    }

    return EG_OK;
}


static void *
eg_epoll_create_conf(eg_cycle_t *cycle)
{
    eg_epoll_conf_t  *epcf;

    epcf = eg_palloc(cycle->pool, sizeof(eg_epoll_conf_t));
    if (epcf == NULL) {
        return NULL;
    }

    epcf->events = EG_CONF_UNSET_UINT;

    return epcf;
}


static char *
eg_epoll_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_epoll_conf_t  *epcf = conf;

    eg_unused(cycle);

    eg_conf_init_uint_value(epcf->events, 512);

    return EG_CONF_OK;
}
