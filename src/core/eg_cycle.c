/*
 * Cycle construction.  eg_init_cycle() builds a complete new cycle from
 * the config beside the running one; only once everything (files, zones,
 * sockets, modules) is in place does it release what the old cycle had
 * and the new one does not want.  Any failure before that point undoes
 * the new cycle's work and leaves the old one untouched, which is how a
 * reload with a broken config keeps the daemon running as it was.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


static eg_int_t eg_init_zone_pool(eg_cycle_t *cycle, eg_shm_zone_t *zn);
static eg_int_t eg_cycle_open_files(eg_cycle_t *cycle);
static eg_int_t eg_cycle_shared_memory(eg_cycle_t *cycle,
    eg_cycle_t *old_cycle);
static void eg_cycle_keep_listening(eg_cycle_t *cycle,
    eg_cycle_t *old_cycle);
static void eg_cycle_release_old(eg_cycle_t *cycle, eg_cycle_t *old_cycle);
static void eg_cycle_undo(eg_cycle_t *cycle, eg_cycle_t *old_cycle);
static eg_uint_t eg_shm_zone_kept(eg_cycle_t *cycle, eg_shm_zone_t *oshm);
static eg_shm_zone_t *eg_shm_zone_find(eg_cycle_t *cycle, eg_str_t *name);


volatile eg_cycle_t  *eg_cycle;

eg_uint_t  eg_test_config;
eg_uint_t  eg_dump_config;
eg_uint_t  eg_quiet_mode;


eg_cycle_t *
eg_init_cycle(eg_cycle_t *old_cycle)
{
    void                *rv;
    char                 hostname[256];
    eg_uint_t            i, n;
    eg_log_t            *log;
    eg_conf_t            conf;
    eg_pool_t           *pool;
    eg_cycle_t          *cycle;
    eg_core_conf_t      *ccf;
    eg_core_module_t    *module;

    eg_time_update();

    log = old_cycle->log;

    pool = eg_create_pool(EG_CYCLE_POOL_SIZE, log);
    if (pool == NULL) {
        return NULL;
    }

    cycle = eg_pcalloc(pool, sizeof(eg_cycle_t));
    if (cycle == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    cycle->pool = pool;
    cycle->log = log;
    cycle->old_cycle = old_cycle;

    cycle->conf_prefix.len = old_cycle->conf_prefix.len;
    cycle->conf_prefix.data = eg_pstrdup(pool, &old_cycle->conf_prefix);
    cycle->prefix.len = old_cycle->prefix.len;
    cycle->prefix.data = eg_pstrdup(pool, &old_cycle->prefix);
    cycle->error_log.len = old_cycle->error_log.len;
    cycle->error_log.data = eg_pstrdup(pool, &old_cycle->error_log);
    cycle->conf_file.len = old_cycle->conf_file.len;
    cycle->conf_file.data = eg_pstrdup(pool, &old_cycle->conf_file);
    cycle->conf_param.len = old_cycle->conf_param.len;
    cycle->conf_param.data = eg_pstrdup(pool, &old_cycle->conf_param);

    if (cycle->conf_prefix.data == NULL || cycle->prefix.data == NULL
        || cycle->error_log.data == NULL || cycle->conf_file.data == NULL
        || cycle->conf_param.data == NULL)
    {
        eg_destroy_pool(pool);
        return NULL;
    }

    n = old_cycle->listening.nelts ? old_cycle->listening.nelts : 10;

    if (eg_array_init(&cycle->listening, pool, n, sizeof(eg_listening_t))
        != EG_OK
        || eg_array_init(&cycle->config_dump, pool, 1,
                         sizeof(eg_conf_dump_t)) != EG_OK
        || eg_array_init(&cycle->processes, pool, 2,
                         sizeof(eg_process_spec_t)) != EG_OK
        || eg_list_init(&cycle->open_files, pool, 8,
                        sizeof(eg_open_file_t)) != EG_OK
        || eg_list_init(&cycle->shared_memory, pool, 4,
                        sizeof(eg_shm_zone_t)) != EG_OK)
    {
        eg_destroy_pool(pool);
        return NULL;
    }

    eg_memzero(cycle->listening.elts, n * sizeof(eg_listening_t));
    eg_queue_init(&cycle->reusable_connections_queue);

    if (gethostname(hostname, sizeof(hostname)) == -1) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno, "gethostname() failed");
        eg_destroy_pool(pool);
        return NULL;
    }

    hostname[sizeof(hostname) - 1] = '\0';
    cycle->hostname.len = strlen(hostname);

    cycle->hostname.data = eg_pnalloc(pool, cycle->hostname.len + 1);
    if (cycle->hostname.data == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    eg_strlow(cycle->hostname.data, (u_char *) hostname,
              cycle->hostname.len + 1);

    if (eg_cycle_modules(cycle) != EG_OK) {
        eg_destroy_pool(pool);
        return NULL;
    }

    cycle->conf_ctx = eg_pcalloc(pool, cycle->modules_n * sizeof(void *));
    if (cycle->conf_ctx == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->type != EG_CORE_MODULE) {
            continue;
        }

        module = cycle->modules[i]->ctx;

        if (module->create_conf) {
            rv = module->create_conf(cycle);
            if (rv == NULL) {
                eg_destroy_pool(pool);
                return NULL;
            }

            cycle->conf_ctx[cycle->modules[i]->index] = rv;
        }
    }

    eg_memzero(&conf, sizeof(eg_conf_t));

    conf.args = eg_array_create(pool, 10, sizeof(eg_str_t));
    if (conf.args == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    conf.temp_pool = eg_create_pool(EG_CYCLE_POOL_SIZE, log);
    if (conf.temp_pool == NULL) {
        eg_destroy_pool(pool);
        return NULL;
    }

    conf.ctx = cycle->conf_ctx;
    conf.cycle = cycle;
    conf.pool = pool;
    conf.log = log;
    conf.module_type = EG_CORE_MODULE;
    conf.cmd_type = EG_MAIN_CONF;

    if (eg_conf_param(&conf) != EG_CONF_OK) {
        goto failed_conf;
    }

    if (eg_conf_parse(&conf, &cycle->conf_file) != EG_CONF_OK) {
        goto failed_conf;
    }

    if (eg_test_config && !eg_quiet_mode) {
        eg_log_stderr(0, "the configuration file " EG_STR_FMT
                      " syntax is ok", EG_STR_ARG(cycle->conf_file));
    }

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->type != EG_CORE_MODULE) {
            continue;
        }

        module = cycle->modules[i]->ctx;

        if (eg_conf_env_apply(&conf, cycle->modules[i],
                              cycle->conf_ctx[cycle->modules[i]->index])
            != EG_CONF_OK)
        {
            goto failed_conf;
        }

        if (module->init_conf) {
            if (module->init_conf(cycle,
                                  cycle->conf_ctx[cycle->modules[i]->index])
                == EG_CONF_ERROR)
            {
                goto failed_conf;
            }
        }
    }

    eg_destroy_pool(conf.temp_pool);
    conf.temp_pool = NULL;

    if (eg_process == EG_PROCESS_SIGNALLER) {
        return cycle;
    }

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    if (ccf->master
        && eg_clone_listening(cycle, (eg_uint_t) ccf->worker_processes)
           != EG_OK)
    {
        goto failed;
    }

    if (eg_log_open_default(cycle) != EG_OK) {
        goto failed;
    }

    if (eg_test_config) {
        /* nothing is opened or bound for a test; that is for real runs */
        return cycle;
    }

    if (eg_cycle_open_files(cycle) != EG_OK) {
        goto failed;
    }

    cycle->log = &cycle->new_log;
    pool->log = &cycle->new_log;

    if (eg_cycle_shared_memory(cycle, old_cycle) != EG_OK) {
        goto failed;
    }

    eg_cycle_keep_listening(cycle, old_cycle);

    if (eg_open_listening_sockets(cycle) != EG_OK) {
        goto failed;
    }

    eg_configure_listening_sockets(cycle);

    if (eg_init_modules(cycle) != EG_OK) {
        goto failed;
    }

    /* the point of no return: the new cycle is complete */

    eg_cycle_release_old(cycle, old_cycle);

    if (!eg_use_stderr) {
        (void) eg_log_redirect_stderr(cycle);
    }

    return cycle;

failed_conf:

    if (conf.temp_pool) {
        eg_destroy_pool(conf.temp_pool);
    }

failed:

    eg_cycle_undo(cycle, old_cycle);
    return NULL;
}


static eg_int_t
eg_cycle_open_files(eg_cycle_t *cycle)
{
    eg_uint_t        i;
    eg_list_part_t  *part;
    eg_open_file_t  *file;

    for (part = &cycle->open_files.part; part; part = part->next) {
        file = part->elts;

        for (i = 0; i < part->nelts; i++) {

            if (eg_str_eq(&file[i].name, "stderr")) {
                file[i].fd = STDERR_FILENO;
                continue;
            }

            file[i].fd = open((char *) file[i].name.data,
                              O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0644);

            if (file[i].fd == -1) {
                eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                             "open() \"%s\" failed", file[i].name.data);
                return EG_ERROR;
            }
        }
    }

    return EG_OK;
}


static eg_int_t
eg_cycle_shared_memory(eg_cycle_t *cycle, eg_cycle_t *old_cycle)
{
    eg_uint_t        i;
    eg_shm_zone_t   *shm, *oshm;
    eg_list_part_t  *part;

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        shm = part->elts;

        for (i = 0; i < part->nelts; i++) {

            if (shm[i].shm.size == 0) {
                eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                             "zero size shared memory zone \"" EG_STR_FMT
                             "\"", EG_STR_ARG(shm[i].shm.name));
                return EG_ERROR;
            }

            shm[i].shm.log = cycle->log;

            /* same name, size and owner: keep the memory and its data */

            oshm = eg_shm_zone_find(old_cycle, &shm[i].shm.name);

            if (oshm && oshm->tag == shm[i].tag
                && oshm->shm.size == shm[i].shm.size
                && !shm[i].noreuse && oshm->shm.addr)
            {
                shm[i].shm.addr = oshm->shm.addr;
                shm[i].shm.exists = 1;

                if (shm[i].init && shm[i].init(&shm[i], oshm->data) != EG_OK)
                {
                    shm[i].shm.addr = NULL;
                    shm[i].shm.exists = 0;
                    return EG_ERROR;
                }

                continue;
            }

            if (shm[i].shm.size < EG_SLAB_MIN_ZONE) {
                eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                             "shared memory zone \"" EG_STR_FMT "\" is too "
                             "small, it must be at least %d bytes",
                             EG_STR_ARG(shm[i].shm.name), EG_SLAB_MIN_ZONE);
                return EG_ERROR;
            }

            if (eg_shm_alloc(&shm[i].shm) != EG_OK) {
                return EG_ERROR;
            }

            if (eg_init_zone_pool(cycle, &shm[i]) != EG_OK) {
                return EG_ERROR;
            }

            if (shm[i].init && shm[i].init(&shm[i], NULL) != EG_OK) {
                return EG_ERROR;
            }
        }
    }

    return EG_OK;
}


static eg_int_t
eg_init_zone_pool(eg_cycle_t *cycle, eg_shm_zone_t *zn)
{
    if (eg_slab_init((eg_slab_pool_t *) zn->shm.addr, zn->shm.size,
                     &zn->shm.name)
        != EG_OK)
    {
        eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                     "could not initialize shared memory zone \""
                     EG_STR_FMT "\"", EG_STR_ARG(zn->shm.name));
        return EG_ERROR;
    }

    return EG_OK;
}


/* hands the old cycle's sockets (or inherited ones) to matching new ones */
static void
eg_cycle_keep_listening(eg_cycle_t *cycle, eg_cycle_t *old_cycle)
{
    int              reuse;
    eg_uint_t        i, n;
    eg_listening_t  *ls, *nls;

    ls = old_cycle->listening.elts;
    nls = cycle->listening.elts;

    for (i = 0; i < old_cycle->listening.nelts; i++) {
        ls[i].remain = 0;
    }

    for (n = 0; n < cycle->listening.nelts; n++) {

        for (i = 0; i < old_cycle->listening.nelts; i++) {

            if (ls[i].ignore || ls[i].remain || ls[i].fd == -1
                || ls[i].type != nls[n].type
                || ls[i].worker != nls[n].worker)
            {
                continue;
            }

            if (eg_cmp_sockaddr(&nls[n].sockaddr.sockaddr, nls[n].socklen,
                                &ls[i].sockaddr.sockaddr, ls[i].socklen, 1)
                != EG_OK)
            {
                continue;
            }

            nls[n].fd = ls[i].fd;
            nls[n].inherited = ls[i].inherited;
            nls[n].previous = &ls[i];
            nls[n].open = 1;
            ls[i].remain = 1;

#if (EG_HAVE_REUSEPORT)
            if (nls[n].reuseport && !ls[i].reuseport) {

                /*
                 * reuseport added by this reload: the kept socket must
                 * allow it too, or the other workers' sockets cannot bind
                 */

                reuse = 1;

                if (setsockopt(nls[n].fd, SOL_SOCKET, SO_REUSEPORT,
                               (const void *) &reuse, sizeof(int))
                    == -1)
                {
                    eg_log_error(EG_LOG_ALERT, cycle->log, eg_socket_errno,
                                 "setsockopt(SO_REUSEPORT) %s failed, "
                                 "ignored", nls[n].addr_text.data);
                }
            }
#endif

            break;
        }
    }
}


/* after the switch: let go of whatever the new cycle did not take over */
static void
eg_cycle_release_old(eg_cycle_t *cycle, eg_cycle_t *old_cycle)
{
    eg_uint_t        i;
    eg_listening_t  *ls;
    eg_list_part_t  *part;
    eg_shm_zone_t   *oshm;
    eg_open_file_t  *file;

    if (old_cycle->shared_memory.part.elts) {
        for (part = &old_cycle->shared_memory.part; part; part = part->next) {
            oshm = part->elts;

            for (i = 0; i < part->nelts; i++) {
                if (!eg_shm_zone_kept(cycle, &oshm[i])) {
                    eg_shm_free(&oshm[i].shm);
                }
            }
        }
    }

    ls = old_cycle->listening.elts;

    for (i = 0; i < old_cycle->listening.nelts; i++) {
        if (ls[i].remain || ls[i].fd == -1) {
            continue;
        }

        if (close(ls[i].fd) == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "close() of listening socket %s failed",
                         ls[i].addr_text.data);
        }

        ls[i].fd = -1;
    }

    if (old_cycle->open_files.part.elts) {
        for (part = &old_cycle->open_files.part; part; part = part->next) {
            file = part->elts;

            for (i = 0; i < part->nelts; i++) {
                if (file[i].fd == -1 || file[i].fd == STDERR_FILENO) {
                    continue;
                }

                (void) close(file[i].fd);
                file[i].fd = -1;
            }
        }
    }
}


static eg_shm_zone_t *
eg_shm_zone_find(eg_cycle_t *cycle, eg_str_t *name)
{
    eg_uint_t        i;
    eg_shm_zone_t   *shm;
    eg_list_part_t  *part;

    if (cycle->shared_memory.part.elts == NULL) {
        return NULL;    /* the init cycle has no zones */
    }

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        shm = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (shm[i].shm.name.len == name->len
                && eg_strncmp(shm[i].shm.name.data, name->data, name->len)
                   == 0)
            {
                return &shm[i];
            }
        }
    }

    return NULL;
}


static eg_uint_t
eg_shm_zone_kept(eg_cycle_t *cycle, eg_shm_zone_t *oshm)
{
    eg_uint_t        i;
    eg_shm_zone_t   *shm;
    eg_list_part_t  *part;

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        shm = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (shm[i].shm.addr == oshm->shm.addr) {
                return 1;
            }
        }
    }

    return 0;
}


/* a failed cycle: close and free what it made, restore the old flags */
static void
eg_cycle_undo(eg_cycle_t *cycle, eg_cycle_t *old_cycle)
{
    eg_uint_t        i;
    eg_listening_t  *ls;
    eg_list_part_t  *part;
    eg_shm_zone_t   *shm;
    eg_open_file_t  *file;

    for (part = &cycle->open_files.part; part; part = part->next) {
        file = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (file[i].fd == -1 || file[i].fd == STDERR_FILENO) {
                continue;
            }

            (void) close(file[i].fd);
        }
    }

    for (part = &cycle->shared_memory.part; part; part = part->next) {
        shm = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (shm[i].shm.addr && !shm[i].shm.exists) {
                eg_shm_free(&shm[i].shm);
            }
        }
    }

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == -1 || !ls[i].open || ls[i].previous) {
            continue;
        }

        (void) close(ls[i].fd);
    }

    ls = old_cycle->listening.elts;

    for (i = 0; i < old_cycle->listening.nelts; i++) {
        ls[i].remain = 0;
    }

    eg_destroy_pool(cycle->pool);
}


eg_int_t
eg_signal_process(eg_cycle_t *cycle, char *sig)
{
    pid_t            pid;
    eg_core_conf_t  *ccf;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    pid = eg_read_pidfile(&ccf->pid, cycle->log);

    if (pid == -1) {
        return 1;
    }

    return eg_os_signal_process(cycle, sig, pid);
}


void
eg_reopen_logs(eg_cycle_t *cycle)
{
    eg_core_conf_t  *ccf;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    eg_reopen_files(cycle, ccf->user);
}


eg_int_t
eg_cycle_add_process(eg_cycle_t *cycle, eg_process_spec_t *spec)
{
    eg_process_spec_t  *p;

    p = eg_array_push(&cycle->processes);
    if (p == NULL) {
        return EG_ERROR;
    }

    *p = *spec;

    return EG_OK;
}


/*
 * Inherited sockets: a master started by USR2 finds "ENGRAM=fd;fd;..." in
 * its environment, one entry per listening socket of the old binary.
 */
eg_int_t
eg_add_inherited_sockets(eg_cycle_t *cycle)
{
    u_char          *p, *v, *inherited;
    eg_int_t         s;
    eg_listening_t  *ls;

    inherited = (u_char *) getenv("ENGRAM");

    if (inherited == NULL) {
        return EG_OK;
    }

    eg_log_error(EG_LOG_NOTICE, cycle->log, 0,
                 "using inherited sockets from \"%s\"", inherited);

    if (eg_array_init(&cycle->listening, cycle->pool, 10,
                      sizeof(eg_listening_t))
        != EG_OK)
    {
        return EG_ERROR;
    }

    for (p = inherited, v = p; *p; p++) {
        if (*p != ':' && *p != ';') {
            continue;
        }

        s = eg_atoi(v, (size_t) (p - v));

        if (s == EG_ERROR || s > INT_MAX) {
            eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                         "invalid socket number \"%.*s\" in ENGRAM "
                         "environment variable, ignoring the rest of "
                         "the variable", (int) (p - v), v);
            break;
        }

        v = p + 1;

        ls = eg_array_push(&cycle->listening);
        if (ls == NULL) {
            return EG_ERROR;
        }

        eg_memzero(ls, sizeof(eg_listening_t));

        ls->fd = (int) s;
        ls->inherited = 1;
        ls->open = 1;
    }

    if (v != p) {
        eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                     "invalid socket number \"%s\" in ENGRAM environment "
                     "variable, ignoring", v);
    }

    eg_inherited = 1;

    return eg_set_inherited_sockets(cycle);
}


/* the environment for a new binary: ours plus ENGRAM with the sockets */
char **
eg_set_environment(eg_cycle_t *cycle, eg_uint_t *last)
{
    char            **env, *var, *p, *end;
    size_t            len;
    eg_uint_t         i, n;
    eg_listening_t   *ls;
    extern char     **environ;

    for (n = 0; environ[n]; n++) {
        /* void */
    }

    env = eg_alloc((n + 2) * sizeof(char *), cycle->log);
    if (env == NULL) {
        return NULL;
    }

    len = sizeof("ENGRAM=") + cycle->listening.nelts * (EG_INT_T_LEN + 1);

    var = eg_alloc(len, cycle->log);
    if (var == NULL) {
        eg_free(env);
        return NULL;
    }

    p = var;
    end = var + len;
    p = (char *) eg_slprintf((u_char *) p, (u_char *) end, "ENGRAM=");

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == -1) {
            continue;
        }

        p = (char *) eg_slprintf((u_char *) p, (u_char *) end, "%d;",
                                 ls[i].fd);
    }

    i = 0;

    for (n = 0; environ[n]; n++) {
        if (strncmp(environ[n], "ENGRAM=", sizeof("ENGRAM=") - 1) == 0) {
            continue;
        }

        env[i++] = environ[n];
    }

    env[i++] = var;
    env[i] = NULL;

    if (last) {
        *last = i - 1;
    }

    return env;
}


pid_t
eg_exec_new_binary(eg_cycle_t *cycle, char *const *argv)
{
    char            **env;
    pid_t             pid;
    eg_uint_t         last;
    eg_exec_ctx_t     ctx;
    eg_core_conf_t   *ccf;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    env = eg_set_environment(cycle, &last);
    if (env == NULL) {
        return -1;
    }

    ctx.path = eg_binary_path;
    ctx.name = "new binary process";
    ctx.argv = argv;
    ctx.envp = (char *const *) env;

    if (rename((char *) ccf->pid.data, (char *) ccf->oldpid.data) == -1) {
        eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                     "rename() %s to %s failed, the new binary is not "
                     "executed", ccf->pid.data, ccf->oldpid.data);
        eg_free(env[last]);
        eg_free(env);
        return -1;
    }

    pid = eg_execute(cycle, &ctx);

    if (pid == -1) {
        if (rename((char *) ccf->oldpid.data, (char *) ccf->pid.data) == -1)
        {
            eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                         "rename() %s back to %s failed after an "
                         "unsuccessful execution attempt of the new binary "
                         "\"%s\"", ccf->oldpid.data, ccf->pid.data,
                         eg_binary_path);
        }
    }

    eg_free(env[last]);
    eg_free(env);

    return pid;
}
