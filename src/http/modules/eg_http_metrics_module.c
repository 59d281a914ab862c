/*
 * "metrics;": the shared registry in Prometheus text format 0.0.4, plus
 * engram_build_info and the process_* figures of this instance (every
 * engram process under this master, summed), read from /proc when the
 * scrape comes, so that they cost nothing in between.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>
#include <engram.h>
#include <dirent.h>


typedef struct {
    uint64_t  rss;          /* bytes */
    uint64_t  ticks;        /* user + system CPU */
    uint64_t  fds;
    eg_uint_t processes;
} eg_http_metrics_proc_t;


static char *eg_http_metrics(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static eg_int_t eg_http_metrics_init_module(eg_cycle_t *cycle);
static eg_int_t eg_http_metrics_handler(eg_http_request_t *r);
static void eg_http_metrics_proc(pid_t master, eg_http_metrics_proc_t *p);


static eg_http_metrics_proc_t  eg_http_metrics_proc_cache;
static time_t                  eg_http_metrics_proc_time;

static eg_str_t  eg_http_metrics_type =
    eg_string("text/plain; version=0.0.4; charset=utf-8");


static eg_command_t  eg_http_metrics_commands[] = {

    { eg_string("metrics"),
      EG_HTTP_LOC_CONF|EG_CONF_NOARGS,
      eg_http_metrics,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_metrics_module_ctx = {
    NULL,                                   /* preconfiguration */
    NULL,                                   /* postconfiguration */
    NULL,                                   /* create main configuration */
    NULL,                                   /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    NULL,                                   /* create location configuration */
    NULL                                    /* merge location configuration */
};


eg_module_t  eg_http_metrics_module = {
    EG_MODULE_V1,
    "eg_http_metrics_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_metrics_module_ctx,            /* module context */
    eg_http_metrics_commands,               /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    eg_http_metrics_init_module,            /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


static char *
eg_http_metrics(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_core_loc_conf_t  *clcf;

    eg_unused(cmd);
    eg_unused(conf);

    clcf = eg_http_conf_get_module_loc_conf(cf, eg_http_core_module);

    if (clcf->handler) {
        return "is duplicate: the location has a handler already";
    }

    clcf->handler = eg_http_metrics_handler;

    return EG_CONF_OK;
}


static eg_int_t
eg_http_metrics_init_module(eg_cycle_t *cycle)
{
    u_char               modules[1024], *p, *last;
    eg_str_t             values[2];
    eg_uint_t            i;
    eg_metric_family_t  *f;

    /* build info: the version and the modules, as labels of a 1 */

    p = modules;
    last = modules + sizeof(modules);

    for (i = 0; i < cycle->modules_n; i++) {
        p = eg_slprintf(p, last, "%s%s", i ? "," : "",
                        cycle->modules[i]->name + sizeof("eg_") - 1);

        if (p - modules > 7 && eg_strncmp(p - 7, "_module", 7) == 0) {
            p -= 7;
            *p = '\0';
        }
    }

    f = eg_metrics_family(EG_METRIC_GAUGE, "engram_build_info",
                          "engram version and compiled-in modules; "
                          "always 1", "version,modules", NULL, 0);

    values[0].data = (u_char *) ENGRAM_VERSION;
    values[0].len = sizeof(ENGRAM_VERSION) - 1;
    values[1].data = modules;
    values[1].len = (size_t) (p - modules);

    eg_metric_set(eg_metrics_series(f, values), 1);

    return EG_OK;
}


static eg_int_t
eg_http_metrics_handler(eg_http_request_t *r)
{
    u_char                  *p;
    size_t                   len;
    long                     tick;
    pid_t                    master;
    eg_str_t                 body, extra;
    eg_http_metrics_proc_t   proc;

    if (!(r->method & (EG_HTTP_GET|EG_HTTP_HEAD))) {
        return EG_HTTP_NOT_ALLOWED;
    }

    master = (eg_process == EG_PROCESS_WORKER) ? getppid() : getpid();

    /*
     * Walking /proc costs far more than the rest of a scrape; scrapes
     * come every few seconds, so a figure up to a second old is fine.
     */

    if (eg_http_metrics_proc_time != eg_time()) {
        eg_http_metrics_proc(master, &eg_http_metrics_proc_cache);
        eg_http_metrics_proc_time = eg_time();
    }

    proc = eg_http_metrics_proc_cache;

    tick = sysconf(_SC_CLK_TCK);
    if (tick <= 0) {
        tick = 100;
    }

    len = 1024;

    extra.data = eg_pnalloc(r->pool, len);
    if (extra.data == NULL) {
        return EG_ERROR;
    }

    p = eg_slprintf(extra.data, extra.data + len,
        "# HELP process_resident_memory_bytes Resident memory of all "
        "engram processes of this instance\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes %llu\n"
        "# HELP process_cpu_seconds_total CPU time of all engram "
        "processes of this instance\n"
        "# TYPE process_cpu_seconds_total counter\n"
        "process_cpu_seconds_total %.2f\n"
        "# HELP process_open_fds Open file descriptors of the engram "
        "processes this worker may inspect (not the master's when it runs "
        "as root and workers do not)\n"
        "# TYPE process_open_fds gauge\n"
        "process_open_fds %llu\n"
        "# HELP process_start_time_seconds When this instance started, "
        "in seconds since the epoch\n"
        "# TYPE process_start_time_seconds gauge\n"
        "process_start_time_seconds %ld\n"
        "# HELP engram_processes Processes of this instance: the master, "
        "workers and module processes\n"
        "# TYPE engram_processes gauge\n"
        "engram_processes %lu\n",
        (unsigned long long) proc.rss,
        (double) proc.ticks / (double) tick,
        (unsigned long long) proc.fds,
        (long) eg_start_time,
        (unsigned long) proc.processes);

    extra.len = (size_t) (p - extra.data);

    if (eg_metrics_render(r->pool, &body, &extra) != EG_OK) {
        return EG_HTTP_INTERNAL_SERVER_ERROR;
    }

    return eg_http_send_response(r, EG_HTTP_OK, &eg_http_metrics_type,
                                 &body);
}


/* one /proc/PID/stat: the parent, CPU ticks and resident pages */
static eg_int_t
eg_http_metrics_stat(pid_t pid, pid_t *ppid, uint64_t *ticks, uint64_t *rss)
{
    int                  fd, field;
    char                 path[64], buf[1024], *p, *tok, *save;
    ssize_t              n;
    unsigned long long   v;

    (void) snprintf(path, sizeof(path), "/proc/%ld/stat", (long) pid);

    fd = open(path, O_RDONLY|O_CLOEXEC);
    if (fd == -1) {
        return EG_ERROR;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    (void) close(fd);

    if (n <= 0) {
        return EG_ERROR;
    }

    buf[n] = '\0';

    /* the command may hold spaces and parentheses: start after the last ) */

    p = strrchr(buf, ')');
    if (p == NULL) {
        return EG_ERROR;
    }

    *ticks = 0;
    *rss = 0;
    *ppid = 0;

    /* fields are numbered from 1 (pid); 3 is the state, after the ")" */

    for (field = 3, tok = strtok_r(p + 1, " ", &save);
         tok;
         field++, tok = strtok_r(NULL, " ", &save))
    {
        v = strtoull(tok, NULL, 10);

        switch (field) {
        case 4:
            *ppid = (pid_t) v;
            break;
        case 14:
        case 15:
            *ticks += v;
            break;
        case 24:
            *rss = v * (uint64_t) sysconf(_SC_PAGESIZE);
            return EG_OK;
        }
    }

    return EG_ERROR;
}


static uint64_t
eg_http_metrics_fds(pid_t pid)
{
    char            path[64];
    DIR            *dir;
    uint64_t        n;
    struct dirent  *de;

    (void) snprintf(path, sizeof(path), "/proc/%ld/fd", (long) pid);

    dir = opendir(path);
    if (dir == NULL) {
        return 0;   /* another user's process: not ours to see */
    }

    n = 0;

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] != '.') {
            n++;
        }
    }

    (void) closedir(dir);

    /* our own list includes the descriptor reading it */

    if (pid == getpid() && n > 0) {
        n--;
    }

    return n;
}


static void
eg_http_metrics_proc(pid_t master, eg_http_metrics_proc_t *p)
{
    DIR            *dir;
    pid_t           pid, ppid;
    uint64_t        ticks, rss;
    struct dirent  *de;

    eg_memzero(p, sizeof(eg_http_metrics_proc_t));

    if (eg_http_metrics_stat(master, &ppid, &ticks, &rss) == EG_OK) {
        p->rss += rss;
        p->ticks += ticks;
        p->fds += eg_http_metrics_fds(master);
        p->processes++;
    }

    if (master == getpid() && eg_process != EG_PROCESS_MASTER) {
        return;     /* a single process has no children to count */
    }

    dir = opendir("/proc");
    if (dir == NULL) {
        return;
    }

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9') {
            continue;
        }

        pid = (pid_t) atol(de->d_name);

        if (pid == master
            || eg_http_metrics_stat(pid, &ppid, &ticks, &rss) != EG_OK
            || ppid != master)
        {
            continue;
        }

        p->rss += rss;
        p->ticks += ticks;
        p->fds += eg_http_metrics_fds(pid);
        p->processes++;
    }

    (void) closedir(dir);
}
