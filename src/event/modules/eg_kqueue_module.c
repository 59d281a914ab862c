/*
 * kqueue(2), for FreeBSD, OpenBSD, NetBSD and macOS; edge-triggered via
 * EV_CLEAR like our epoll module.  Changes are batched into the next
 * kevent() call instead of one system call each.  As with epoll, the
 * connection's instance bit rides in the low bit of udata to recognise
 * stale events.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


typedef struct {
    eg_uint_t  changes;     /* changes batched before a kevent() */
    eg_uint_t  events;      /* kevent() batch size */
} eg_kqueue_conf_t;


static eg_int_t eg_kqueue_init(eg_cycle_t *cycle, eg_msec_t timer);
static void eg_kqueue_done(eg_cycle_t *cycle);
static eg_int_t eg_kqueue_add_event(eg_event_t *ev, eg_int_t event,
    eg_uint_t flags);
static eg_int_t eg_kqueue_del_event(eg_event_t *ev, eg_int_t event,
    eg_uint_t flags);
static eg_int_t eg_kqueue_set_event(eg_event_t *ev, eg_int_t filter,
    eg_uint_t flags);
static eg_int_t eg_kqueue_add_connection(eg_connection_t *c);
static eg_int_t eg_kqueue_del_connection(eg_connection_t *c,
    eg_uint_t flags);
static eg_int_t eg_kqueue_process_events(eg_cycle_t *cycle,
    eg_msec_t timer, eg_uint_t flags);
static void *eg_kqueue_create_conf(eg_cycle_t *cycle);
static char *eg_kqueue_init_conf(eg_cycle_t *cycle, void *conf);


static int              kq = -1;
static struct kevent   *change_list;
static struct kevent   *event_list;
static eg_uint_t        max_changes, nchanges, nevents;


static eg_str_t  kqueue_name = eg_string("kqueue");

static eg_conf_num_bounds_t  eg_kqueue_bounds = { 1, 65536 };


static eg_command_t  eg_kqueue_commands[] = {

    { eg_string("kqueue_changes"),
      EG_EVENT_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_kqueue_conf_t, changes),
      &eg_kqueue_bounds },

    { eg_string("kqueue_events"),
      EG_EVENT_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_kqueue_conf_t, events),
      &eg_kqueue_bounds },

      eg_null_command
};


static eg_event_module_t  eg_kqueue_module_ctx = {
    &kqueue_name,
    eg_kqueue_create_conf,              /* create configuration */
    eg_kqueue_init_conf,                /* init configuration */

    {
        eg_kqueue_add_event,            /* add an event */
        eg_kqueue_del_event,            /* delete an event */
        eg_kqueue_add_connection,       /* add a connection */
        eg_kqueue_del_connection,       /* delete a connection */
        eg_kqueue_process_events,       /* process the events */
        eg_kqueue_init,                 /* init the events */
        eg_kqueue_done                  /* done the events */
    }
};


eg_module_t  eg_kqueue_module = {
    EG_MODULE_V1,
    "eg_kqueue_module",
    EG_EVENT_MODULE,                    /* module type */
    &eg_kqueue_module_ctx,              /* module context */
    eg_kqueue_commands,                 /* module directives */
    NULL,                               /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static eg_int_t
eg_kqueue_init(eg_cycle_t *cycle, eg_msec_t timer)
{
    eg_kqueue_conf_t  *kcf;

    eg_unused(timer);

    kcf = eg_event_get_conf(cycle->conf_ctx, eg_kqueue_module);

    if (kq == -1) {
        kq = kqueue();

        if (kq == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "kqueue() failed");
            return EG_ERROR;
        }

        (void) eg_cloexec(kq);
    }

    if (max_changes < kcf->changes) {
        eg_free(change_list);

        change_list = eg_alloc(kcf->changes * sizeof(struct kevent),
                               cycle->log);
        if (change_list == NULL) {
            return EG_ERROR;
        }
    }

    max_changes = kcf->changes;
    nchanges = 0;

    if (nevents < kcf->events) {
        eg_free(event_list);

        event_list = eg_alloc(kcf->events * sizeof(struct kevent),
                              cycle->log);
        if (event_list == NULL) {
            return EG_ERROR;
        }
    }

    nevents = kcf->events;

    eg_event_actions = eg_kqueue_module_ctx.actions;

    eg_event_flags = EG_USE_CLEAR_EVENT|EG_USE_KQUEUE_EVENT;

    return EG_OK;
}


static void
eg_kqueue_done(eg_cycle_t *cycle)
{
    if (kq != -1 && close(kq) == -1) {
        eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                     "kqueue close() failed");
    }

    kq = -1;

    eg_free(change_list);
    eg_free(event_list);

    change_list = NULL;
    event_list = NULL;
    max_changes = 0;
    nchanges = 0;
    nevents = 0;
}


static eg_int_t
eg_kqueue_add_event(eg_event_t *ev, eg_int_t event, eg_uint_t flags)
{
    ev->active = 1;
    ev->disabled = 0;

    return eg_kqueue_set_event(ev,
                               event == EG_READ_EVENT ? EVFILT_READ
                                                      : EVFILT_WRITE,
                               EV_ADD|EV_ENABLE
                               | ((flags & EG_CLEAR_EVENT) ? EV_CLEAR : 0));
}


static eg_int_t
eg_kqueue_del_event(eg_event_t *ev, eg_int_t event, eg_uint_t flags)
{
    eg_int_t     i;
    eg_event_t  *e;

    ev->active = 0;
    ev->disabled = 0;

    /* a change still in the batch can simply be dropped */

    if (ev->index < nchanges
        && ((uintptr_t) change_list[ev->index].udata & (uintptr_t) ~1)
           == (uintptr_t) ev)
    {
        i = (eg_int_t) ev->index;
        nchanges--;

        if ((eg_uint_t) i < nchanges) {
            change_list[i] = change_list[nchanges];
            e = (eg_event_t *) ((uintptr_t) change_list[i].udata
                                & (uintptr_t) ~1);
            e->index = (eg_uint_t) i;
        }

        return EG_OK;
    }

    /* closing the descriptor removes its filters by itself */

    if (flags & EG_CLOSE_EVENT) {
        return EG_OK;
    }

    return eg_kqueue_set_event(ev,
                               event == EG_READ_EVENT ? EVFILT_READ
                                                      : EVFILT_WRITE,
                               EV_DELETE);
}


static eg_int_t
eg_kqueue_set_event(eg_event_t *ev, eg_int_t filter, eg_uint_t flags)
{
    struct kevent    *kev;
    eg_connection_t  *c;

    c = ev->data;

    if (nchanges >= max_changes) {
        if (kevent(kq, change_list, (int) nchanges, NULL, 0, NULL) == -1) {
            eg_log_error(EG_LOG_ALERT, ev->log, eg_errno, "kevent() failed");
            return EG_ERROR;
        }

        nchanges = 0;
    }

    kev = &change_list[nchanges];

    EV_SET(kev, (uintptr_t) c->fd, (short) filter, (unsigned short) flags,
           0, 0, (void *) ((uintptr_t) ev | ev->instance));

    ev->index = nchanges;
    nchanges++;

    return EG_OK;
}


static eg_int_t
eg_kqueue_add_connection(eg_connection_t *c)
{
    if (eg_kqueue_add_event(c->read, EG_READ_EVENT, EG_CLEAR_EVENT)
        == EG_ERROR)
    {
        return EG_ERROR;
    }

    return eg_kqueue_add_event(c->write, EG_WRITE_EVENT, EG_CLEAR_EVENT);
}


static eg_int_t
eg_kqueue_del_connection(eg_connection_t *c, eg_uint_t flags)
{
    if (eg_kqueue_del_event(c->read, EG_READ_EVENT, flags) == EG_ERROR) {
        return EG_ERROR;
    }

    return eg_kqueue_del_event(c->write, EG_WRITE_EVENT, flags);
}


static eg_int_t
eg_kqueue_process_events(eg_cycle_t *cycle, eg_msec_t timer,
    eg_uint_t flags)
{
    int               events, n, i;
    eg_err_t          err;
    eg_uint_t         instance;
    eg_event_t       *ev;
    struct timespec   ts, *tp;

    n = (int) nchanges;
    nchanges = 0;

    if (timer == EG_TIMER_INFINITE) {
        tp = NULL;

    } else {
        ts.tv_sec = (time_t) (timer / 1000);
        ts.tv_nsec = (long) ((timer % 1000) * 1000000);
        tp = &ts;
    }

    events = kevent(kq, change_list, n, event_list, (int) nevents, tp);

    err = (events == -1) ? eg_errno : 0;

    if (flags & EG_UPDATE_TIME) {
        eg_time_update();
    }

    if (err) {
        if (err == EG_EINTR) {
            return EG_OK;
        }

        eg_log_error(EG_LOG_ALERT, cycle->log, err, "kevent() failed");
        return EG_ERROR;
    }

    if (events == 0) {
        if (timer != EG_TIMER_INFINITE) {
            return EG_OK;
        }

        eg_log_error(EG_LOG_ALERT, cycle->log, 0,
                     "kevent() returned no events without timeout");
        return EG_ERROR;
    }

    for (i = 0; i < events; i++) {

        if (event_list[i].flags & EV_ERROR) {
            eg_log_error(EG_LOG_ALERT, cycle->log,
                         (eg_err_t) event_list[i].data,
                         "kevent() error on %d filter:%d",
                         (int) event_list[i].ident,
                         (int) event_list[i].filter);
            continue;
        }

        ev = (eg_event_t *) event_list[i].udata;
        instance = (uintptr_t) ev & 1;
        ev = (eg_event_t *) ((uintptr_t) ev & (uintptr_t) ~1);

        if (ev->closed || ev->instance != instance) {
            /* stale: the connection was closed earlier in this batch */
            continue;
        }

        ev->available = (int) event_list[i].data;

        if (event_list[i].flags & EV_EOF) {
            ev->pending_eof = 1;
        }

        ev->ready = 1;

        ev->handler(ev);
    }

    return EG_OK;
}


static void *
eg_kqueue_create_conf(eg_cycle_t *cycle)
{
    eg_kqueue_conf_t  *kcf;

    kcf = eg_palloc(cycle->pool, sizeof(eg_kqueue_conf_t));
    if (kcf == NULL) {
        return NULL;
    }

    kcf->changes = EG_CONF_UNSET_UINT;
    kcf->events = EG_CONF_UNSET_UINT;

    return kcf;
}


static char *
eg_kqueue_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_kqueue_conf_t  *kcf = conf;

    eg_unused(cycle);

    eg_conf_init_uint_value(kcf->changes, 512);
    eg_conf_init_uint_value(kcf->events, 512);

    return EG_CONF_OK;
}
