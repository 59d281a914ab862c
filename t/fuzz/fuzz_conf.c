/*
 * libFuzzer target: the configuration parser and every directive handler
 * of this build, through eg_init_cycle() in test mode (nothing is opened
 * or bound).  Run: make fuzz && objs/fuzz/fuzz_conf t/fuzz/corpus/conf
 */

#include <eg_config.h>
#include <eg_core.h>
#include <sys/syscall.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res);


/* name resolution would leave the machine: literal addresses only */
int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
    eg_unused(node);
    eg_unused(service);
    eg_unused(hints);
    eg_unused(res);

    return EAI_NONAME;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                fd;
    char               path[64];
    eg_log_t          *log;
    eg_cycle_t        *cycle, init_cycle;
    static eg_uint_t   inited;

    if (!inited) {
        eg_time_init();
        (void) eg_preinit_modules();
        eg_test_config = 1;
        eg_quiet_mode = 1;
        inited = 1;
    }

    fd = (int) syscall(SYS_memfd_create, "engram.conf", 0);
    if (fd == -1) {
        return 0;
    }

    if (size && write(fd, data, size) != (ssize_t) size) {
        (void) close(fd);
        return 0;
    }

    (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    log = eg_log_init(NULL, (u_char *) "/dev/null");
    log->log_level = EG_LOG_EMERG;

    eg_memzero(&init_cycle, sizeof(eg_cycle_t));
    init_cycle.log = log;
    init_cycle.pool = eg_create_pool(1024, log);
    eg_cycle = &init_cycle;

    eg_str_set(&init_cycle.prefix, "/nonexistent/");
    eg_str_set(&init_cycle.conf_prefix, "/nonexistent/");
    eg_str_set(&init_cycle.error_log, "logs/error.log");
    init_cycle.conf_file.data = (u_char *) path;
    init_cycle.conf_file.len = strlen(path);
    init_cycle.conf_param.data = (u_char *) "";
    init_cycle.conf_param.len = 0;

    cycle = eg_init_cycle(&init_cycle);

    if (cycle) {
        eg_destroy_pool(cycle->pool);
    }

    eg_destroy_pool(init_cycle.pool);

    if (log->file->fd != STDERR_FILENO) {
        (void) close(log->file->fd);
    }

    (void) close(fd);

    return 0;
}
