/*
 * The gossip guard: kernel programs (eBPF) that drop datagrams aimed at
 * the gossip port that are not this cluster's gossip, or come from a
 * source outside an allow-list, before the cluster process reads them.
 *
 *     eg_gossip_guard_module.c   "gossip_guard" and "gossip_guard_allow",
 *                                the metrics, the cluster process's part
 *     eg_gossip_guard_bpf.c      the loader (libbpf), --with-bpf only
 *     eg_gossip_guard.bpf.c      the kernel programs (clang -target bpf)
 *     eg_gossip_guard_bpf.h      the maps both sides share
 *
 * The master loads the programs with each configuration it reads (it is
 * root; the cluster process may not be), fills their maps from that
 * configuration, and attaches the XDP program, if any, through a link it
 * alone holds.  The cluster process it forks attaches the socket filter
 * to the gossip socket once it owns the socket, and reads the drop
 * counters.  Where the programs cannot be loaded, or the guard is not
 * built, the daemon runs as without it and says so once.
 */

#ifndef EG_GOSSIP_GUARD_H_INCLUDED
#define EG_GOSSIP_GUARD_H_INCLUDED


/* the drop reasons and the two hooks, as eg_gossip_guard_bpf.h has them */
#define EG_GOSSIP_GUARD_REASONS   5
#define EG_GOSSIP_GUARD_COUNTERS  (2 * EG_GOSSIP_GUARD_REASONS)
#define EG_GOSSIP_GUARD_ALLOW_MAX 256       /* CIDR blocks per family */


typedef struct eg_gossip_guard_bpf_s  eg_gossip_guard_bpf_t;


typedef struct {
    eg_flag_t               enable;         /* gossip_guard on | off */
    eg_str_t                xdp;            /* xdp=IFACE, or empty */
    eg_array_t             *allow;          /* eg_cidr_t; NULL: any source */

    eg_str_t                file;           /* where gossip_guard was */
    eg_uint_t               line;
    const char             *env;            /* or its variable */

    eg_gossip_guard_bpf_t  *bpf;            /* loaded by the master, or NULL */
} eg_gossip_guard_conf_t;


/* what the kernel programs check, from the cluster's configuration */
typedef struct {
    uint32_t                cluster;        /* the cluster name's hash */
    u_char                  version_min;
    u_char                  version_max;
    u_char                  flags_known;
    eg_swim_addr_t          listen;         /* the gossip socket's */
    eg_uint_t               any;            /* listen is a wildcard */
    eg_array_t             *allow;          /* eg_cidr_t, or NULL */
    eg_uint_t               xdp;            /* the XDP program is wanted */
} eg_gossip_guard_spec_t;


#if (EG_GOSSIP_GUARD)

/* eg_gossip_guard_bpf.c: master */
eg_gossip_guard_bpf_t *eg_gossip_guard_bpf_load(eg_pool_t *pool,
    eg_log_t *log, eg_gossip_guard_spec_t *spec);
eg_int_t eg_gossip_guard_bpf_xdp(eg_gossip_guard_bpf_t *b, eg_log_t *log,
    eg_str_t *ifname);

/* a process the master forked: its copy of the XDP link */
void eg_gossip_guard_bpf_xdp_forget(void);

/* the cluster process */
eg_int_t eg_gossip_guard_bpf_attach(eg_gossip_guard_bpf_t *b, int fd);
eg_int_t eg_gossip_guard_bpf_counters(eg_gossip_guard_bpf_t *b,
    uint64_t *n);
uint64_t *eg_gossip_guard_bpf_published(eg_gossip_guard_bpf_t *b);

#endif


extern eg_module_t  eg_gossip_guard_module;

#endif /* EG_GOSSIP_GUARD_H_INCLUDED */
