/*
 * Error log.  Writes are one write(2) per line on an O_APPEND descriptor,
 * so lines from the master and every worker never interleave mid-line.
 */

#include <eg_config.h>
#include <eg_core.h>


static char *eg_error_log(eg_conf_t *cf, eg_command_t *cmd, void *conf);


static eg_command_t  eg_errlog_commands[] = {

    { eg_string("error_log"),
      EG_MAIN_CONF|EG_CONF_1MORE,
      eg_error_log,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_conf_env_t  eg_errlog_env[] = {
    { "ENGRAM_ERROR_LOG", eg_string("error_log"), EG_ENV_SPLIT_SPACE },
    { NULL, eg_null_string, 0 }
};


static eg_core_module_t  eg_errlog_module_ctx = {
    eg_string("errlog"),
    NULL,
    NULL
};


eg_module_t  eg_errlog_module = {
    EG_MODULE_V1,
    "eg_errlog_module",
    EG_CORE_MODULE,                     /* module type */
    &eg_errlog_module_ctx,              /* module context */
    eg_errlog_commands,                 /* module directives */
    eg_errlog_env,                      /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static eg_open_file_t  eg_log_file;
static eg_log_t        eg_log;

eg_uint_t  eg_use_stderr = 1;

const char  *eg_log_levels[] = {
    "stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info",
    "debug", NULL
};


void
eg_log_error_core(eg_uint_t level, eg_log_t *log, eg_err_t err,
    const char *fmt, ...)
{
    u_char     errstr[EG_MAX_ERROR_STR], *p, *last, *msg;
    va_list    args;
    eg_uint_t  wrote_stderr;

    last = errstr + EG_MAX_ERROR_STR - 1;   /* room for the newline */

    p = eg_cpymem(errstr, (u_char *) eg_cached_err_log_time.data,
                  eg_cached_err_log_time.len);

    p = eg_slprintf(p, last, " [%s] %ld#0: ", eg_log_levels[level],
                    (long) getpid());

    if (log->connection) {
        p = eg_slprintf(p, last, "*%lu ", (unsigned long) log->connection);
    }

    msg = p;

    va_start(args, fmt);
    p = eg_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = eg_log_errno(p, last, err);
    }

    if (level != EG_LOG_DEBUG && log->handler) {
        p = log->handler(log, p, (size_t) (last - p));
    }

    *p++ = '\n';

    wrote_stderr = 0;

    for ( /* void */ ; log; log = log->next) {

        if (log->log_level < level) {
            continue;
        }

        if (log->file == NULL || log->file->fd == -1) {
            continue;
        }

        if (log->file->fd == STDERR_FILENO) {
            if (eg_use_stderr) {
                /* the short form below is what a terminal wants */
                continue;
            }

            wrote_stderr = 1;
        }

        (void) eg_write_fd(log->file->fd, errstr, (size_t) (p - errstr));
    }

    if (!eg_use_stderr || level > EG_LOG_WARN || wrote_stderr) {
        return;
    }

    /* "engram: [emerg] message" */

    msg -= sizeof("engram: [] ") - 1 + strlen(eg_log_levels[level]);
    (void) memcpy(msg, "engram: [", sizeof("engram: [") - 1);
    (void) memcpy(msg + sizeof("engram: [") - 1, eg_log_levels[level],
                  strlen(eg_log_levels[level]));
    (void) memcpy(msg + sizeof("engram: [") - 1
                  + strlen(eg_log_levels[level]), "] ", 2);

    (void) eg_write_fd(STDERR_FILENO, msg, (size_t) (p - msg));
}


void
eg_log_stderr(eg_err_t err, const char *fmt, ...)
{
    u_char   errstr[EG_MAX_ERROR_STR], *p, *last;
    va_list  args;

    last = errstr + EG_MAX_ERROR_STR - 1;

    p = eg_cpymem(errstr, "engram: ", sizeof("engram: ") - 1);

    va_start(args, fmt);
    p = eg_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = eg_log_errno(p, last, err);
    }

    *p++ = '\n';

    (void) eg_write_fd(STDERR_FILENO, errstr, (size_t) (p - errstr));
}


u_char *
eg_log_errno(u_char *buf, u_char *last, eg_err_t err)
{
    return eg_slprintf(buf, last, " (%d: %s)", err, strerror(err));
}


/*
 * The log used before the config is read: stderr, or the -e file.  If the
 * file cannot be opened we say so and go on with stderr.
 */
eg_log_t *
eg_log_init(u_char *prefix, u_char *error_log)
{
    int      fd;
    u_char  *name, *p;
    size_t   plen, nlen;

    eg_log.file = &eg_log_file;
    eg_log.log_level = EG_LOG_NOTICE;
    eg_log_file.fd = STDERR_FILENO;

    if (error_log == NULL || eg_strcmp(error_log, "stderr") == 0) {
        eg_str_set(&eg_log_file.name, "stderr");
        return &eg_log;
    }

    name = error_log;

    if (name[0] != '/' && prefix) {
        plen = eg_strlen(prefix);
        nlen = eg_strlen(error_log);

        name = malloc(plen + nlen + 2);
        if (name == NULL) {
            return NULL;
        }

        p = eg_cpymem(name, prefix, plen);

        if (plen && p[-1] != '/') {
            *p++ = '/';
        }

        p = eg_cpymem(p, error_log, nlen);
        *p = '\0';
    }

    fd = open((char *) name, O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0644);

    if (fd == -1) {
        eg_log_stderr(eg_errno, "[alert] could not open error log file: "
                      "open() \"%s\" failed", name);

        if (name != error_log) {
            free(name);
        }

        eg_str_set(&eg_log_file.name, "stderr");
        return &eg_log;
    }

    eg_log_file.fd = fd;
    eg_log_file.name.data = name;
    eg_log_file.name.len = eg_strlen(name);

    return &eg_log;
}


eg_uint_t
eg_log_level_by_name(eg_str_t *name)
{
    eg_uint_t  n;

    for (n = EG_LOG_EMERG; eg_log_levels[n]; n++) {
        if (name->len == strlen(eg_log_levels[n])
            && eg_strncmp(name->data, eg_log_levels[n], name->len) == 0)
        {
            return n;
        }
    }

    return 0;
}


/* the first log that writes to a file rather than to stderr */
eg_log_t *
eg_log_get_file_log(eg_log_t *head)
{
    eg_log_t  *log;

    for (log = head; log; log = log->next) {
        if (log->file != NULL && log->file->fd != STDERR_FILENO) {
            return log;
        }
    }

    return NULL;
}


eg_int_t
eg_log_open_default(eg_cycle_t *cycle)
{
    eg_str_t  name;

    if (cycle->new_log.file) {
        return EG_OK;
    }

    name = cycle->error_log;

    cycle->new_log.log_level = EG_LOG_ERR;
    cycle->new_log.file = eg_conf_open_file(cycle, &name);

    if (cycle->new_log.file == NULL) {
        return EG_ERROR;
    }

    return EG_OK;
}


/* sends stderr to the error log, so that nothing written there is lost */
eg_int_t
eg_log_redirect_stderr(eg_cycle_t *cycle)
{
    eg_log_t  *log;

    if (cycle->log_use_stderr) {
        return EG_OK;
    }

    log = eg_log_get_file_log(cycle->log);

    if (log == NULL) {
        return EG_OK;
    }

    if (dup2(log->file->fd, STDERR_FILENO) == -1) {
        eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                     "dup2(STDERR) failed");
        return EG_ERROR;
    }

    return EG_OK;
}


char *
eg_log_set_log(eg_conf_t *cf, eg_log_t **head)
{
    eg_uint_t        level;
    eg_str_t        *value;
    eg_log_t        *new_log, *log;
    eg_open_file_t  *file;

    value = cf->args->elts;

    if (cf->args->nelts > 3) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid number of arguments in \"%s\" directive",
                          value[0].data);
        return EG_CONF_ERROR;
    }

    level = EG_LOG_ERR;

    if (cf->args->nelts == 3) {
        level = eg_log_level_by_name(&value[2]);

        if (level == 0) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid log level \"%s\" in \"%s\" "
                              "directive, it must be one of emerg, alert, "
                              "crit, error, warn, notice, info, debug",
                              value[2].data, value[0].data);
            return EG_CONF_ERROR;
        }

#if !(EG_DEBUG)
        if (level == EG_LOG_DEBUG) {
            eg_conf_log_error(EG_LOG_WARN, cf, 0,
                              "debug logging needs a build with "
                              "./configure --with-debug");
        }
#endif
    }

    file = eg_conf_open_file(cf->cycle, &value[1]);
    if (file == NULL) {
        return EG_CONF_ERROR;
    }

    if (eg_str_eq(&value[1], "stderr")) {
        cf->cycle->log_use_stderr = 1;
    }

    /* the same file twice (-g and the file): one destination, the wider */

    for (log = *head; log; log = log->next) {
        if (log->file == file) {
            log->log_level = eg_max(log->log_level, level);
            return EG_CONF_OK;
        }
    }

    if (*head != NULL && (*head)->file == NULL) {
        new_log = *head;

    } else {
        new_log = eg_pcalloc(cf->pool, sizeof(eg_log_t));
        if (new_log == NULL) {
            return EG_CONF_ERROR;
        }

        if (*head == NULL) {
            *head = new_log;

        } else {
            for (log = *head; log->next; log = log->next) {
                /* void */
            }

            log->next = new_log;
        }
    }

    new_log->file = file;
    new_log->log_level = level;

    return EG_CONF_OK;
}


static char *
eg_error_log(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_log_t  *head;

    eg_unused(cmd);
    eg_unused(conf);

    head = &cf->cycle->new_log;

    return eg_log_set_log(cf, &head);
}
