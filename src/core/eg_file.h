/*
 * Files: path resolution against the prefix, whole-file reads, the pid
 * file, and the set of files (logs) that the cycle keeps open and reopens
 * on USR1.
 */

#ifndef EG_FILE_H_INCLUDED
#define EG_FILE_H_INCLUDED


#define EG_INVALID_FILE     -1
#define EG_FILE_ERROR       -1


/* turns a relative name into prefix/name; name is replaced in place */
eg_int_t eg_get_full_name(eg_pool_t *pool, eg_str_t *prefix, eg_str_t *name);

/* writes all of buf, retrying on EINTR; returns EG_OK or EG_ERROR */
eg_int_t eg_write_fd(int fd, const void *buf, size_t n);

/* reads the whole file into pool memory, NUL-terminated */
eg_int_t eg_read_file(eg_pool_t *pool, const char *name, eg_str_t *content,
    size_t max);

eg_int_t eg_create_pidfile(eg_str_t *name, eg_log_t *log);
void eg_delete_pidfile(eg_cycle_t *cycle);
pid_t eg_read_pidfile(eg_str_t *name, eg_log_t *log);

eg_open_file_t *eg_conf_open_file(eg_cycle_t *cycle, eg_str_t *name);
void eg_reopen_files(eg_cycle_t *cycle, uid_t user);

eg_int_t eg_nonblocking(int fd);
/* bytes from the kernel's generator (getrandom(), arc4random) */
eg_int_t eg_random_bytes(u_char *buf, size_t len);
eg_int_t eg_cloexec(int fd);

#endif /* EG_FILE_H_INCLUDED */
