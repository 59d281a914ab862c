/*
 * The gossip guard's loader: the kernel programs of eg_gossip_guard.bpf.c,
 * embedded by the skeleton bpftool makes at build time, loaded and fed
 * with libbpf.
 *
 * The master loads one set of programs and maps per configuration, as
 * root, and fills the maps from it; they are freed with the cycle.  The
 * cluster process, forked with them, attaches the socket filter and
 * reads the counters through the descriptors it inherited, which needs
 * no privilege.  The XDP link is the master's alone: a child closes its
 * copy, so that the program leaves the interface when the master does,
 * however it ends, and a reload swaps the program inside the link
 * instead of detaching it.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_gossip.h>
#include <eg_gossip_guard.h>

#include <net/if.h>
#include <linux/types.h>
#include <linux/if_link.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "eg_gossip_guard_bpf.h"
#include "eg_gossip_guard.skel.h"


_Static_assert(EG_GUARD_REASONS == EG_GOSSIP_GUARD_REASONS,
               "the module and the kernel programs count alike");
_Static_assert(EG_GUARD_COUNTERS == EG_GOSSIP_GUARD_COUNTERS,
               "the module and the kernel programs count alike");
_Static_assert(EG_GUARD_ALLOW_MAX == EG_GOSSIP_GUARD_ALLOW_MAX,
               "the allow-lists hold what the directive accepts");
_Static_assert(sizeof(struct eg_guard_conf) == 28,
               "the map value has the kernel program's layout");
_Static_assert(offsetof(struct eg_guard_conf, addr) == 12,
               "the address is word-aligned for XDP's comparison");
_Static_assert(sizeof(struct eg_guard_key4) == 8
               && sizeof(struct eg_guard_key6) == 20,
               "LPM keys are a 4-byte prefix length and an address");


struct eg_gossip_guard_bpf_s {
    struct eg_gossip_guard_bpf  *skel;
    int                          ncpus;     /* possible CPUs */
    uint64_t                    *values;    /* one counter of each CPU */
};


static void eg_gossip_guard_bpf_free(void *data);
static eg_int_t eg_gossip_guard_bpf_fill(eg_gossip_guard_bpf_t *b,
    eg_gossip_guard_spec_t *spec);
static int eg_gossip_guard_bpf_print(enum libbpf_print_level level,
    const char *fmt, va_list args);


/* the master's XDP link, which outlives the configurations it serves */
static struct bpf_link  *eg_gossip_guard_xdp_link;
static unsigned          eg_gossip_guard_xdp_ifindex;

/* where libbpf's own messages go while the master loads */
static eg_log_t         *eg_gossip_guard_bpf_log;


eg_gossip_guard_bpf_t *
eg_gossip_guard_bpf_load(eg_pool_t *pool, eg_log_t *log,
    eg_gossip_guard_spec_t *spec)
{
    int                     err;
    eg_pool_cleanup_t      *cln;
    eg_gossip_guard_bpf_t  *b;

    eg_gossip_guard_bpf_log = log;
    (void) libbpf_set_print(eg_gossip_guard_bpf_print);

    b = eg_pcalloc(pool, sizeof(eg_gossip_guard_bpf_t));
    cln = eg_pool_cleanup_add(pool, 0);

    if (b == NULL || cln == NULL) {
        return NULL;
    }

    b->ncpus = libbpf_num_possible_cpus();

    if (b->ncpus <= 0) {
        eg_log_error(EG_LOG_WARN, log, -b->ncpus, "gossip guard: the "
                     "number of CPUs is unknown, datagrams are checked in "
                     "user space only");
        return NULL;
    }

    b->values = eg_pcalloc(pool, b->ncpus * sizeof(uint64_t));
    if (b->values == NULL) {
        return NULL;
    }

    b->skel = eg_gossip_guard_bpf__open();

    if (b->skel == NULL) {
        err = errno;
        goto failed;
    }

    cln->handler = eg_gossip_guard_bpf_free;
    cln->data = b;

    /* an XDP program needs more privileges: load it only if it is used */

    if (!spec->xdp
        && bpf_program__set_autoload(b->skel->progs.eg_guard_xdp, false)
           != 0)
    {
        err = errno;
        goto failed;
    }

    if (eg_gossip_guard_bpf__load(b->skel) != 0) {
        err = errno;
        goto failed;
    }

    if (eg_gossip_guard_bpf_fill(b, spec) != EG_OK) {
        err = errno;
        goto failed;
    }

    eg_gossip_guard_bpf_log = NULL;

    return b;

failed:

    if (b->skel) {
        eg_gossip_guard_bpf__destroy(b->skel);
        b->skel = NULL;
        cln->handler = NULL;
    }

    /* once per configuration read: the daemon goes on without the guard */

    eg_log_error(EG_LOG_WARN, log, err, "gossip guard: the BPF programs "
                 "cannot be loaded, datagrams are checked in user space "
                 "only");

    eg_gossip_guard_bpf_log = NULL;

    return NULL;
}


static void
eg_gossip_guard_bpf_free(void *data)
{
    eg_gossip_guard_bpf_t  *b = data;

    eg_gossip_guard_bpf__destroy(b->skel);
    b->skel = NULL;
}


/* the configuration and the allow-lists, into the maps */
static eg_int_t
eg_gossip_guard_bpf_fill(eg_gossip_guard_bpf_t *b,
    eg_gossip_guard_spec_t *spec)
{
    __u8                  one;
    __u32                 key, bits;
    eg_uint_t             i, j;
    eg_cidr_t            *cidr;
    struct eg_guard_conf  c;
    struct eg_guard_key4  k4;
    struct eg_guard_key6  k6;

    eg_memzero(&c, sizeof(struct eg_guard_conf));

    c.cluster = spec->cluster;
    c.version_min = spec->version_min;
    c.version_max = spec->version_max;
    c.flags_known = spec->flags_known;
    c.allow = (spec->allow && spec->allow->nelts) ? 1 : 0;
    c.port = htons(spec->listen.port);
    c.family = (__u8) spec->listen.family;
    c.any = spec->any ? 1 : 0;
    eg_memcpy(c.addr, spec->listen.ip, spec->listen.family == 4 ? 4 : 16);

    key = 0;

    if (bpf_map__update_elem(b->skel->maps.eg_guard_conf, &key, sizeof(key),
                             &c, sizeof(c), BPF_ANY)
        != 0)
    {
        return EG_ERROR;
    }

    if (!c.allow) {
        return EG_OK;
    }

    one = 1;
    cidr = spec->allow->elts;

    for (i = 0; i < spec->allow->nelts; i++) {

        /* the prefix length: the set bits of the mask, which is contiguous */

        bits = 0;

        if (cidr[i].family == AF_INET) {
            bits = (__u32) __builtin_popcount(cidr[i].u.in.mask);

            k4.prefixlen = bits;
            eg_memcpy(k4.addr, &cidr[i].u.in.addr, 4);

            if (bpf_map__update_elem(b->skel->maps.eg_guard_allow4, &k4,
                                     sizeof(k4), &one, sizeof(one), BPF_ANY)
                != 0)
            {
                return EG_ERROR;
            }

            continue;
        }

        for (j = 0; j < 16; j++) {
            bits += (__u32) __builtin_popcount(cidr[i].u.in6.mask[j]);
        }

        k6.prefixlen = bits;
        eg_memcpy(k6.addr, cidr[i].u.in6.addr, 16);

        if (bpf_map__update_elem(b->skel->maps.eg_guard_allow6, &k6,
                                 sizeof(k6), &one, sizeof(one), BPF_ANY)
            != 0)
        {
            return EG_ERROR;
        }
    }

    return EG_OK;
}


/*
 * The XDP program of this configuration on the interface, or none when b
 * is NULL or the name empty.  The link stays from one configuration to
 * the next on the same interface, its program replaced: the interface is
 * never left unguarded by a reload.
 */
eg_int_t
eg_gossip_guard_bpf_xdp(eg_gossip_guard_bpf_t *b, eg_log_t *log,
    eg_str_t *ifname)
{
    int                     err;
    unsigned                ifindex;
    const char             *mode;
    struct bpf_program     *prog;
    LIBBPF_OPTS(bpf_xdp_query_opts, query);

    ifindex = (b && ifname->len) ? if_nametoindex((char *) ifname->data)
                                 : 0;

    if (ifname->len && b && ifindex == 0) {
        eg_log_error(EG_LOG_WARN, log, eg_errno, "gossip guard: no "
                     "interface \"" EG_STR_FMT "\", no XDP program",
                     EG_STR_ARG(*ifname));
    }

    prog = b ? b->skel->progs.eg_guard_xdp : NULL;

    if (eg_gossip_guard_xdp_link && ifindex
        && ifindex == eg_gossip_guard_xdp_ifindex)
    {
        if (bpf_link__update_program(eg_gossip_guard_xdp_link, prog) == 0) {
            return EG_OK;
        }

        eg_log_error(EG_LOG_INFO, log, errno, "gossip guard: the XDP "
                     "program cannot be replaced on \"" EG_STR_FMT "\", "
                     "attaching it again", EG_STR_ARG(*ifname));
    }

    if (eg_gossip_guard_xdp_link) {
        /* detached at once, whoever else may still hold the link */
        (void) bpf_link_detach(bpf_link__fd(eg_gossip_guard_xdp_link));
        (void) bpf_link__destroy(eg_gossip_guard_xdp_link);

        eg_gossip_guard_xdp_link = NULL;
        eg_gossip_guard_xdp_ifindex = 0;
    }

    if (ifindex == 0) {
        return ifname->len ? EG_ERROR : EG_OK;
    }

    eg_gossip_guard_bpf_log = log;

    eg_gossip_guard_xdp_link = bpf_program__attach_xdp(prog, (int) ifindex);

    eg_gossip_guard_bpf_log = NULL;

    if (eg_gossip_guard_xdp_link == NULL) {
        err = errno;

        eg_log_error(EG_LOG_WARN, log, err, "gossip guard: the XDP program "
                     "cannot be attached to \"" EG_STR_FMT "\"%s, only the "
                     "socket filter guards", EG_STR_ARG(*ifname),
                     err == EBUSY ? " (another XDP program is there: the "
                     "old binary's during an upgrade?)" : "");
        return EG_ERROR;
    }

    eg_gossip_guard_xdp_ifindex = ifindex;

    mode = "";

    if (bpf_xdp_query((int) ifindex, 0, &query) == 0) {
        mode = query.attach_mode == XDP_ATTACHED_DRV ? " (native)"
               : query.attach_mode == XDP_ATTACHED_SKB ? " (generic)"
               : query.attach_mode == XDP_ATTACHED_HW ? " (offloaded)" : "";
    }

    eg_log_error(EG_LOG_NOTICE, log, 0, "gossip guard: XDP program on \""
                 EG_STR_FMT "\"%s", EG_STR_ARG(*ifname), mode);

    return EG_OK;
}


/*
 * In a process the master forked: closes its copy of the link, which
 * would otherwise keep the program on the interface after the master
 * let go of it.  The master's copy is untouched.
 */
void
eg_gossip_guard_bpf_xdp_forget(void)
{
    if (eg_gossip_guard_xdp_link == NULL) {
        return;
    }

    (void) close(bpf_link__fd(eg_gossip_guard_xdp_link));

    bpf_link__disconnect(eg_gossip_guard_xdp_link);
    (void) bpf_link__destroy(eg_gossip_guard_xdp_link);

    eg_gossip_guard_xdp_link = NULL;
    eg_gossip_guard_xdp_ifindex = 0;
}


/* the socket filter onto the gossip socket; errno says why not */
eg_int_t
eg_gossip_guard_bpf_attach(eg_gossip_guard_bpf_t *b, int fd)
{
    int  prog;

    prog = bpf_program__fd(b->skel->progs.eg_guard_socket);

    if (prog < 0) {
        errno = -prog;
        return EG_ERROR;
    }

    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(int)) == -1)
    {
        return EG_ERROR;
    }

    return EG_OK;
}


/* every drop counter, each summed over the CPUs */
eg_int_t
eg_gossip_guard_bpf_counters(eg_gossip_guard_bpf_t *b, uint64_t *n)
{
    int    cpu;
    __u32  key;

    for (key = 0; key < EG_GUARD_COUNTERS; key++) {

        if (bpf_map__lookup_elem(b->skel->maps.eg_guard_drops, &key,
                                 sizeof(key), b->values,
                                 b->ncpus * sizeof(uint64_t), 0)
            != 0)
        {
            return EG_ERROR;
        }

        n[key] = 0;

        for (cpu = 0; cpu < b->ncpus; cpu++) {
            n[key] += b->values[cpu];
        }
    }

    return EG_OK;
}


/*
 * What has been published of each counter: memory of the programs' own
 * (their .bss, mapped shared), so a cluster process that takes over
 * from a crashed one in the same configuration goes on from there.
 */
uint64_t *
eg_gossip_guard_bpf_published(eg_gossip_guard_bpf_t *b)
{
    return (uint64_t *) b->skel->bss->eg_guard_published;
}


/* libbpf's messages, verifier logs included, at info: ours say it all */
static int
eg_gossip_guard_bpf_print(enum libbpf_print_level level, const char *fmt,
    va_list args)
{
    int   n;
    char  text[1024];

    if (level == LIBBPF_DEBUG || eg_gossip_guard_bpf_log == NULL) {
        return 0;
    }

    n = vsnprintf(text, sizeof(text), fmt, args);

    if (n <= 0) {
        return 0;
    }

    n = eg_min(n, (int) sizeof(text) - 1);

    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) {
        n--;
    }

    eg_log_error(EG_LOG_INFO, eg_gossip_guard_bpf_log, 0, "%.*s",
                 n, text);

    return 0;
}
