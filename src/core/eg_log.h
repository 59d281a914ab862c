/*
 * Error log.  A log is a chain of destinations, each with its own level;
 * a message goes to every destination whose level admits it.  Lines look
 * like nginx's:
 *
 *     2026/11/26 03:38:24 [error] 1234#0: message, context
 *
 * and, before any log file is open (config test, start-up), go to stderr
 * as "engram: [emerg] message".
 */

#ifndef EG_LOG_H_INCLUDED
#define EG_LOG_H_INCLUDED


#define EG_LOG_STDERR            0
#define EG_LOG_EMERG             1
#define EG_LOG_ALERT             2
#define EG_LOG_CRIT              3
#define EG_LOG_ERR               4
#define EG_LOG_WARN              5
#define EG_LOG_NOTICE            6
#define EG_LOG_INFO              7
#define EG_LOG_DEBUG             8

#define EG_MAX_ERROR_STR         2048


typedef u_char *(*eg_log_handler_pt)(eg_log_t *log, u_char *buf, size_t len);


struct eg_open_file_s {
    int                  fd;        /* -1 until opened */
    eg_str_t             name;      /* NUL-terminated path */
};


struct eg_log_s {
    eg_uint_t            log_level;
    eg_open_file_t      *file;

    eg_uint_t            connection;    /* number, for "*N " prefixes */

    /* appends context such as ", client: 1.2.3.4" to a message */
    eg_log_handler_pt    handler;
    void                *data;

    const char          *action;        /* "while reading request" */

    eg_log_t            *next;          /* another destination */
};


void eg_log_error_core(eg_uint_t level, eg_log_t *log, eg_err_t err,
    const char *fmt, ...) EG_PRINTF(4, 5);

#define eg_log_error(level, log, ...)                                        \
    do {                                                                     \
        if ((log)->log_level >= (level)) {                                   \
            eg_log_error_core(level, log, __VA_ARGS__);                      \
        }                                                                    \
    } while (0)

#if (EG_DEBUG)
#define eg_log_debug(log, ...)                                               \
    eg_log_error(EG_LOG_DEBUG, log, 0, __VA_ARGS__)
#else
#define eg_log_debug(log, ...)
#endif

/* always to stderr, for the command line: "engram: message" */
void eg_log_stderr(eg_err_t err, const char *fmt, ...) EG_PRINTF(2, 3);

u_char *eg_log_errno(u_char *buf, u_char *last, eg_err_t err);

eg_log_t *eg_log_init(u_char *prefix, u_char *error_log);
eg_int_t eg_log_open_default(eg_cycle_t *cycle);
eg_int_t eg_log_redirect_stderr(eg_cycle_t *cycle);
eg_log_t *eg_log_get_file_log(eg_log_t *head);
char *eg_log_set_log(eg_conf_t *cf, eg_log_t **head);
eg_uint_t eg_log_level_by_name(eg_str_t *name);

extern eg_module_t   eg_errlog_module;
extern eg_uint_t     eg_use_stderr;
extern const char   *eg_log_levels[];

#endif /* EG_LOG_H_INCLUDED */
