/*
 * The core module: process layout (daemon, master, workers), the pid file
 * and the user workers run as.
 */

#include <eg_config.h>
#include <eg_core.h>


static void *eg_core_module_create_conf(eg_cycle_t *cycle);
static char *eg_core_module_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_set_user(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static eg_int_t eg_core_groups(eg_cycle_t *cycle, eg_core_conf_t *ccf);
static char *eg_set_worker_processes(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);


static eg_conf_num_bounds_t  eg_rlimit_bounds = { 1, INT_MAX };


static eg_command_t  eg_core_commands[] = {

    { eg_string("daemon"),
      EG_MAIN_CONF|EG_DIRECT_CONF|EG_CONF_FLAG,
      eg_conf_set_flag_slot,
      0,
      offsetof(eg_core_conf_t, daemon),
      NULL },

    { eg_string("master_process"),
      EG_MAIN_CONF|EG_DIRECT_CONF|EG_CONF_FLAG,
      eg_conf_set_flag_slot,
      0,
      offsetof(eg_core_conf_t, master),
      NULL },

    { eg_string("worker_processes"),
      EG_MAIN_CONF|EG_DIRECT_CONF|EG_CONF_TAKE1,
      eg_set_worker_processes,
      0,
      0,
      NULL },

    { eg_string("worker_shutdown_timeout"),
      EG_MAIN_CONF|EG_DIRECT_CONF|EG_CONF_TAKE1,
      eg_conf_set_msec_slot,
      0,
      offsetof(eg_core_conf_t, shutdown_timeout),
      NULL },

    { eg_string("worker_rlimit_nofile"),
      EG_MAIN_CONF|EG_DIRECT_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_core_conf_t, rlimit_nofile),
      &eg_rlimit_bounds },

    { eg_string("pid"),
      EG_MAIN_CONF|EG_DIRECT_CONF|EG_CONF_TAKE1,
      eg_conf_set_str_slot,
      0,
      offsetof(eg_core_conf_t, pid),
      NULL },

    { eg_string("user"),
      EG_MAIN_CONF|EG_DIRECT_CONF|EG_CONF_TAKE12,
      eg_set_user,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_conf_env_t  eg_core_env[] = {
    { "ENGRAM_DAEMON", eg_string("daemon"), 0 },
    { "ENGRAM_MASTER_PROCESS", eg_string("master_process"), 0 },
    { "ENGRAM_WORKER_PROCESSES", eg_string("worker_processes"), 0 },
    { "ENGRAM_WORKER_SHUTDOWN_TIMEOUT", eg_string("worker_shutdown_timeout"),
      0 },
    { "ENGRAM_WORKER_RLIMIT_NOFILE", eg_string("worker_rlimit_nofile"), 0 },
    { "ENGRAM_PID", eg_string("pid"), 0 },
    { "ENGRAM_USER", eg_string("user"), EG_ENV_SPLIT_SPACE },
    { NULL, eg_null_string, 0 }
};


static eg_core_module_t  eg_core_module_ctx = {
    eg_string("core"),
    eg_core_module_create_conf,
    eg_core_module_init_conf
};


eg_module_t  eg_core_module = {
    EG_MODULE_V1,
    "eg_core_module",
    EG_CORE_MODULE,                     /* module type */
    &eg_core_module_ctx,                /* module context */
    eg_core_commands,                   /* module directives */
    eg_core_env,                        /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static void *
eg_core_module_create_conf(eg_cycle_t *cycle)
{
    eg_core_conf_t  *ccf;

    ccf = eg_pcalloc(cycle->pool, sizeof(eg_core_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    /* pcalloc() leaves pid and oldpid empty */

    ccf->daemon = EG_CONF_UNSET;
    ccf->master = EG_CONF_UNSET;
    ccf->shutdown_timeout = EG_CONF_UNSET_MSEC;
    ccf->worker_processes = EG_CONF_UNSET;
    ccf->rlimit_nofile = EG_CONF_UNSET;
    ccf->user = (uid_t) EG_CONF_UNSET_UINT;
    ccf->group = (gid_t) EG_CONF_UNSET_UINT;

    return ccf;
}


static char *
eg_core_module_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_core_conf_t  *ccf = conf;

    struct group    *grp;
    struct passwd   *pwd;

    eg_conf_init_value(ccf->daemon, 1);
    eg_conf_init_value(ccf->master, 1);
    eg_conf_init_msec_value(ccf->shutdown_timeout, 0);
    eg_conf_init_value(ccf->worker_processes, 1);

    if (ccf->pid.len == 0) {
        eg_str_set(&ccf->pid, EG_PID_PATH);
    }

    if (eg_conf_full_name(cycle, &ccf->pid, 0) != EG_OK) {
        return EG_CONF_ERROR;
    }

    ccf->oldpid.len = ccf->pid.len + sizeof(".oldbin") - 1;

    ccf->oldpid.data = eg_pnalloc(cycle->pool, ccf->oldpid.len + 1);
    if (ccf->oldpid.data == NULL) {
        return EG_CONF_ERROR;
    }

    (void) memcpy(eg_cpymem(ccf->oldpid.data, ccf->pid.data, ccf->pid.len),
                  ".oldbin", sizeof(".oldbin"));

    if (ccf->user == (uid_t) EG_CONF_UNSET_UINT && geteuid() == 0) {

        /* as root, workers drop to an unprivileged user by default */

        errno = 0;
        pwd = getpwnam(EG_USER);

        if (pwd == NULL) {
            eg_log_error(EG_LOG_EMERG, cycle->log, errno,
                         "getpwnam(\"" EG_USER "\") failed");
            return EG_CONF_ERROR;
        }

        ccf->username = EG_USER;
        ccf->user = pwd->pw_uid;

        errno = 0;
        grp = getgrnam(EG_GROUP);

        if (grp == NULL) {
            eg_log_error(EG_LOG_EMERG, cycle->log, errno,
                         "getgrnam(\"" EG_GROUP "\") failed");
            return EG_CONF_ERROR;
        }

        ccf->group = grp->gr_gid;
    }

    if (ccf->user != (uid_t) EG_CONF_UNSET_UINT && geteuid() == 0
        && eg_core_groups(cycle, ccf) != EG_OK)
    {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/*
 * The user's supplementary groups, looked up here in the master, so that
 * a child drops privileges with setgroups() alone: initgroups() in each
 * child would load and dirty the NSS modules there, for the same answer.
 */
static eg_int_t
eg_core_groups(eg_cycle_t *cycle, eg_core_conf_t *ccf)
{
    int     n;
    gid_t  *groups;

    n = 16;

    for ( ;; ) {
        groups = eg_pnalloc(cycle->pool, (size_t) n * sizeof(gid_t));
        if (groups == NULL) {
            return EG_ERROR;
        }

        if (getgrouplist(ccf->username, ccf->group, groups, &n) != -1) {
            break;
        }

        if (n > 65536) {
            eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                         "getgrouplist(\"%s\") failed", ccf->username);
            return EG_ERROR;
        }

        /* n is now the number needed */
    }

    ccf->groups = groups;
    ccf->ngroups = n;

    return EG_OK;
}


static char *
eg_set_user(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_core_conf_t  *ccf = conf;

    char            *group;
    struct passwd   *pwd;
    struct group    *grp;
    eg_str_t        *value;

    eg_unused(cmd);

    if (ccf->user != (uid_t) EG_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (ccf->username) {
        return "is duplicate";
    }

    if (geteuid() != 0) {
        ccf->username = "";     /* seen, for the duplicate check */

        eg_conf_log_error(EG_LOG_WARN, cf, 0,
                          "the \"user\" directive makes sense only "
                          "if the master process runs with super-user "
                          "privileges, ignored");
        return EG_CONF_OK;
    }

    value = cf->args->elts;

    ccf->username = (char *) value[1].data;

    errno = 0;
    pwd = getpwnam((const char *) value[1].data);

    if (pwd == NULL) {
        eg_conf_log_error(EG_LOG_EMERG, cf, errno,
                          "getpwnam(\"%s\") failed", value[1].data);
        return EG_CONF_ERROR;
    }

    ccf->user = pwd->pw_uid;

    group = (char *) ((cf->args->nelts == 2) ? value[1].data
                                             : value[2].data);

    errno = 0;
    grp = getgrnam(group);

    if (grp == NULL) {
        eg_conf_log_error(EG_LOG_EMERG, cf, errno,
                          "getgrnam(\"%s\") failed", group);
        return EG_CONF_ERROR;
    }

    ccf->group = grp->gr_gid;

    return EG_CONF_OK;
}


static char *
eg_set_worker_processes(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    long             n;
    eg_str_t        *value;
    eg_core_conf_t  *ccf = conf;

    if (ccf->worker_processes != EG_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (eg_str_eq(&value[1], "auto")) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        ccf->worker_processes = n > 0 ? n : 1;
        return EG_CONF_OK;
    }

    ccf->worker_processes = eg_atoi(value[1].data, value[1].len);

    if (ccf->worker_processes == EG_ERROR || ccf->worker_processes < 1
        || ccf->worker_processes > 512)
    {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid value \"%s\" in \"%s\" directive, it "
                          "must be \"auto\" or a number from 1 to 512",
                          value[1].data, cmd->name.data);
        ccf->worker_processes = EG_CONF_UNSET;
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}
