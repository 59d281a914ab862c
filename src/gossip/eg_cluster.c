/*
 * The "cluster {}" block.  It creates the confs of every cluster module
 * and parses the body, like "events {}" does for event modules.
 *
 * ENGRAM_CLUSTER_MODE decides before the file does: "distributed" makes
 * a cluster of a node whose file has no block (every setting from its
 * defaults and the ENGRAM_CLUSTER_* variables, as containers want), and
 * "single" keeps a node single even when the file has a block.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_cluster.h>


static char *eg_cluster_block(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_cluster_init_conf(eg_cycle_t *cycle, void *conf);
static void **eg_cluster_create_confs(eg_cycle_t *cycle);
static char *eg_cluster_finish_confs(eg_conf_t *cf, void **ctx);
static char *eg_cluster_need_master(eg_cycle_t *cycle, const char *env);


static eg_command_t  eg_cluster_commands[] = {

    { eg_string("cluster"),
      EG_MAIN_CONF|EG_CONF_BLOCK|EG_CONF_NOARGS,
      eg_cluster_block,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_core_module_t  eg_cluster_module_ctx = {
    eg_string("cluster"),
    NULL,
    eg_cluster_init_conf
};


/*
 * Where the block of the cycle being read starts, for the errors found
 * once the whole file is read (the block and that cycle's init_conf run
 * one after the other in the same process).
 */
static eg_str_t   eg_cluster_where_file;
static eg_uint_t  eg_cluster_where_line;


eg_module_t  eg_cluster_module = {
    EG_MODULE_V1,
    "eg_cluster_module",
    EG_CORE_MODULE,                     /* module type */
    &eg_cluster_module_ctx,             /* module context */
    eg_cluster_commands,                /* module directives */
    NULL,                               /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


/* ENGRAM_CLUSTER_MODE: 1 distributed, 0 single, -1 unset, -2 invalid */
static eg_int_t
eg_cluster_mode_env(void)
{
    char  *v;

    v = getenv("ENGRAM_CLUSTER_MODE");

    if (v == NULL || v[0] == '\0') {
        return -1;
    }

    if (strcmp(v, "distributed") == 0) {
        return 1;
    }

    if (strcmp(v, "single") == 0) {
        return 0;
    }

    return -2;
}


static void **
eg_cluster_create_confs(eg_cycle_t *cycle)
{
    void                **ctx;
    eg_uint_t             i, n;
    eg_cluster_module_t  *m;

    n = eg_count_modules(cycle, EG_CLUSTER_MODULE);

    ctx = eg_pcalloc(cycle->pool, (n ? n : 1) * sizeof(void *));
    if (ctx == NULL) {
        return NULL;
    }

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->type != EG_CLUSTER_MODULE) {
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


static char *
eg_cluster_block(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char       *rv;
    void      **ctx;
    eg_conf_t   pcf;

    eg_unused(cmd);

    if (*(void **) conf) {
        return "is duplicate";
    }

    ctx = eg_cluster_create_confs(cf->cycle);
    if (ctx == NULL) {
        return EG_CONF_ERROR;
    }

    *(void **) conf = ctx;

    eg_cluster_where_file = cf->conf_file->name;
    eg_cluster_where_line = cf->conf_file->line;

    pcf = *cf;
    cf->ctx = conf;
    cf->module_type = EG_CLUSTER_MODULE;
    cf->cmd_type = EG_CLUSTER_CONF;

    rv = eg_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != EG_CONF_OK) {
        return rv;
    }

    if (eg_cluster_mode_env() == 0) {
        /*
         * ENGRAM_CLUSTER_MODE=single: the block is read, not set up, so
         * that no gossip socket and no member zone is made for it
         */
        return EG_CONF_OK;
    }

    return eg_cluster_finish_confs(cf, ctx);
}


static char *
eg_cluster_finish_confs(eg_conf_t *cf, void **ctx)
{
    char                 *rv;
    eg_uint_t             i;
    eg_module_t          *module;
    eg_cluster_module_t  *m;

    for (i = 0; i < cf->cycle->modules_n; i++) {
        module = cf->cycle->modules[i];

        if (module->type != EG_CLUSTER_MODULE) {
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


static char *
eg_cluster_init_conf(eg_cycle_t *cycle, void *conf)
{
    void       **ctx;
    eg_int_t     mode;
    eg_conf_t    cf;

    eg_unused(conf);

    mode = eg_cluster_mode_env();

    if (mode == -2) {
        eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                     "invalid value \"%s\" of environment variable "
                     "ENGRAM_CLUSTER_MODE, it must be \"single\" or "
                     "\"distributed\"", getenv("ENGRAM_CLUSTER_MODE"));
        return EG_CONF_ERROR;
    }

    if (mode == 0) {
        if (cycle->conf_ctx[eg_cluster_module.index]) {
            /* a warning, so that the operator sees it when engram starts */
            eg_log_error(EG_LOG_WARN, cycle->log, 0,
                         "ENGRAM_CLUSTER_MODE=single: the \"cluster\" block "
                         "is ignored");
            cycle->conf_ctx[eg_cluster_module.index] = NULL;
        }

        return EG_CONF_OK;
    }

    if (cycle->conf_ctx[eg_cluster_module.index]) {
        return eg_cluster_need_master(cycle, NULL);
    }

    if (mode != 1) {
        return EG_CONF_OK;
    }

    /* distributed by the environment alone: defaults and ENGRAM_CLUSTER_* */

    if (eg_cluster_need_master(cycle, "ENGRAM_CLUSTER_MODE") != EG_CONF_OK) {
        return EG_CONF_ERROR;
    }

    ctx = eg_cluster_create_confs(cycle);
    if (ctx == NULL) {
        return EG_CONF_ERROR;
    }

    cycle->conf_ctx[eg_cluster_module.index] = ctx;

    eg_memzero(&cf, sizeof(eg_conf_t));

    cf.args = eg_array_create(cycle->pool, 8, sizeof(eg_str_t));
    if (cf.args == NULL) {
        return EG_CONF_ERROR;
    }

    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    return eg_cluster_finish_confs(&cf, ctx);
}


/*
 * The cluster process is the master's child: without a master, cluster
 * mode would be configured and yet nothing would gossip, while the API
 * said "distributed".  The core module's conf is complete by now (it
 * comes first), whatever set master_process: the file, -g or the
 * environment.  The error names the block, or ENGRAM_CLUSTER_MODE.
 */
static char *
eg_cluster_need_master(eg_cycle_t *cycle, const char *env)
{
    eg_conf_t        cf;
    eg_conf_file_t   where;
    eg_core_conf_t  *ccf;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    if (ccf->master) {
        return EG_CONF_OK;
    }

    eg_memzero(&cf, sizeof(eg_conf_t));
    cf.cycle = cycle;
    cf.log = cycle->log;
    cf.env = env;

    if (env == NULL) {
        where.name = eg_cluster_where_file;
        where.line = eg_cluster_where_line;
        cf.conf_file = &where;
    }

    eg_conf_log_error(EG_LOG_EMERG, &cf, 0,
                      "cluster mode needs \"master_process on\": with "
                      "\"master_process off\" no cluster process runs");

    return EG_CONF_ERROR;
}


eg_uint_t
eg_cluster_enabled(eg_cycle_t *cycle)
{
    return cycle->conf_ctx[eg_cluster_module.index] != NULL;
}
