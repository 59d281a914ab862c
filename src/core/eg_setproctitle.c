/*
 * Process titles, so that ps shows "engram: worker process".  On Linux
 * the title is written over argv[]; the environment that follows argv in
 * memory is moved away first so that a long title may use its space.
 * Elsewhere setproctitle(3) exists or titles are simply not set.
 */

#include <eg_config.h>
#include <eg_core.h>


#if (EG_LINUX)

static char  *eg_os_argv_last;


eg_int_t
eg_init_setproctitle(eg_log_t *log)
{
    char         *p;
    size_t        size;
    eg_uint_t     i;
    extern char **environ;

    size = 0;

    for (i = 0; environ[i]; i++) {
        size += strlen(environ[i]) + 1;
    }

    p = eg_alloc(size, log);
    if (p == NULL) {
        return EG_ERROR;
    }

    eg_os_argv_last = eg_os_argv[0];

    for (i = 0; eg_os_argv[i]; i++) {
        if (eg_os_argv_last == eg_os_argv[i]) {
            eg_os_argv_last = eg_os_argv[i] + strlen(eg_os_argv[i]) + 1;
        }
    }

    for (i = 0; environ[i]; i++) {
        size = strlen(environ[i]) + 1;

        /* the title may grow over the strings that follow argv closely */
        if (eg_os_argv_last == environ[i]) {
            eg_os_argv_last = environ[i] + size;
        }

        (void) memcpy(p, environ[i], size);
        environ[i] = p;
        p += size;
    }

    eg_os_argv_last--;

    return EG_OK;
}


void
eg_setproctitle(const char *title)
{
    u_char  *p, *last;

    if (eg_os_argv_last == NULL) {
        return;
    }

    eg_os_argv[1] = NULL;

    p = (u_char *) eg_os_argv[0];
    last = (u_char *) eg_os_argv_last;

    p = eg_slprintf(p, last, "engram: %s", title);

    if (last > p) {
        eg_memset(p, '\0', (size_t) (last - p));
    }
}

#else

eg_int_t
eg_init_setproctitle(eg_log_t *log)
{
    eg_unused(log);
    return EG_OK;
}


void
eg_setproctitle(const char *title)
{
#if (EG_HAVE_SETPROCTITLE)
    setproctitle("%s", title);
#else
    eg_unused(title);
#endif
}

#endif
