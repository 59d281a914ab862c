/*
 * engram: the command line and start-up, up to the point where the master
 * or the single-process loop takes over.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <engram.h>


/* for -V: configure says which libbpf the gossip guard was built with */
#ifndef EG_GOSSIP_GUARD_INFO
#define EG_GOSSIP_GUARD_INFO  "not built"
#endif


static void eg_show_version_info(void);
static eg_int_t eg_get_options(int argc, char *const *argv);
static eg_int_t eg_process_options(eg_cycle_t *cycle);
static eg_int_t eg_save_argv(eg_cycle_t *cycle, int argc, char *const *argv);
static char *eg_find_binary(const char *argv0);
static void eg_dump_config_files(eg_cycle_t *cycle);


static eg_uint_t   eg_show_help;
static eg_uint_t   eg_show_version;
static eg_uint_t   eg_show_configure;
static u_char     *eg_prefix;
static u_char     *eg_error_log;
static u_char     *eg_conf_file;
static u_char     *eg_conf_params;
static char       *eg_signal;


int
main(int argc, char *const *argv)
{
    int               rc;
    eg_log_t         *log;
    eg_cycle_t       *cycle, init_cycle;
    eg_core_conf_t   *ccf;

    if (eg_get_options(argc, argv) != EG_OK) {
        return 1;
    }

    if (eg_show_version) {
        eg_show_version_info();

        if (!eg_test_config) {
            return 0;
        }
    }

    eg_time_init();

    eg_pid = getpid();
    eg_parent = getppid();

    log = eg_log_init(eg_prefix, eg_error_log);
    if (log == NULL) {
        return 1;
    }

    eg_memzero(&init_cycle, sizeof(eg_cycle_t));
    init_cycle.log = log;
    eg_cycle = &init_cycle;

    init_cycle.pool = eg_create_pool(1024, log);
    if (init_cycle.pool == NULL) {
        return 1;
    }

    if (eg_save_argv(&init_cycle, argc, argv) != EG_OK) {
        return 1;
    }

    if (eg_process_options(&init_cycle) != EG_OK) {
        return 1;
    }

    if (eg_preinit_modules() != EG_OK) {
        return 1;
    }

    if (eg_signal) {
        eg_process = EG_PROCESS_SIGNALLER;

    } else if (!eg_test_config) {
        if (eg_add_inherited_sockets(&init_cycle) != EG_OK) {
            return 1;
        }
    }

    if (eg_init_setproctitle(log) != EG_OK) {
        return 1;
    }

    cycle = eg_init_cycle(&init_cycle);

    if (cycle == NULL) {
        if (eg_test_config) {
            eg_log_stderr(0, "configuration file " EG_STR_FMT " test failed",
                          EG_STR_ARG(init_cycle.conf_file));
        }

        eg_destroy_pool(init_cycle.pool);
        return 1;
    }

    /* -t and -s end here: free what they built, as LeakSanitizer wants */

    if (eg_test_config) {
        if (!eg_quiet_mode) {
            eg_log_stderr(0, "configuration file " EG_STR_FMT " test is "
                          "successful", EG_STR_ARG(cycle->conf_file));
        }

        if (eg_dump_config) {
            eg_dump_config_files(cycle);
        }

        eg_destroy_pool(cycle->pool);
        eg_destroy_pool(init_cycle.pool);
        return 0;
    }

    if (eg_signal) {
        rc = (int) eg_signal_process(cycle, eg_signal);

        eg_destroy_pool(cycle->pool);
        eg_destroy_pool(init_cycle.pool);
        return rc;
    }

    eg_cycle = cycle;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    if (ccf->master && eg_process == EG_PROCESS_SINGLE) {
        eg_process = EG_PROCESS_MASTER;
    }

    if (eg_init_signals(cycle->log) != EG_OK) {
        return 1;
    }

    if (!eg_inherited && ccf->daemon) {
        if (eg_daemon(cycle->log) != EG_OK) {
            return 1;
        }

        eg_daemonized = 1;
    }

    if (eg_inherited) {
        eg_daemonized = 1;
    }

    if (eg_create_pidfile(&ccf->pid, cycle->log) != EG_OK) {
        return 1;
    }

    if (eg_log_redirect_stderr(cycle) != EG_OK) {
        return 1;
    }

    if (log->file->fd != STDERR_FILENO) {
        /* the start-up log (-e) has served its purpose */
        (void) close(log->file->fd);
        log->file->fd = STDERR_FILENO;
    }

    eg_use_stderr = 0;

    if (eg_process == EG_PROCESS_SINGLE) {
        eg_single_process_cycle(cycle);

    } else {
        eg_master_process_cycle(cycle);
    }

    return 0;
}


static void
eg_show_version_info(void)
{
    eg_uint_t  i;

    (void) fprintf(stderr, "engram version: " ENGRAM_VER EG_LINEFEED);

    if (eg_show_help) {
        (void) fprintf(stderr,
            "Usage: engram [-?hvVtTq] [-s signal] [-p prefix]" EG_LINEFEED
            "              [-e filename] [-c filename] [-g directives]"
                                                               EG_LINEFEED
            EG_LINEFEED
            "Options:" EG_LINEFEED
            "  -?,-h         : this help" EG_LINEFEED
            "  -v            : show version and exit" EG_LINEFEED
            "  -V            : show version, configure options and modules,"
                               " then exit" EG_LINEFEED
            "  -t            : test configuration and exit" EG_LINEFEED
            "  -T            : test configuration, dump it and exit"
                                                               EG_LINEFEED
            "  -q            : suppress non-error messages during "
                               "configuration testing" EG_LINEFEED
            "  -s signal     : send signal to a master process: "
                               "stop, quit, reopen, reload" EG_LINEFEED
            "  -p prefix     : set prefix path (default: " EG_PREFIX ")"
                                                               EG_LINEFEED
            "  -e filename   : set error log file (default: "
                               EG_ERROR_LOG_PATH ")" EG_LINEFEED
            "  -c filename   : set configuration file (default: "
                               EG_CONF_PATH ")" EG_LINEFEED
            "  -g directives : set global directives out of configuration "
                               "file" EG_LINEFEED);
    }

    if (eg_show_configure) {
        (void) fprintf(stderr, "built by " EG_COMPILER EG_LINEFEED);
        (void) fprintf(stderr, "configure arguments:" EG_CONFIGURE
                       EG_LINEFEED);
        (void) fprintf(stderr, "modules:");

        for (i = 0; eg_module_names[i]; i++) {
            (void) fprintf(stderr, " %s", eg_module_names[i]);
        }

        (void) fprintf(stderr, EG_LINEFEED);
        (void) fprintf(stderr, "gossip guard: " EG_GOSSIP_GUARD_INFO
                       EG_LINEFEED);
    }
}


static eg_int_t
eg_get_options(int argc, char *const *argv)
{
    u_char     *p;
    eg_int_t    i;

    for (i = 1; i < argc; i++) {

        p = (u_char *) argv[i];

        if (*p++ != '-') {
            eg_log_stderr(0, "invalid option: \"%s\"", argv[i]);
            return EG_ERROR;
        }

        while (*p) {

            switch (*p++) {

            case '?':
            case 'h':
                eg_show_version = 1;
                eg_show_help = 1;
                break;

            case 'v':
                eg_show_version = 1;
                break;

            case 'V':
                eg_show_version = 1;
                eg_show_configure = 1;
                break;

            case 't':
                eg_test_config = 1;
                break;

            case 'T':
                eg_test_config = 1;
                eg_dump_config = 1;
                break;

            case 'q':
                eg_quiet_mode = 1;
                break;

            case 'p':
                if (*p) {
                    eg_prefix = p;
                    goto next;
                }

                if (argv[++i]) {
                    eg_prefix = (u_char *) argv[i];
                    goto next;
                }

                eg_log_stderr(0, "option \"-p\" requires directory name");
                return EG_ERROR;

            case 'e':
                if (*p) {
                    eg_error_log = p;

                } else if (argv[++i]) {
                    eg_error_log = (u_char *) argv[i];

                } else {
                    eg_log_stderr(0, "option \"-e\" requires file name");
                    return EG_ERROR;
                }

                goto next;

            case 'c':
                if (*p) {
                    eg_conf_file = p;
                    goto next;
                }

                if (argv[++i]) {
                    eg_conf_file = (u_char *) argv[i];
                    goto next;
                }

                eg_log_stderr(0, "option \"-c\" requires file name");
                return EG_ERROR;

            case 'g':
                if (*p) {
                    eg_conf_params = p;
                    goto next;
                }

                if (argv[++i]) {
                    eg_conf_params = (u_char *) argv[i];
                    goto next;
                }

                eg_log_stderr(0, "option \"-g\" requires parameter");
                return EG_ERROR;

            case 's':
                if (*p) {
                    eg_signal = (char *) p;

                } else if (argv[++i]) {
                    eg_signal = argv[i];

                } else {
                    eg_log_stderr(0, "option \"-s\" requires parameter");
                    return EG_ERROR;
                }

                if (strcmp(eg_signal, "stop") == 0
                    || strcmp(eg_signal, "quit") == 0
                    || strcmp(eg_signal, "reopen") == 0
                    || strcmp(eg_signal, "reload") == 0)
                {
                    goto next;
                }

                eg_log_stderr(0, "invalid option: \"-s %s\"", eg_signal);
                return EG_ERROR;

            default:
                eg_log_stderr(0, "invalid option: \"%c\"", *(p - 1));
                return EG_ERROR;
            }
        }

    next:

        continue;
    }

    return EG_OK;
}


/*
 * Keeps a private copy of argv (setproctitle() overwrites the original)
 * and the absolute path of the binary, for USR2.
 */
static eg_int_t
eg_save_argv(eg_cycle_t *cycle, int argc, char *const *argv)
{
    size_t     len;
    eg_int_t   i;

    eg_os_argv = (char **) argv;
    eg_argc = argc;

    eg_argv = eg_alloc((size_t) (argc + 1) * sizeof(char *), cycle->log);
    if (eg_argv == NULL) {
        return EG_ERROR;
    }

    for (i = 0; i < argc; i++) {
        len = strlen(argv[i]) + 1;

        eg_argv[i] = eg_alloc(len, cycle->log);
        if (eg_argv[i] == NULL) {
            return EG_ERROR;
        }

        (void) memcpy(eg_argv[i], argv[i], len);
    }

    eg_argv[i] = NULL;

    eg_binary_path = eg_find_binary(argv[0]);

    return EG_OK;
}


/*
 * The path the binary was started by, made absolute but not resolved:
 * an upgrade replaces the file (or the link) at that path, and USR2 must
 * run the new one.
 */
static char *
eg_find_binary(const char *argv0)
{
    char         cwd[PATH_MAX], *path, *dir, *end, *name;
    size_t       len;
    struct stat  st;

    if (argv0[0] == '/') {
        return strdup(argv0);
    }

    if (strchr(argv0, '/')) {
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            return strdup(argv0);
        }

        len = strlen(cwd) + strlen(argv0) + 2;

        name = malloc(len);
        if (name == NULL) {
            return NULL;
        }

        (void) snprintf(name, len, "%s/%s", cwd, argv0);
        return name;
    }

    path = getenv("PATH");

    if (path == NULL) {
        return strdup(argv0);
    }

    for (dir = path; *dir; dir = *end ? end + 1 : end) {
        end = strchr(dir, ':');

        if (end == NULL) {
            end = dir + strlen(dir);
        }

        len = (size_t) (end - dir) + strlen(argv0) + 2;

        name = malloc(len);
        if (name == NULL) {
            return NULL;
        }

        (void) snprintf(name, len, "%.*s/%s", (int) (end - dir), dir, argv0);

        if (stat(name, &st) == 0 && S_ISREG(st.st_mode)
            && access(name, X_OK) == 0)
        {
            return name;
        }

        free(name);
    }

    return strdup(argv0);
}


static eg_int_t
eg_process_options(eg_cycle_t *cycle)
{
    u_char  *p;
    size_t   len;

    if (eg_prefix) {
        len = eg_strlen(eg_prefix);
        p = eg_prefix;

        if (len && p[len - 1] != '/') {
            p = eg_pnalloc(cycle->pool, len + 1);
            if (p == NULL) {
                return EG_ERROR;
            }

            (void) memcpy(p, eg_prefix, len);
            p[len++] = '/';
        }

        cycle->conf_prefix.len = len;
        cycle->conf_prefix.data = p;
        cycle->prefix.len = len;
        cycle->prefix.data = p;

    } else {
        eg_str_set(&cycle->prefix, EG_PREFIX);
        eg_str_set(&cycle->conf_prefix, EG_PREFIX);
    }

    if (eg_conf_file) {
        cycle->conf_file.len = eg_strlen(eg_conf_file);
        cycle->conf_file.data = eg_conf_file;

    } else {
        eg_str_set(&cycle->conf_file, EG_CONF_PATH);
    }

    if (eg_conf_full_name(cycle, &cycle->conf_file, 0) != EG_OK) {
        return EG_ERROR;
    }

    /* includes are relative to the directory of the main file */

    for (p = cycle->conf_file.data + cycle->conf_file.len - 1;
         p > cycle->conf_file.data;
         p--)
    {
        if (*p == '/') {
            cycle->conf_prefix.len = (size_t) (p - cycle->conf_file.data) + 1;
            cycle->conf_prefix.data = cycle->conf_file.data;
            break;
        }
    }

    if (eg_error_log) {
        cycle->error_log.len = eg_strlen(eg_error_log);
        cycle->error_log.data = eg_error_log;

    } else {
        eg_str_set(&cycle->error_log, EG_ERROR_LOG_PATH);
    }

    if (eg_conf_params) {
        cycle->conf_param.len = eg_strlen(eg_conf_params);
        cycle->conf_param.data = eg_conf_params;
    }

    if (eg_test_config) {
        cycle->log->log_level = EG_LOG_INFO;
    }

    return EG_OK;
}


/* "engram -T": the configuration as read, file by file */
static void
eg_dump_config_files(eg_cycle_t *cycle)
{
    eg_uint_t        i;
    eg_conf_dump_t  *cd;

    cd = cycle->config_dump.elts;

    for (i = 0; i < cycle->config_dump.nelts; i++) {
        (void) printf("# configuration file " EG_STR_FMT ":" EG_LINEFEED,
                      EG_STR_ARG(cd[i].name));
        (void) fwrite(cd[i].content.data, 1, cd[i].content.len, stdout);

        if (cd[i].content.len
            && cd[i].content.data[cd[i].content.len - 1] != '\n')
        {
            (void) printf(EG_LINEFEED);
        }

        (void) printf(EG_LINEFEED);
    }

    (void) fflush(stdout);
}
