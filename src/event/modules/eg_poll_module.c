/*
 * poll(2), level-triggered: the portable fallback.  One pollfd per
 * descriptor, shared by its read and write events; a descriptor's slot is
 * remembered in the event's index, and removal moves the last slot into
 * the hole so the array stays dense.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


static eg_int_t eg_poll_init(eg_cycle_t *cycle, eg_msec_t timer);
static void eg_poll_done(eg_cycle_t *cycle);
static eg_int_t eg_poll_add_event(eg_event_t *ev, eg_int_t event,
    eg_uint_t flags);
static eg_int_t eg_poll_del_event(eg_event_t *ev, eg_int_t event,
    eg_uint_t flags);
static eg_int_t eg_poll_process_events(eg_cycle_t *cycle, eg_msec_t timer,
    eg_uint_t flags);


static struct pollfd     *event_list;
static eg_connection_t  **conn_list;    /* the owner of each slot */
static eg_uint_t          nevents;
static eg_uint_t          nalloc;


static eg_str_t  poll_name = eg_string("poll");


static eg_event_module_t  eg_poll_module_ctx = {
    &poll_name,
    NULL,                               /* create configuration */
    NULL,                               /* init configuration */

    {
        eg_poll_add_event,              /* add an event */
        eg_poll_del_event,              /* delete an event */
        NULL,                           /* add a connection */
        NULL,                           /* delete a connection */
        eg_poll_process_events,         /* process the events */
        eg_poll_init,                   /* init the events */
        eg_poll_done                    /* done the events */
    }
};


eg_module_t  eg_poll_module = {
    EG_MODULE_V1,
    "eg_poll_module",
    EG_EVENT_MODULE,                    /* module type */
    &eg_poll_module_ctx,                /* module context */
    NULL,                               /* module directives */
    NULL,                               /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static eg_int_t
eg_poll_init(eg_cycle_t *cycle, eg_msec_t timer)
{
    eg_uint_t          n;
    struct pollfd     *list;
    eg_connection_t  **conns;

    eg_unused(timer);

    /* every connection, plus the signal pipe, may need a slot */
    n = cycle->connection_n + 1;

    if (n > nalloc) {
        list = eg_alloc(sizeof(struct pollfd) * n, cycle->log);
        conns = eg_alloc(sizeof(eg_connection_t *) * n, cycle->log);

        if (list == NULL || conns == NULL) {
            eg_free(list);
            eg_free(conns);
            return EG_ERROR;
        }

        if (nevents) {
            eg_memcpy(list, event_list, sizeof(struct pollfd) * nevents);
            eg_memcpy(conns, conn_list, sizeof(eg_connection_t *) * nevents);
        }

        eg_free(event_list);
        eg_free(conn_list);

        event_list = list;
        conn_list = conns;
        nalloc = n;
    }

    eg_event_actions = eg_poll_module_ctx.actions;

    eg_event_flags = EG_USE_LEVEL_EVENT|EG_USE_FD_EVENT;

    return EG_OK;
}


static void
eg_poll_done(eg_cycle_t *cycle)
{
    eg_unused(cycle);

    eg_free(event_list);
    eg_free(conn_list);

    event_list = NULL;
    conn_list = NULL;
    nevents = 0;
    nalloc = 0;
}


static eg_int_t
eg_poll_add_event(eg_event_t *ev, eg_int_t event, eg_uint_t flags)
{
    short             mask;
    eg_event_t       *e;
    eg_connection_t  *c;

    eg_unused(flags);

    c = ev->data;

    ev->active = 1;

    if (ev->index != EG_INVALID_INDEX) {
        eg_log_error(EG_LOG_ALERT, ev->log, 0,
                     "poll event fd:%d ev:%ld is already set", c->fd,
                     (long) event);
        return EG_OK;
    }

    if (event == EG_READ_EVENT) {
        e = c->write;
        mask = POLLIN;

    } else {
        e = c->read;
        mask = POLLOUT;
    }

    if (e == NULL || e->index == EG_INVALID_INDEX) {
        if (nevents == nalloc) {
            eg_log_error(EG_LOG_ALERT, ev->log, 0,
                         "poll array is full (%lu)",
                         (unsigned long) nalloc);
            ev->active = 0;
            return EG_ERROR;
        }

        event_list[nevents].fd = c->fd;
        event_list[nevents].events = mask;
        event_list[nevents].revents = 0;
        conn_list[nevents] = c;

        ev->index = nevents;
        nevents++;

    } else {
        event_list[e->index].events |= mask;
        ev->index = e->index;
    }

    return EG_OK;
}


static eg_int_t
eg_poll_del_event(eg_event_t *ev, eg_int_t event, eg_uint_t flags)
{
    short             mask;
    eg_event_t       *e;
    eg_connection_t  *c, *moved;

    eg_unused(flags);

    c = ev->data;

    ev->active = 0;

    if (ev->index == EG_INVALID_INDEX) {
        eg_log_error(EG_LOG_ALERT, ev->log, 0,
                     "poll event fd:%d ev:%ld is already deleted",
                     c->fd, (long) event);
        return EG_OK;
    }

    if (event == EG_READ_EVENT) {
        e = c->write;
        mask = POLLIN;

    } else {
        e = c->read;
        mask = POLLOUT;
    }

    if (e == NULL || e->index == EG_INVALID_INDEX) {

        /* the slot is free: move the last one into it */

        nevents--;

        if (ev->index < nevents) {
            event_list[ev->index] = event_list[nevents];
            conn_list[ev->index] = conn_list[nevents];

            moved = conn_list[ev->index];

            if (moved->read->index == nevents) {
                moved->read->index = ev->index;
            }

            if (moved->write->index == nevents) {
                moved->write->index = ev->index;
            }
        }

    } else {
        event_list[e->index].events &= (short) ~mask;
    }

    ev->index = EG_INVALID_INDEX;

    return EG_OK;
}


static eg_int_t
eg_poll_process_events(eg_cycle_t *cycle, eg_msec_t timer, eg_uint_t flags)
{
    int               ready, revents, wait;
    eg_err_t          err;
    eg_uint_t         i;
    eg_event_t       *ev;
    eg_connection_t  *c;

    wait = (timer == EG_TIMER_INFINITE) ? -1
           : (int) eg_min(timer, (eg_msec_t) INT_MAX);

    ready = poll(event_list, (nfds_t) nevents, wait);

    err = (ready == -1) ? eg_errno : 0;

    if (flags & EG_UPDATE_TIME) {
        eg_time_update();
    }

    if (err) {
        if (err == EG_EINTR) {
            return EG_OK;
        }

        eg_log_error(EG_LOG_ALERT, cycle->log, err, "poll() failed");
        return EG_ERROR;
    }

    if (ready == 0) {
        if (timer != EG_TIMER_INFINITE) {
            return EG_OK;
        }

        eg_log_error(EG_LOG_ALERT, cycle->log, 0,
                     "poll() returned no events without timeout");
        return EG_ERROR;
    }

    /*
     * Handlers may add and remove events, which moves slots around; walk
     * by index and re-read each slot, accepting that a moved slot may
     * wait for the next round.
     */

    for (i = 0; i < nevents && ready; i++) {

        revents = event_list[i].revents;

        if (revents == 0) {
            continue;
        }

        ready--;
        event_list[i].revents = 0;

        if (revents & POLLNVAL) {
            eg_log_error(EG_LOG_ALERT, cycle->log, 0,
                         "poll() error fd:%d ev:%04x rev:%04x",
                         event_list[i].fd, event_list[i].events, revents);
        }

        if (revents & (POLLERR|POLLHUP|POLLNVAL)) {
            revents |= POLLIN|POLLOUT;
        }

        c = conn_list[i];

        if ((revents & POLLIN) && c->read->active) {
            ev = c->read;
            ev->ready = 1;
            ev->available = -1;
            ev->handler(ev);
        }

        if ((revents & POLLOUT) && c->fd != -1 && c->write->active) {
            ev = c->write;
            ev->ready = 1;
            ev->handler(ev);
        }
    }

    return EG_OK;
}
