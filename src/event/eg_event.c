/*
 * The event layer: the "events {}" block, the choice of event module,
 * the per-process set-up of connections and listening sockets, and the
 * loop iteration every process runs.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


#define DEFAULT_CONNECTIONS  512


static void **eg_events_create_confs(eg_cycle_t *cycle);
static char *eg_events_block(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static char *eg_events_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_event_finish_confs(eg_conf_t *cf, void **ctx);
static char *eg_event_use(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static void *eg_event_core_create_conf(eg_cycle_t *cycle);
static char *eg_event_core_init_conf(eg_cycle_t *cycle, void *conf);
static eg_int_t eg_event_module_init(eg_cycle_t *cycle);
static eg_int_t eg_event_process_init(eg_cycle_t *cycle);
static void eg_event_process_exit(eg_cycle_t *cycle);
static void *eg_event_map(size_t size, eg_log_t *log);
static void eg_event_unmap(void *p, size_t size);


eg_uint_t           eg_event_flags;
eg_event_actions_t  eg_event_actions;


static eg_command_t  eg_events_commands[] = {

    { eg_string("events"),
      EG_MAIN_CONF|EG_CONF_BLOCK|EG_CONF_NOARGS,
      eg_events_block,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_core_module_t  eg_events_module_ctx = {
    eg_string("events"),
    NULL,
    eg_events_init_conf
};


eg_module_t  eg_events_module = {
    EG_MODULE_V1,
    "eg_events_module",
    EG_CORE_MODULE,                     /* module type */
    &eg_events_module_ctx,              /* module context */
    eg_events_commands,                 /* module directives */
    NULL,                               /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static eg_str_t  event_core_name = eg_string("event_core");

static eg_conf_num_bounds_t  eg_event_connections_bounds = { 16, 1048576 };


static eg_command_t  eg_event_core_commands[] = {

    { eg_string("worker_connections"),
      EG_EVENT_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_event_conf_t, connections),
      &eg_event_connections_bounds },

    { eg_string("use"),
      EG_EVENT_CONF|EG_CONF_TAKE1,
      eg_event_use,
      0,
      0,
      NULL },

    { eg_string("multi_accept"),
      EG_EVENT_CONF|EG_CONF_FLAG,
      eg_conf_set_flag_slot,
      0,
      offsetof(eg_event_conf_t, multi_accept),
      NULL },

      eg_null_command
};


static eg_conf_env_t  eg_event_core_env[] = {
    { "ENGRAM_WORKER_CONNECTIONS", eg_string("worker_connections"), 0 },
    { "ENGRAM_EVENTS_USE", eg_string("use"), 0 },
    { NULL, eg_null_string, 0 }
};


static eg_event_module_t  eg_event_core_module_ctx = {
    &event_core_name,
    eg_event_core_create_conf,          /* create configuration */
    eg_event_core_init_conf,            /* init configuration */
    { NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};


eg_module_t  eg_event_core_module = {
    EG_MODULE_V1,
    "eg_event_core_module",
    EG_EVENT_MODULE,                    /* module type */
    &eg_event_core_module_ctx,          /* module context */
    eg_event_core_commands,             /* module directives */
    eg_event_core_env,                  /* environment overrides */
    NULL,                               /* init master */
    eg_event_module_init,               /* init module */
    eg_event_process_init,              /* init process */
    eg_event_process_exit,              /* exit process */
    NULL                                /* exit master */
};


static void **
eg_events_create_confs(eg_cycle_t *cycle)
{
    void               **ctx;
    eg_uint_t            i, n;
    eg_event_module_t   *m;

    n = eg_count_modules(cycle, EG_EVENT_MODULE);

    ctx = eg_pcalloc(cycle->pool, n * sizeof(void *));
    if (ctx == NULL) {
        return NULL;
    }

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->type != EG_EVENT_MODULE) {
            continue;
        }

        m = cycle->modules[i]->ctx;

        if (m->create_conf) {
            ctx[cycle->modules[i]->ctx_index] = m->create_conf(cycle);

            if (ctx[cycle->modules[i]->ctx_index] == NULL) {
                return NULL;
            }
        }
    }

    return ctx;
}


/* "events { ... }": make the event modules' confs and parse the body */
static char *
eg_events_block(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char       *rv;
    void      **ctx;
    eg_conf_t   pcf;

    eg_unused(cmd);

    if (*(void **) conf) {
        return "is duplicate";
    }

    ctx = eg_events_create_confs(cf->cycle);
    if (ctx == NULL) {
        return EG_CONF_ERROR;
    }

    *(void **) conf = ctx;

    /*
     * Directives inside find their conf through cf->ctx as "the array
     * this points to, at the module's ctx_index": hand over the slot.
     */

    pcf = *cf;
    cf->ctx = conf;
    cf->module_type = EG_EVENT_MODULE;
    cf->cmd_type = EG_EVENT_CONF;

    rv = eg_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != EG_CONF_OK) {
        return rv;
    }

    return eg_event_finish_confs(cf, ctx);
}


/* ENGRAM_* overrides, then each event module's init_conf */
static char *
eg_event_finish_confs(eg_conf_t *cf, void **ctx)
{
    char               *rv;
    eg_uint_t           i;
    eg_module_t        *module;
    eg_event_module_t  *m;

    for (i = 0; i < cf->cycle->modules_n; i++) {
        module = cf->cycle->modules[i];

        if (module->type != EG_EVENT_MODULE) {
            continue;
        }

        if (eg_conf_env_apply(cf, module, ctx[module->ctx_index])
            != EG_CONF_OK)
        {
            return EG_CONF_ERROR;
        }

        m = module->ctx;

        if (m->init_conf) {
            rv = m->init_conf(cf->cycle, ctx[module->ctx_index]);
            if (rv != EG_CONF_OK) {
                return rv;
            }
        }
    }

    return EG_CONF_OK;
}


/* with no "events {}" in the file, every event setting takes its default */
static char *
eg_events_init_conf(eg_cycle_t *cycle, void *conf)
{
    void       **ctx;
    eg_conf_t    cf;

    eg_unused(conf);

    if (cycle->conf_ctx[eg_events_module.index]) {
        return EG_CONF_OK;
    }

    ctx = eg_events_create_confs(cycle);
    if (ctx == NULL) {
        return EG_CONF_ERROR;
    }

    cycle->conf_ctx[eg_events_module.index] = ctx;

    eg_memzero(&cf, sizeof(eg_conf_t));

    cf.args = eg_array_create(cycle->pool, 4, sizeof(eg_str_t));
    if (cf.args == NULL) {
        return EG_CONF_ERROR;
    }

    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    return eg_event_finish_confs(&cf, ctx);
}


static char *
eg_event_use(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_event_conf_t  *ecf = conf;

    u_char              built[128], *p, *last;
    eg_uint_t           i;
    eg_str_t           *value;
    eg_event_module_t  *module;

    if (ecf->use != EG_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < cf->cycle->modules_n; i++) {
        if (cf->cycle->modules[i]->type != EG_EVENT_MODULE) {
            continue;
        }

        module = cf->cycle->modules[i]->ctx;

        if (module->name->len == value[1].len
            && eg_strcmp(module->name->data, value[1].data) == 0
            && module->actions.init != NULL)
        {
            ecf->use = cf->cycle->modules[i]->ctx_index;
            ecf->name = (const char *) module->name->data;
            return EG_CONF_OK;
        }
    }

    p = built;
    last = built + sizeof(built);

    for (i = 0; i < cf->cycle->modules_n; i++) {
        if (cf->cycle->modules[i]->type != EG_EVENT_MODULE) {
            continue;
        }

        module = cf->cycle->modules[i]->ctx;

        if (module->actions.init != NULL) {
            p = eg_slprintf(p, last, "%s\"%s\"", p == built ? "" : ", ",
                            module->name->data);
        }
    }

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "invalid event type \"%s\" in \"%s\" directive, "
                      "it must be one of %s", value[1].data, cmd->name.data,
                      built);

    return EG_CONF_ERROR;
}


static void *
eg_event_core_create_conf(eg_cycle_t *cycle)
{
    eg_event_conf_t  *ecf;

    ecf = eg_palloc(cycle->pool, sizeof(eg_event_conf_t));
    if (ecf == NULL) {
        return NULL;
    }

    ecf->connections = EG_CONF_UNSET_UINT;
    ecf->use = EG_CONF_UNSET_UINT;
    ecf->multi_accept = EG_CONF_UNSET;
    ecf->name = NULL;

    return ecf;
}


static char *
eg_event_core_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_event_conf_t  *ecf = conf;

    eg_int_t            best;
    eg_uint_t           i;
    eg_event_module_t  *m;

    eg_conf_init_uint_value(ecf->connections, DEFAULT_CONNECTIONS);
    eg_conf_init_value(ecf->multi_accept, 1);

    if (ecf->use != EG_CONF_UNSET_UINT) {
        return EG_CONF_OK;
    }

    /* the preferred module is the first in configure's order */

    best = -1;

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->type != EG_EVENT_MODULE) {
            continue;
        }

        m = cycle->modules[i]->ctx;

        if (m->actions.init == NULL) {
            continue;
        }

        best = (eg_int_t) i;
        break;
    }

    if (best == -1) {
        eg_log_error(EG_LOG_EMERG, cycle->log, 0, "no events module found");
        return EG_CONF_ERROR;
    }

    m = cycle->modules[best]->ctx;
    ecf->use = cycle->modules[best]->ctx_index;
    ecf->name = (const char *) m->name->data;

    return EG_CONF_OK;
}


static eg_int_t
eg_event_module_init(eg_cycle_t *cycle)
{
    eg_uint_t         limit;
    struct rlimit     rlmt;
    eg_core_conf_t   *ccf;
    eg_event_conf_t  *ecf;

    ecf = eg_event_get_conf(cycle->conf_ctx, eg_event_core_module);

    if (!eg_test_config && eg_process <= EG_PROCESS_MASTER) {
        eg_log_error(EG_LOG_NOTICE, cycle->log, 0,
                     "using the \"%s\" event method", ecf->name);
    }

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    limit = (ccf->rlimit_nofile != EG_CONF_UNSET)
            ? (eg_uint_t) ccf->rlimit_nofile
            : (getrlimit(RLIMIT_NOFILE, &rlmt) == 0
               && rlmt.rlim_cur != RLIM_INFINITY)
              ? (eg_uint_t) rlmt.rlim_cur : 0;

    if (limit && ecf->connections > limit) {
        eg_log_error(EG_LOG_WARN, cycle->log, 0,
                     "%lu worker_connections exceed open file resource "
                     "limit: %lu", (unsigned long) ecf->connections,
                     (unsigned long) limit);
    }

    return EG_OK;
}


/* in each process: the event module, the connection pool, the listeners */
static eg_int_t
eg_event_process_init(eg_cycle_t *cycle)
{
    eg_uint_t           m;
    eg_event_conf_t    *ecf;
    eg_event_module_t  *module;

    ecf = eg_event_get_conf(cycle->conf_ctx, eg_event_core_module);

    eg_queue_init(&eg_posted_events);

    if (eg_event_timer_init(cycle->log) != EG_OK) {
        return EG_ERROR;
    }

    cycle->connection_n = ecf->connections;

    for (m = 0; m < cycle->modules_n; m++) {
        if (cycle->modules[m]->type != EG_EVENT_MODULE
            || cycle->modules[m]->ctx_index != ecf->use)
        {
            continue;
        }

        module = cycle->modules[m]->ctx;

        if (module->actions.init(cycle, 0) != EG_OK) {
            /* fatal */
            exit(2);
        }

        break;
    }

    /*
     * The slots are fresh anonymous mappings, zeroes that take no memory
     * until touched: eg_get_connection() hands out never-used slots in
     * order, so a process that serves a few connections at a time keeps
     * only those few pages resident, whatever worker_connections says.
     */

    cycle->connections = eg_event_map(sizeof(eg_connection_t)
                                      * cycle->connection_n, cycle->log);
    cycle->read_events = eg_event_map(sizeof(eg_event_t)
                                      * cycle->connection_n, cycle->log);
    cycle->write_events = eg_event_map(sizeof(eg_event_t)
                                       * cycle->connection_n, cycle->log);

    if (cycle->connections == NULL || cycle->read_events == NULL
        || cycle->write_events == NULL)
    {
        return EG_ERROR;
    }

    cycle->connection_used = 0;
    cycle->free_connections = NULL;
    cycle->free_connection_n = cycle->connection_n;

    if (eg_process == EG_PROCESS_HELPER) {
        /* module processes own their sockets; they accept nothing here */
        return EG_OK;
    }

    return eg_event_listen_start(cycle);
}


/*
 * Tears the loop down: every connection is closed (clients of a
 * single-process reload are dropped) and the module releases its state.
 */
static void
eg_event_process_exit(eg_cycle_t *cycle)
{
    eg_uint_t         i;
    eg_connection_t  *c;

    if (cycle->connections == NULL) {
        return;
    }

    c = cycle->connections;

    for (i = 0; i < cycle->connection_used; i++) {
        if (c[i].fd == -1 || c[i].read->accept || c[i].read->channel) {
            continue;
        }

        (void) close(c[i].fd);
        c[i].fd = -1;

        if (c[i].pool) {
            eg_destroy_pool(c[i].pool);
            c[i].pool = NULL;
        }
    }

    eg_done_events(cycle);

    eg_event_unmap(cycle->connections,
                   sizeof(eg_connection_t) * cycle->connection_n);
    eg_event_unmap(cycle->read_events,
                   sizeof(eg_event_t) * cycle->connection_n);
    eg_event_unmap(cycle->write_events,
                   sizeof(eg_event_t) * cycle->connection_n);

    cycle->connections = NULL;
    cycle->read_events = NULL;
    cycle->write_events = NULL;
    cycle->free_connections = NULL;
    cycle->free_connection_n = 0;
    cycle->connection_n = 0;
    cycle->connection_used = 0;
}


static void *
eg_event_map(size_t size, eg_log_t *log)
{
    void  *p;

    p = mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_ANON|MAP_PRIVATE, -1, 0);

    if (p == MAP_FAILED) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno,
                     "mmap(MAP_ANON|MAP_PRIVATE, %zu) failed", size);
        return NULL;
    }

    return p;
}


static void
eg_event_unmap(void *p, size_t size)
{
    if (p != NULL) {
        (void) munmap(p, size);
    }
}


/* puts every listening socket of the workers into this event loop */
eg_int_t
eg_event_listen_start(eg_cycle_t *cycle)
{
    eg_uint_t         i, flags;
    eg_event_t       *rev;
    eg_listening_t   *ls;
    eg_connection_t  *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        if (ls[i].fd == -1 || ls[i].module_only || ls[i].ignore
            || ls[i].type != SOCK_STREAM)
        {
            continue;
        }

        if (ls[i].reuseport && ls[i].worker != eg_worker
            && eg_process == EG_PROCESS_WORKER)
        {
            /* another worker's socket: the kernel balances between them */
            continue;
        }

        c = eg_get_connection(ls[i].fd, cycle->log);
        if (c == NULL) {
            return EG_ERROR;
        }

        c->type = ls[i].type;
        c->log = &ls[i].log;
        c->listening = &ls[i];
        ls[i].connection = c;

        rev = c->read;
        rev->log = c->log;
        rev->accept = 1;
        rev->handler = eg_event_accept;

        /*
         * With several workers, wake only one per new connection where
         * the kernel can (EPOLLEXCLUSIVE); elsewhere all wake and the
         * losers get EAGAIN from accept(), which is harmless.
         */

        flags = (eg_event_flags & EG_USE_EXCLUSIVE_EVENT)
                ? EG_EXCLUSIVE_EVENT : 0;

        if (eg_add_event(rev, EG_READ_EVENT, flags) == EG_ERROR) {
            return EG_ERROR;
        }
    }

    return EG_OK;
}


void
eg_process_events_and_timers(eg_cycle_t *cycle)
{
    eg_msec_t  timer, delta;

    timer = eg_event_find_timer();

    delta = eg_current_msec;

    (void) eg_process_events(cycle, timer, EG_UPDATE_TIME);

    delta = eg_current_msec - delta;

    if (delta || timer == 0) {
        eg_event_expire_timers();
    }

    eg_event_process_posted(cycle, &eg_posted_events);
}


/*
 * Ask for readiness of a read event in whatever way the module needs:
 * edge-triggered modules register once and keep the registration;
 * level-triggered ones must remove it while the data is being consumed,
 * or the loop would spin on it.
 */
eg_int_t
eg_handle_read_event(eg_event_t *rev, eg_uint_t flags)
{
    if (eg_event_flags & EG_USE_CLEAR_EVENT) {

        if (!rev->active && !rev->ready) {
            if (eg_add_event(rev, EG_READ_EVENT, EG_CLEAR_EVENT)
                == EG_ERROR)
            {
                return EG_ERROR;
            }
        }

        return EG_OK;
    }

    if (!rev->active && !rev->ready) {
        if (eg_add_event(rev, EG_READ_EVENT, EG_LEVEL_EVENT) == EG_ERROR) {
            return EG_ERROR;
        }

        return EG_OK;
    }

    if (rev->active && (rev->ready || (flags & EG_CLOSE_EVENT))) {
        if (eg_del_event(rev, EG_READ_EVENT, EG_LEVEL_EVENT|flags)
            == EG_ERROR)
        {
            return EG_ERROR;
        }
    }

    return EG_OK;
}


eg_int_t
eg_handle_write_event(eg_event_t *wev)
{
    if (eg_event_flags & EG_USE_CLEAR_EVENT) {

        if (!wev->active && !wev->ready) {
            if (eg_add_event(wev, EG_WRITE_EVENT, EG_CLEAR_EVENT)
                == EG_ERROR)
            {
                return EG_ERROR;
            }
        }

        return EG_OK;
    }

    if (!wev->active && !wev->ready) {
        if (eg_add_event(wev, EG_WRITE_EVENT, EG_LEVEL_EVENT) == EG_ERROR) {
            return EG_ERROR;
        }

        return EG_OK;
    }

    if (wev->active && wev->ready) {
        if (eg_del_event(wev, EG_WRITE_EVENT, EG_LEVEL_EVENT) == EG_ERROR) {
            return EG_ERROR;
        }
    }

    return EG_OK;
}


/* the signal pipe of a worker or module process, as a read event */
eg_connection_t *
eg_event_add_channel(eg_cycle_t *cycle, int fd, eg_event_handler_pt handler)
{
    eg_event_t       *rev;
    eg_connection_t  *c;

    c = eg_get_connection(fd, cycle->log);
    if (c == NULL) {
        return NULL;
    }

    rev = c->read;
    rev->log = cycle->log;
    rev->handler = handler;
    rev->channel = 1;
    c->write->log = cycle->log;

    if (eg_add_event(rev, EG_READ_EVENT, 0) == EG_ERROR) {
        eg_free_connection(c);
        return NULL;
    }

    return c;
}
