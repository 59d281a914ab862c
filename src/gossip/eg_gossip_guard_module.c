/*
 * The gossip guard module: "gossip_guard" and "gossip_guard_allow" in
 * "cluster {}", the guard's metrics, and what the master and the cluster
 * process do with the kernel programs (eg_gossip_guard.h says who does
 * what, eg_gossip_guard.bpf.c what the programs check).
 *
 * The module is built with cluster mode whether or not the programs are
 * (./configure --with-bpf): a configuration with "gossip_guard on" is
 * the same on every build, and one without the programs, or whose kernel
 * or privileges refuse them, runs unguarded and says so once.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_gossip.h>
#include <eg_gossip_guard.h>
#include <net/if.h>


static void *eg_gossip_guard_create_conf(eg_cycle_t *cycle);
static char *eg_gossip_guard_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_gossip_guard(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static char *eg_gossip_guard_allow(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static eg_int_t eg_gossip_guard_init_module(eg_cycle_t *cycle);
static eg_int_t eg_gossip_guard_init_process(eg_cycle_t *cycle);
static void eg_gossip_guard_exit_master(eg_cycle_t *cycle);
static void eg_gossip_guard_detach(eg_gossip_t *g);
#if (EG_GOSSIP_GUARD)
static void eg_gossip_guard_counters(eg_metric_t **series, const char *name,
    const char *help);
#else
static void eg_gossip_guard_not_built(eg_cycle_t *cycle,
    eg_gossip_guard_conf_t *gg);
#endif


static eg_command_t  eg_gossip_guard_commands[] = {

    { eg_string("gossip_guard"),
      EG_CLUSTER_CONF|EG_CONF_TAKE12,
      eg_gossip_guard,
      0,
      0,
      NULL },

    { eg_string("gossip_guard_allow"),
      EG_CLUSTER_CONF|EG_CONF_1MORE,
      eg_gossip_guard_allow,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_conf_env_t  eg_gossip_guard_env[] = {
    { "ENGRAM_CLUSTER_GOSSIP_GUARD", eg_string("gossip_guard"),
      EG_ENV_SPLIT_SPACE },
    { "ENGRAM_CLUSTER_GOSSIP_GUARD_ALLOW", eg_string("gossip_guard_allow"),
      EG_ENV_SPLIT_COMMA },
    { NULL, eg_null_string, 0 }
};


static eg_cluster_module_t  eg_gossip_guard_module_ctx = {
    eg_string("gossip_guard"),
    eg_gossip_guard_create_conf,
    eg_gossip_guard_init_conf
};


eg_module_t  eg_gossip_guard_module = {
    EG_MODULE_V1,
    "eg_gossip_guard_module",
    EG_CLUSTER_MODULE,                  /* module type */
    &eg_gossip_guard_module_ctx,        /* module context */
    eg_gossip_guard_commands,           /* module directives */
    eg_gossip_guard_env,                /* environment overrides */
    NULL,                               /* init master */
    eg_gossip_guard_init_module,        /* init module */
    eg_gossip_guard_init_process,       /* init process */
    NULL,                               /* exit process */
    eg_gossip_guard_exit_master         /* exit master */
};


#if (EG_GOSSIP_GUARD)

/* the label "reason", in the order of the kernel programs' counters */
static const char  *eg_gossip_guard_reasons[EG_GOSSIP_GUARD_REASONS] = {
    "source", "short", "magic", "version", "cluster"
};

static struct {
    eg_metric_t         *dropped[EG_GOSSIP_GUARD_REASONS];
    eg_metric_t         *xdp_dropped[EG_GOSSIP_GUARD_REASONS];
    eg_metric_t         *socket;        /* attached{hook="socket"} */
    eg_metric_t         *xdp;           /* attached{hook="xdp"} */
    eg_uint_t            unreadable;    /* said once: no counters */
} eg_gossip_guard_metrics;

#endif


static void *
eg_gossip_guard_create_conf(eg_cycle_t *cycle)
{
    eg_gossip_guard_conf_t  *gg;

    gg = eg_pcalloc(cycle->pool, sizeof(eg_gossip_guard_conf_t));
    if (gg == NULL) {
        return NULL;
    }

    gg->enable = EG_CONF_UNSET;

    return gg;
}


/* gossip_guard on | off | [on] xdp=IFACE */
static char *
eg_gossip_guard(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_gossip_guard_conf_t  *gg = conf;

    eg_str_t   *value, s;
    eg_uint_t   i;

    eg_unused(cmd);

    if (gg->enable != EG_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    i = 1;

    /* for the warning of a build without the guard, when the block ends */

    if (cf->conf_file) {
        gg->file = cf->conf_file->name;
        gg->line = cf->conf_file->line;
    }

    gg->env = cf->env;

    if (eg_strcmp(value[1].data, "off") == 0) {
        gg->enable = 0;

        if (cf->args->nelts == 2) {
            return EG_CONF_OK;
        }

        /* nothing to set for a guard that is off */
        i = 2;
        goto invalid;
    }

    gg->enable = 1;

    if (eg_strcmp(value[1].data, "on") == 0) {
        i = 2;
    }

    for ( /* void */ ; i < cf->args->nelts; i++) {

        if (eg_strncmp(value[i].data, "xdp=", 4) != 0) {
            goto invalid;
        }

        s.data = value[i].data + 4;
        s.len = value[i].len - 4;

        if (gg->xdp.data != NULL) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "duplicate parameter \"%s\" in \"%s\" "
                              "directive", value[i].data, value[0].data);
            return EG_CONF_ERROR;
        }

        if (s.len == 0 || s.len >= IF_NAMESIZE) {
            goto invalid;
        }

        /* a typo is found by "engram -t", not by junk that gets through */

        if (if_nametoindex((char *) s.data) == 0) {
            eg_conf_log_error(EG_LOG_EMERG, cf, eg_errno,
                              "unknown interface \"%s\" in \"%s\" directive",
                              s.data, value[0].data);
            return EG_CONF_ERROR;
        }

        gg->xdp = s;
    }

    return EG_CONF_OK;

invalid:

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "invalid parameter \"%s\" in \"%s\" directive, it "
                      "must be \"on\", \"off\" or \"xdp=INTERFACE\"",
                      value[i].data, value[0].data);

    return EG_CONF_ERROR;
}


/* gossip_guard_allow CIDR ...;  as often as wanted, the blocks add up */
static char *
eg_gossip_guard_allow(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_gossip_guard_conf_t  *gg = conf;

    eg_int_t    rc;
    eg_str_t   *value;
    eg_uint_t   i, j, n;
    eg_cidr_t  *cidr, *all;

    value = cf->args->elts;

    if (gg->allow == NULL) {
        gg->allow = eg_array_create(cf->pool, 4, sizeof(eg_cidr_t));
        if (gg->allow == NULL) {
            return EG_CONF_ERROR;
        }
    }

    for (i = 1; i < cf->args->nelts; i++) {

        cidr = eg_array_push(gg->allow);
        if (cidr == NULL) {
            return EG_CONF_ERROR;
        }

        rc = eg_ptocidr(&value[i], cidr);

        if (rc == EG_ERROR) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid value \"%s\" in \"%s\" directive, it "
                              "must be an address or a CIDR block",
                              value[i].data, cmd->name.data);
            return EG_CONF_ERROR;
        }

        if (rc == EG_DONE) {
            eg_conf_log_error(EG_LOG_WARN, cf, 0,
                              "low address bits of %s are meaningless",
                              value[i].data);
        }

        /* the kernel's lists have room for so many of each family */

        all = gg->allow->elts;
        n = 0;

        for (j = 0; j < gg->allow->nelts; j++) {
            n += (all[j].family == cidr->family);
        }

        if (n > EG_GOSSIP_GUARD_ALLOW_MAX) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "more than %d %s blocks in \"%s\"",
                              EG_GOSSIP_GUARD_ALLOW_MAX,
                              cidr->family == AF_INET ? "IPv4" : "IPv6",
                              cmd->name.data);
            return EG_CONF_ERROR;
        }
    }

    return EG_CONF_OK;
}


static char *
eg_gossip_guard_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_gossip_guard_conf_t  *gg = conf;

    eg_conf_init_value(gg->enable, 0);

#if !(EG_GOSSIP_GUARD)

    /* "engram -t" says it here; a running master once it has its log */

    if (eg_test_config) {
        eg_gossip_guard_not_built(cycle, gg);
    }

#else
    eg_unused(cycle);
#endif

    return EG_CONF_OK;
}


#if !(EG_GOSSIP_GUARD)

static void
eg_gossip_guard_not_built(eg_cycle_t *cycle, eg_gossip_guard_conf_t *gg)
{
    eg_conf_t       cf;
    eg_conf_file_t  file;

    if (!gg->enable) {
        return;
    }

    eg_memzero(&cf, sizeof(eg_conf_t));
    cf.cycle = cycle;
    cf.log = cycle->log;
    cf.env = gg->env;

    file.name = gg->file;
    file.line = gg->line;
    cf.conf_file = (gg->env == NULL && gg->file.data) ? &file : NULL;

    eg_conf_log_error(EG_LOG_WARN, &cf, 0,
                      "\"gossip_guard\" is on, but this engram is built "
                      "without it (./configure --with-bpf): datagrams are "
                      "checked in user space only");
}

#endif


/*
 * In the master, for each configuration: the metrics, then the programs
 * loaded and filled from it, and the XDP program on its interface.
 */
static eg_int_t
eg_gossip_guard_init_module(eg_cycle_t *cycle)
{
#if (EG_GOSSIP_GUARD)

    eg_str_t                 none = eg_null_string;
    eg_gossip_conf_t        *gcf;
    eg_metric_family_t      *f;
    eg_gossip_guard_conf_t  *gg;
    eg_gossip_guard_spec_t   spec;

    gcf = eg_cluster_get_conf(cycle->conf_ctx, eg_gossip_module);
    gg = eg_cluster_get_conf(cycle->conf_ctx, eg_gossip_guard_module);

    if (gcf == NULL) {
        /* single-node mode now: a reload took the guard off an interface */
        (void) eg_gossip_guard_bpf_xdp(NULL, cycle->log, &none);
        return EG_OK;
    }

    eg_gossip_guard_counters(eg_gossip_guard_metrics.dropped,
                             "engram_gossip_guard_dropped_total",
                             "Datagrams the gossip guard dropped in the "
                             "kernel, by reason");

    eg_gossip_guard_counters(eg_gossip_guard_metrics.xdp_dropped,
                             "engram_gossip_guard_xdp_dropped_total",
                             "Of those, the datagrams its XDP program "
                             "dropped at the driver");

    f = eg_metrics_family(EG_METRIC_GAUGE, "engram_gossip_guard_attached",
                          "Whether the gossip guard's program is attached, "
                          "by hook", "hook", NULL, 0);

    eg_gossip_guard_metrics.socket = eg_metrics_series1(f, "socket");
    eg_gossip_guard_metrics.xdp = eg_metrics_series1(f, "xdp");

    eg_metric_set(eg_gossip_guard_metrics.xdp, 0);

    if (!gg->enable) {
        (void) eg_gossip_guard_bpf_xdp(NULL, cycle->log, &none);
        return EG_OK;
    }

    eg_memzero(&spec, sizeof(eg_gossip_guard_spec_t));

    spec.cluster = eg_swim_cluster_hash(gcf->cluster_name.data,
                                        gcf->cluster_name.len);
    spec.version_min = EG_SWIM_VERSION_MIN;
    spec.version_max = EG_SWIM_VERSION_MAX;
    spec.flags_known = EG_SWIM_F_ENCRYPTED|EG_SWIM_F_COMPRESSED;
    spec.any = eg_inet_wildcard(&gcf->listen.addr.sa.sockaddr);
    spec.allow = gg->allow;
    spec.xdp = (gg->xdp.len != 0);

    if (eg_gossip_swim_addr(&gcf->listen.addr.sa.sockaddr, &spec.listen)
        != EG_OK)
    {
        return EG_OK;
    }

    gg->bpf = eg_gossip_guard_bpf_load(cycle->pool, cycle->log, &spec);

    if (gg->bpf == NULL) {
        (void) eg_gossip_guard_bpf_xdp(NULL, cycle->log, &none);
        return EG_OK;
    }

    if (eg_gossip_guard_bpf_xdp(gg->bpf, cycle->log, &gg->xdp) == EG_OK
        && gg->xdp.len)
    {
        eg_metric_set(eg_gossip_guard_metrics.xdp, 1);
    }

#else
    eg_gossip_guard_conf_t  *gg;

    gg = eg_cluster_get_conf(cycle->conf_ctx, eg_gossip_guard_module);

    if (gg) {
        eg_gossip_guard_not_built(cycle, gg);
    }
#endif

    return EG_OK;
}


#if (EG_GOSSIP_GUARD)

/* a counter family with a series for each reason */
static void
eg_gossip_guard_counters(eg_metric_t **series, const char *name,
    const char *help)
{
    eg_uint_t            i;
    eg_metric_family_t  *f;

    f = eg_metrics_family(EG_METRIC_COUNTER, name, help, "reason", NULL, 0);

    for (i = 0; i < EG_GOSSIP_GUARD_REASONS; i++) {
        series[i] = eg_metrics_series1(f, eg_gossip_guard_reasons[i]);
    }
}

#endif


/* a process the master forked must not keep the XDP program attached */
static eg_int_t
eg_gossip_guard_init_process(eg_cycle_t *cycle)
{
    eg_unused(cycle);

#if (EG_GOSSIP_GUARD)
    if (eg_process != EG_PROCESS_SINGLE) {
        eg_gossip_guard_bpf_xdp_forget();
    }
#endif

    return EG_OK;
}


static void
eg_gossip_guard_exit_master(eg_cycle_t *cycle)
{
#if (EG_GOSSIP_GUARD)
    eg_str_t  none = eg_null_string;

    (void) eg_gossip_guard_bpf_xdp(NULL, cycle->log, &none);
#else
    eg_unused(cycle);
#endif
}


/*
 * In the cluster process, once it owns the gossip socket: the socket
 * filter of this configuration replaces whatever the socket had (the
 * socket outlives configurations), or, without one, the socket is left
 * with no filter, since an older one would check for an older cluster.
 */
void
eg_gossip_guard_start(eg_gossip_t *g)
{
#if (EG_GOSSIP_GUARD)
    eg_gossip_guard_conf_t  *gg;

    gg = eg_cluster_get_conf(g->cycle->conf_ctx, eg_gossip_guard_module);

    if (gg && gg->enable && gg->bpf) {

        if (eg_gossip_guard_bpf_attach(gg->bpf, g->udp->fd) == EG_OK) {
            eg_metric_set(eg_gossip_guard_metrics.socket, 1);

            eg_log_error(EG_LOG_NOTICE, g->log, 0, "gossip guard: socket "
                         "filter on %s, %lu allowed blocks%s",
                         g->conf->listen.addr.name.data,
                         (unsigned long) (gg->allow ? gg->allow->nelts : 0),
                         gg->allow ? "" : " (every source)");
            return;
        }

        eg_log_error(EG_LOG_WARN, g->log, eg_socket_errno,
                     "gossip guard: setsockopt(SO_ATTACH_BPF) failed, "
                     "datagrams are checked in user space only");
    }

    eg_metric_set(eg_gossip_guard_metrics.socket, 0);
#endif

    eg_gossip_guard_detach(g);
}


static void
eg_gossip_guard_detach(eg_gossip_t *g)
{
#if defined(SO_DETACH_FILTER)
    int  zero;

    zero = 0;

    /* ENOENT: there was none, as is usual */

    if (setsockopt(g->udp->fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
                   sizeof(int))
        == -1
        && eg_socket_errno != ENOENT)
    {
        eg_log_error(EG_LOG_WARN, g->log, eg_socket_errno,
                     "setsockopt(SO_DETACH_FILTER) of the gossip socket "
                     "failed");
    }
#else
    eg_unused(g);
#endif
}


/*
 * Every second, and once more before the cluster process hands over:
 * what the programs dropped since it was last told, into the metrics.
 */
void
eg_gossip_guard_publish(eg_gossip_t *g)
{
#if (EG_GOSSIP_GUARD)
    uint64_t                 n[EG_GOSSIP_GUARD_COUNTERS], *pub, d;
    eg_uint_t                i, reason;
    eg_gossip_guard_conf_t  *gg;

    gg = eg_cluster_get_conf(g->cycle->conf_ctx, eg_gossip_guard_module);

    if (gg == NULL || gg->bpf == NULL
        || eg_gossip_guard_metrics.unreadable)
    {
        return;
    }

    if (eg_gossip_guard_bpf_counters(gg->bpf, n) != EG_OK) {
        eg_log_error(EG_LOG_WARN, g->log, eg_errno, "gossip guard: the "
                     "drop counters cannot be read, its metrics stay as "
                     "they are");
        eg_gossip_guard_metrics.unreadable = 1;
        return;
    }

    pub = eg_gossip_guard_bpf_published(gg->bpf);

    for (i = 0; i < EG_GOSSIP_GUARD_COUNTERS; i++) {
        d = n[i] - pub[i];

        if (d == 0) {
            continue;
        }

        reason = i % EG_GOSSIP_GUARD_REASONS;

        eg_metric_inc(eg_gossip_guard_metrics.dropped[reason], d);

        if (i >= EG_GOSSIP_GUARD_REASONS) {
            eg_metric_inc(eg_gossip_guard_metrics.xdp_dropped[reason], d);
        }

        pub[i] = n[i];
    }

#else
    eg_unused(g);
#endif
}
