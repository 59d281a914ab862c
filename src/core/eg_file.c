/*
 * File helpers: prefix-relative names, the pid file, and the log files
 * that the cycle opens and USR1 reopens.
 */

#include <eg_config.h>
#include <eg_core.h>

#if (EG_HAVE_GETRANDOM)
#include <sys/random.h>
#endif


eg_int_t
eg_get_full_name(eg_pool_t *pool, eg_str_t *prefix, eg_str_t *name)
{
    u_char  *p, *q;
    size_t   len;

    if (name->len > 0 && name->data[0] == '/') {
        /* make sure it is terminated; most callers hand it to the OS */
        p = eg_pstrdup(pool, name);
        if (p == NULL) {
            return EG_ERROR;
        }

        name->data = p;
        return EG_OK;
    }

    if (eg_str_eq(name, "stderr")) {
        return EG_OK;
    }

    len = prefix->len;

    p = eg_pnalloc(pool, len + name->len + 2);
    if (p == NULL) {
        return EG_ERROR;
    }

    q = eg_cpymem(p, prefix->data, len);

    if (len && q[-1] != '/') {
        *q++ = '/';
    }

    q = eg_cpymem(q, name->data, name->len);
    *q = '\0';

    name->data = p;
    name->len = (size_t) (q - p);

    return EG_OK;
}


eg_int_t
eg_write_fd(int fd, const void *buf, size_t n)
{
    ssize_t       w;
    const u_char *p;

    p = buf;

    while (n) {
        w = write(fd, p, n);

        if (w == -1) {
            if (eg_errno == EG_EINTR) {
                continue;
            }

            return EG_ERROR;
        }

        p += w;
        n -= (size_t) w;
    }

    return EG_OK;
}


eg_int_t
eg_read_file(eg_pool_t *pool, const char *name, eg_str_t *content,
    size_t max)
{
    int          fd;
    u_char      *p;
    ssize_t      n;
    size_t       size, len;
    struct stat  st;

    fd = open(name, O_RDONLY|O_CLOEXEC);
    if (fd == -1) {
        return EG_ERROR;
    }

    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)
        || (size_t) st.st_size > max)
    {
        (void) close(fd);
        return EG_ERROR;
    }

    size = (size_t) st.st_size;

    p = eg_pnalloc(pool, size + 1);
    if (p == NULL) {
        (void) close(fd);
        return EG_ERROR;
    }

    len = 0;

    while (len < size) {
        n = read(fd, p + len, size - len);

        if (n == -1 && eg_errno == EG_EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        len += (size_t) n;
    }

    (void) close(fd);

    p[len] = '\0';
    content->data = p;
    content->len = len;

    return EG_OK;
}


eg_int_t
eg_create_pidfile(eg_str_t *name, eg_log_t *log)
{
    int      fd;
    u_char   pid[EG_INT_T_LEN + 2], *p;

    if (eg_test_config) {
        return EG_OK;
    }

    fd = open((char *) name->data, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644);

    if (fd == -1) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno,
                     "open() \"%s\" failed", name->data);
        return EG_ERROR;
    }

    p = eg_slprintf(pid, pid + sizeof(pid), "%ld\n", (long) getpid());

    if (eg_write_fd(fd, pid, (size_t) (p - pid)) != EG_OK) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno,
                     "write() \"%s\" failed", name->data);
        (void) close(fd);
        return EG_ERROR;
    }

    if (close(fd) == -1) {
        eg_log_error(EG_LOG_ALERT, log, eg_errno,
                     "close() \"%s\" failed", name->data);
    }

    return EG_OK;
}


void
eg_delete_pidfile(eg_cycle_t *cycle)
{
    u_char          *name;
    eg_core_conf_t  *ccf;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    name = eg_new_binary ? ccf->oldpid.data : ccf->pid.data;

    if (unlink((char *) name) == -1 && eg_errno != EG_ENOENT) {
        eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                     "unlink() \"%s\" failed", name);
    }
}


pid_t
eg_read_pidfile(eg_str_t *name, eg_log_t *log)
{
    u_char     buf[EG_INT_T_LEN + 2];
    ssize_t    n;
    int        fd;
    eg_int_t   pid;

    fd = open((char *) name->data, O_RDONLY|O_CLOEXEC);

    if (fd == -1) {
        eg_log_error(EG_LOG_ERR, log, eg_errno,
                     "open() \"%s\" failed", name->data);
        return -1;
    }

    n = read(fd, buf, sizeof(buf));

    (void) close(fd);

    if (n == -1) {
        eg_log_error(EG_LOG_ERR, log, eg_errno,
                     "read() \"%s\" failed", name->data);
        return -1;
    }

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }

    pid = eg_atoi(buf, (size_t) n);

    if (pid == EG_ERROR || pid <= 0) {
        eg_log_error(EG_LOG_ERR, log, 0,
                     "invalid PID number \"%.*s\" in \"%s\"",
                     (int) n, buf, name->data);
        return -1;
    }

    return (pid_t) pid;
}


/*
 * Registers a file to open for this cycle; the same name gives the same
 * file, so several logs that share a file share one descriptor.
 */
eg_open_file_t *
eg_conf_open_file(eg_cycle_t *cycle, eg_str_t *name)
{
    eg_str_t          full;
    eg_uint_t         i;
    eg_list_part_t   *part;
    eg_open_file_t   *file;

    if (eg_str_eq(name, "stderr")) {
        eg_str_set(&full, "stderr");

    } else {
        full = *name;

        if (eg_conf_full_name(cycle, &full, 0) != EG_OK) {
            return NULL;
        }
    }

    for (part = &cycle->open_files.part; part; part = part->next) {
        file = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (file[i].name.len == full.len
                && eg_strncmp(file[i].name.data, full.data, full.len) == 0)
            {
                return &file[i];
            }
        }
    }

    file = eg_list_push(&cycle->open_files);
    if (file == NULL) {
        return NULL;
    }

    file->fd = -1;
    file->name = full;

    return file;
}


void
eg_reopen_files(eg_cycle_t *cycle, uid_t user)
{
    int              fd;
    eg_uint_t        i;
    eg_list_part_t  *part;
    eg_open_file_t  *file;

    for (part = &cycle->open_files.part; part; part = part->next) {
        file = part->elts;

        for (i = 0; i < part->nelts; i++) {

            if (file[i].fd == -1 || file[i].fd == STDERR_FILENO) {
                continue;
            }

            fd = open((char *) file[i].name.data,
                      O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0644);

            if (fd == -1) {
                eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                             "open() \"%s\" failed", file[i].name.data);
                continue;
            }

            if (user != (uid_t) EG_CONF_UNSET_UINT && geteuid() == 0) {
                /* workers that run as "user" must be able to reopen too */
                if (fchown(fd, user, (gid_t) -1) == -1) {
                    eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                                 "fchown(\"%s\", %ld) failed",
                                 file[i].name.data, (long) user);
                }
            }

            /* keep the descriptor number: others may have copied it */

            if (dup2(fd, file[i].fd) == -1) {
                eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                             "dup2() \"%s\" failed", file[i].name.data);
            }

            (void) close(fd);
        }
    }

    (void) eg_log_redirect_stderr(cycle);
}


eg_int_t
eg_nonblocking(int fd)
{
    int  flags;

    flags = fcntl(fd, F_GETFL);

    if (flags == -1) {
        return EG_ERROR;
    }

    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
        return EG_ERROR;
    }

    return EG_OK;
}


eg_int_t
eg_cloexec(int fd)
{
    int  flags;

    flags = fcntl(fd, F_GETFD);

    if (flags == -1) {
        return EG_ERROR;
    }

    if (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
        return EG_ERROR;
    }

    return EG_OK;
}


eg_int_t
eg_random_bytes(u_char *buf, size_t len)
{
#if (EG_HAVE_GETRANDOM)
    ssize_t  n;

    while (len) {
        n = getrandom(buf, len, 0);

        if (n == -1) {
            if (eg_errno == EG_EINTR) {
                continue;
            }

            return EG_ERROR;
        }

        buf += n;
        len -= (size_t) n;
    }

    return EG_OK;

#elif (EG_HAVE_ARC4RANDOM)
    arc4random_buf(buf, len);
    return EG_OK;

#else
    int      fd;
    ssize_t  n;

    fd = open("/dev/urandom", O_RDONLY|O_CLOEXEC);
    if (fd == -1) {
        return EG_ERROR;
    }

    while (len) {
        n = read(fd, buf, len);

        if (n <= 0) {
            if (n == -1 && eg_errno == EG_EINTR) {
                continue;
            }

            (void) close(fd);
            return EG_ERROR;
        }

        buf += n;
        len -= (size_t) n;
    }

    (void) close(fd);
    return EG_OK;
#endif
}
