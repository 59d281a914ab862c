/*
 * Multicast discovery, for LANs: every node announces itself on a
 * multicast group, and listens there for the announcements of others.
 *
 *     multicast [GROUP:PORT] [interval=5s] [ttl=1] [interface=NAME];
 *     multicast on | off;
 *
 * An announcement is one small datagram (eg_discovery_mcast.h,
 * docs/protocol.md): the cluster's hash, the node's id and its gossip
 * address, sealed with the gossip keyring when there is one, so that a
 * node without the key can neither be heard nor pretend to be a member.
 * A node remembers who it heard for three of their intervals: one lost
 * datagram does not make a peer vanish, and a node that went away is
 * forgotten soon.  A lookup answers with the peers it remembers, at once
 * when there are some, else when the first one is heard or one interval
 * has passed.
 *
 * A node announces itself when the cluster process starts, then every
 * interval (give or take a tenth, so that nodes started together do not
 * speak at once); a node that hears a newcomer announces itself early,
 * at most once an interval, so that the newcomer does not wait a whole
 * interval to hear of it.
 *
 * The group is a socket of the cluster process, bound to the group
 * address and port (so that it receives nothing else) with SO_REUSEADDR
 * (so that several nodes on one host share it); loopback is on, so that
 * those nodes hear each other, and a node that hears itself knows its
 * own id.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_discovery.h>
#include <eg_discovery_mcast.h>
#include <ifaddrs.h>
#include <net/if.h>


#define EG_MCAST_DEFAULT_GROUP  "239.255.42.99"
#define EG_MCAST_DEFAULT_PORT   7946
#define EG_MCAST_PEERS_MAX      512     /* remembered at once */
#define EG_MCAST_RECV_BATCH     32      /* datagrams per read event */
#define EG_MCAST_LOG_EVERY      60000   /* ms between two logs of a drop */


typedef struct {
    eg_flag_t                enabled;       /* unset, off, on */
    eg_sockaddr_t            group;         /* the port set */
    socklen_t                socklen;
    eg_str_t                 group_text;    /* "239.255.42.99:7946" */
    eg_msec_t                interval;
    eg_int_t                 ttl;
    eg_str_t                 interface;     /* empty: the kernel's choice */
    eg_discovery_method_t    method;        /* what the chain runs */
} eg_discovery_mcast_conf_t;


/* a node heard on the group */
typedef struct {
    u_char                   id[EG_SWIM_ID_MAX];
    uint8_t                  id_len;
    eg_swim_addr_t           addr;          /* its gossip address */
    uint64_t                 time;          /* of its last announcement */
    eg_msec_t                expires;       /* forgotten then, unless heard */
} eg_mcast_peer_t;


/* the method at run time, in the cluster process */
typedef struct {
    eg_discovery_method_t       *method;
    eg_discovery_mcast_conf_t   *conf;
    eg_log_t                    *log;
    eg_connection_t             *connection;    /* the group's socket */
    eg_sockaddr_t                to;            /* the group, scope set */
    socklen_t                    to_len;
    uint32_t                     cluster;       /* hash of its name */

    eg_event_t                   announce;      /* our next announcement */
    eg_event_t                   answer;        /* a lookup's answer */
    eg_uint_t                    pending;       /* a lookup waits */
    eg_msec_t                    early;         /* our last early one */
    eg_uint_t                    send_failed;   /* logged already */

    eg_mcast_peer_t             *peers;
    eg_uint_t                    npeers;
    eg_array_t                   found;         /* eg_swim_addr_t */

    eg_msec_t                    logged[EG_MCAST_DROP_REASONS];
    uint64_t                     dropped[EG_MCAST_DROP_REASONS];
    u_char                       error[256];    /* why the socket is shut */
} eg_discovery_mcast_t;


static void *eg_discovery_mcast_create_conf(eg_cycle_t *cycle);
static char *eg_discovery_mcast_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_discovery_mcast(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_discovery_mcast_group(eg_conf_t *cf,
    eg_discovery_mcast_conf_t *mcf, eg_str_t *text);
static eg_uint_t eg_discovery_mcast_link_scope(eg_sockaddr_t *sa);
static eg_int_t eg_discovery_mcast_init_module(eg_cycle_t *cycle);

static eg_int_t eg_discovery_mcast_init(eg_discovery_method_t *m);
static eg_int_t eg_discovery_mcast_lookup(eg_discovery_method_t *m);
static void eg_discovery_mcast_cancel(eg_discovery_method_t *m);
static void eg_discovery_mcast_exit(eg_discovery_method_t *m);

static eg_int_t eg_discovery_mcast_open(eg_discovery_mcast_t *d);
static eg_int_t eg_discovery_mcast_join(eg_discovery_mcast_t *d, int s,
    unsigned ifindex, const char **what);
static eg_int_t eg_discovery_mcast_if_addr(eg_str_t *name,
    struct in_addr *in);
static void eg_discovery_mcast_fail(eg_discovery_mcast_t *d,
    const char *what, eg_err_t err);
static void eg_discovery_mcast_close(eg_discovery_mcast_t *d);
static void eg_discovery_mcast_announce(eg_event_t *ev);
static void eg_discovery_mcast_read(eg_event_t *rev);
static void eg_discovery_mcast_heard(eg_discovery_mcast_t *d,
    eg_mcast_announce_t *a);
static void eg_discovery_mcast_drop(eg_discovery_mcast_t *d,
    eg_uint_t reason, eg_sockaddr_t *from, socklen_t from_len);
static void eg_discovery_mcast_answer(eg_event_t *ev);
static eg_uint_t eg_discovery_mcast_live(eg_discovery_mcast_t *d);
static eg_uint_t eg_discovery_mcast_random(eg_uint_t n);


static eg_command_t  eg_discovery_mcast_commands[] = {

    { eg_string("multicast"),
      EG_CLUSTER_CONF|EG_CONF_NOARGS|EG_CONF_TAKE1234,
      eg_discovery_mcast,
      0,
      0,
      NULL },

      eg_null_command
};


/* "239.255.42.99:7946 interval=1s" or "on", or "off" */
static eg_conf_env_t  eg_discovery_mcast_env[] = {
    { "ENGRAM_CLUSTER_MULTICAST", eg_string("multicast"),
      EG_ENV_SPLIT_SPACE|EG_ENV_SPLIT_COMMA },
    { NULL, eg_null_string, 0 }
};


static eg_cluster_module_t  eg_discovery_mcast_module_ctx = {
    eg_string("multicast"),
    eg_discovery_mcast_create_conf,
    eg_discovery_mcast_init_conf
};


eg_module_t  eg_discovery_mcast_module = {
    EG_MODULE_V1,
    "eg_discovery_mcast_module",
    EG_CLUSTER_MODULE,                  /* module type */
    &eg_discovery_mcast_module_ctx,     /* module context */
    eg_discovery_mcast_commands,        /* module directives */
    eg_discovery_mcast_env,             /* environment overrides */
    NULL,                               /* init master */
    eg_discovery_mcast_init_module,     /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


const char  *eg_mcast_drop_reasons[] = {
    "short", "magic", "version", "cluster", "decrypt", "plaintext",
    "malformed", "stale"
};


/* why each drop is, for the log */
static const char  *eg_mcast_drop_texts[] = {
    "shorter than a header",
    "not an announcement",
    "of a version this node does not speak",
    "of another cluster",
    "sealed with a key this node does not have",
    "in clear, and this node requires the keyring",
    "malformed",
    "older than the last one of its node"
};


static struct {
    eg_metric_t             *sent;
    eg_metric_t             *received;
    eg_metric_t             *dropped[EG_MCAST_DROP_REASONS];
} eg_mcast_metrics;


_Static_assert(sizeof(eg_mcast_drop_reasons) / sizeof(char *)
               == EG_MCAST_DROP_REASONS, "a name for every drop reason");
_Static_assert(sizeof(eg_mcast_drop_texts) / sizeof(char *)
               == EG_MCAST_DROP_REASONS, "a text for every drop reason");
_Static_assert(EG_MCAST_HEADER_LEN == 4 + 1 + 1 + 4, "header layout");
_Static_assert(EG_MCAST_MAX <= 512, "an announcement is a small datagram");


/* the codec: no socket, no clock, no state (the fuzzer calls it) */

size_t
eg_mcast_encode(eg_mcast_announce_t *a, uint32_t cluster,
    eg_swim_keyring_t *kr, u_char *nonce, u_char *out)
{
    u_char         plain[EG_MCAST_BODY_MAX];
    size_t         n, sealed;
    eg_uint_t      seal;
    eg_swim_buf_t  b;

    if (a->id_len == 0 || a->id_len > EG_SWIM_ID_MAX
        || (a->addr.family != 4 && a->addr.family != 6))
    {
        return 0;
    }

    seal = kr != NULL && kr->nkeys > 0;

    b.p = out;
    b.last = out + EG_MCAST_HEADER_LEN;
    b.error = 0;

    eg_swim_put_u32(&b, EG_MCAST_MAGIC);
    eg_swim_put_u8(&b, EG_MCAST_VERSION);
    eg_swim_put_u8(&b, seal ? EG_MCAST_F_SEALED : 0);
    eg_swim_put_u32(&b, cluster);

    /* the body, in clear first: sealed, it is the ciphertext's plaintext */

    b.p = plain;
    b.last = plain + sizeof(plain);

    eg_swim_put_u32(&b, (uint32_t) a->interval);
    eg_swim_put_u64(&b, a->time);
    eg_swim_put_addr(&b, &a->addr);
    eg_swim_put_u8(&b, a->id_len);
    eg_swim_put_bytes(&b, a->id, a->id_len);

    if (b.error) {
        return 0;
    }

    n = (size_t) (b.p - plain);

    if (!seal) {
        eg_memcpy(out + EG_MCAST_HEADER_LEN, plain, n);
        return EG_MCAST_HEADER_LEN + n;
    }

    /* the header is the associated data: flags and cluster are sealed too */

    sealed = eg_swim_encrypt(kr, out, EG_MCAST_HEADER_LEN, nonce, plain, n,
                             out + EG_MCAST_HEADER_LEN);

    return sealed ? EG_MCAST_HEADER_LEN + sealed : 0;
}


eg_int_t
eg_mcast_decode(u_char *buf, size_t len, uint32_t cluster,
    eg_swim_keyring_t *kr, eg_mcast_announce_t *a, eg_uint_t *reason)
{
    u_char         plain[EG_MCAST_MAX], *id, *p;
    size_t         blen;
    ssize_t        n;
    uint8_t        version, flags;
    uint32_t       interval;
    eg_swim_buf_t  b;

    eg_memzero(a, sizeof(eg_mcast_announce_t));

    if (len < EG_MCAST_HEADER_LEN) {
        *reason = EG_MCAST_DROP_SHORT;
        return EG_ERROR;
    }

    b.p = buf;
    b.last = buf + len;
    b.error = 0;

    if (eg_swim_get_u32(&b) != EG_MCAST_MAGIC) {
        *reason = EG_MCAST_DROP_MAGIC;
        return EG_ERROR;
    }

    version = eg_swim_get_u8(&b);
    flags = eg_swim_get_u8(&b);

    /* a flag we do not know may change the meaning of what follows */

    if (version < EG_MCAST_VERSION_MIN || version > EG_MCAST_VERSION_MAX
        || (flags & ~EG_MCAST_F_SEALED))
    {
        *reason = EG_MCAST_DROP_VERSION;
        return EG_ERROR;
    }

    if (eg_swim_get_u32(&b) != cluster) {
        *reason = EG_MCAST_DROP_CLUSTER;
        return EG_ERROR;
    }

    blen = len - EG_MCAST_HEADER_LEN;

    if (len > EG_MCAST_MAX) {
        /* longer than any announcement: nothing to open or read */
        *reason = EG_MCAST_DROP_MALFORMED;
        return EG_ERROR;
    }

    if (flags & EG_MCAST_F_SEALED) {
        if (kr == NULL || kr->nkeys == 0) {
            *reason = EG_MCAST_DROP_DECRYPT;
            return EG_ERROR;
        }

        n = eg_swim_decrypt(kr, buf, EG_MCAST_HEADER_LEN, b.p, blen, plain);

        if (n < 0) {
            *reason = EG_MCAST_DROP_DECRYPT;
            return EG_ERROR;
        }

        b.p = plain;
        b.last = plain + n;

    } else if (kr != NULL && kr->nkeys > 0) {
        /* anyone can send in clear: with keys, only the sealed count */
        *reason = EG_MCAST_DROP_PLAINTEXT;
        return EG_ERROR;
    }

    interval = eg_swim_get_u32(&b);
    a->time = eg_swim_get_u64(&b);
    eg_swim_get_addr(&b, &a->addr);
    a->id_len = eg_swim_get_u8(&b);
    id = eg_swim_get_bytes(&b, a->id_len);

    /* every byte is accounted for: trailing bytes are an error too */

    if (b.error || b.p != b.last
        || interval < EG_MCAST_INTERVAL_MIN
        || interval > EG_MCAST_INTERVAL_MAX
        || a->id_len == 0 || a->id_len > EG_SWIM_ID_MAX
        || a->addr.port == 0)
    {
        *reason = EG_MCAST_DROP_MALFORMED;
        return EG_ERROR;
    }

    /* ids are logged and shown: the same rule as node_id's */

    for (p = id; p < id + a->id_len; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\'
            || *p == '\'')
        {
            *reason = EG_MCAST_DROP_MALFORMED;
            return EG_ERROR;
        }
    }

    /* a gossip address is one host's: no wildcard, no group */

    if (a->addr.family == 4
        ? (a->addr.ip[0] == 0 || a->addr.ip[0] >= 224)
        : (a->addr.ip[0] == 0xff
           || eg_memcmp(a->addr.ip, &in6addr_any, 16) == 0))
    {
        *reason = EG_MCAST_DROP_MALFORMED;
        return EG_ERROR;
    }

    a->interval = interval;
    eg_memcpy(a->id, id, a->id_len);

    return EG_OK;
}


/* the configuration */

static void *
eg_discovery_mcast_create_conf(eg_cycle_t *cycle)
{
    eg_discovery_mcast_conf_t  *mcf;

    mcf = eg_pcalloc(cycle->pool, sizeof(eg_discovery_mcast_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->enabled = EG_CONF_UNSET;
    mcf->interval = EG_CONF_UNSET_MSEC;
    mcf->ttl = EG_CONF_UNSET;

    return mcf;
}


static char *
eg_discovery_mcast(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_discovery_mcast_conf_t  *mcf = conf;

    eg_int_t   n;
    eg_str_t  *value, s;
    eg_uint_t  i;

    eg_unused(cmd);

    if (mcf->enabled != EG_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2
        && (eg_strcmp(value[1].data, "off") == 0
            || eg_strcmp(value[1].data, "on") == 0))
    {
        mcf->enabled = (eg_strcmp(value[1].data, "on") == 0);
        return EG_CONF_OK;
    }

    mcf->enabled = 1;

    for (i = 1; i < cf->args->nelts; i++) {

        if (eg_strncmp(value[i].data, "interval=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            if (mcf->interval != EG_CONF_UNSET_MSEC) {
                goto duplicate;
            }

            n = eg_parse_time(&s, 1);

            if (n == EG_ERROR || n < EG_MCAST_INTERVAL_MIN
                || n > EG_MCAST_INTERVAL_MAX)
            {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "invalid interval \"%s\" in \"%s\" "
                                  "directive, it must be 100ms to 1h",
                                  s.data, value[0].data);
                return EG_CONF_ERROR;
            }

            mcf->interval = (eg_msec_t) n;
            continue;
        }

        if (eg_strncmp(value[i].data, "ttl=", 4) == 0) {
            if (mcf->ttl != EG_CONF_UNSET) {
                goto duplicate;
            }

            n = eg_atoi(value[i].data + 4, value[i].len - 4);

            if (n == EG_ERROR || n > 255) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "invalid ttl \"%s\" in \"%s\" directive, "
                                  "it must be 0 to 255",
                                  value[i].data + 4, value[0].data);
                return EG_CONF_ERROR;
            }

            mcf->ttl = n;
            continue;
        }

        if (eg_strncmp(value[i].data, "interface=", 10) == 0) {
            s.data = value[i].data + 10;
            s.len = value[i].len - 10;

            if (mcf->interface.data != NULL) {
                goto duplicate;
            }

            if (s.len == 0 || s.len >= IF_NAMESIZE) {
                goto invalid;
            }

            /* a typo is found by "engram -t", not by a silent LAN */

            if (if_nametoindex((char *) s.data) == 0) {
                eg_conf_log_error(EG_LOG_EMERG, cf, eg_errno,
                                  "unknown interface \"%s\" in \"%s\" "
                                  "directive", s.data, value[0].data);
                return EG_CONF_ERROR;
            }

            mcf->interface = s;
            continue;
        }

        if (i == 1 && eg_strlchr(value[i].data, value[i].data + value[i].len,
                                 '=') == NULL)
        {
            if (eg_discovery_mcast_group(cf, mcf, &value[i]) != EG_CONF_OK) {
                return EG_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    if (mcf->group_text.data != NULL
        && eg_discovery_mcast_link_scope(&mcf->group)
        && mcf->interface.data == NULL)
    {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "the group \"" EG_STR_FMT "\" of the \"%s\" "
                          "directive is link-local: it needs "
                          "\"interface=NAME\"",
                          EG_STR_ARG(mcf->group_text), value[0].data);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;

invalid:

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "invalid parameter \"%s\" in \"%s\" directive",
                      value[i].data, value[0].data);

    return EG_CONF_ERROR;

duplicate:

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "duplicate parameter \"%s\" in \"%s\" directive",
                      value[i].data, value[0].data);

    return EG_CONF_ERROR;
}


/* GROUP:PORT, an IPv4 or [IPv6] multicast address; the port defaults */
static char *
eg_discovery_mcast_group(eg_conf_t *cf, eg_discovery_mcast_conf_t *mcf,
    eg_str_t *text)
{
    eg_url_t    u;
    eg_uint_t   group;
    eg_str_t   *value;

    value = cf->args->elts;

    if (eg_parse_url(cf->pool, &u, text, EG_MCAST_DEFAULT_PORT,
                     EG_URL_PORT_OPTIONAL)
        != EG_OK)
    {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0, "%s in \"%s\" of the \"%s\" "
                          "directive", u.err, text->data, value[0].data);
        return EG_CONF_ERROR;
    }

    group = 0;

    if (u.literal) {
        switch (u.addr.sa.sockaddr.sa_family) {

        case AF_INET:
            group = IN_MULTICAST(ntohl(u.addr.sa.sockaddr_in.sin_addr.s_addr));
            break;

        case AF_INET6:
            group = IN6_IS_ADDR_MULTICAST(&u.addr.sa.sockaddr_in6.sin6_addr);
            break;
        }
    }

    if (!group) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "\"%s\" in \"%s\" directive is not a multicast "
                          "group: it must be an IPv4 (224.0.0.0/4) or IPv6 "
                          "(ff00::/8) address", text->data, value[0].data);
        return EG_CONF_ERROR;
    }

    mcf->group = u.addr.sa;
    mcf->socklen = u.addr.socklen;
    mcf->group_text = u.addr.name;

    return EG_CONF_OK;
}


/* an IPv6 group of an interface-local or link-local scope (ff01::, ff02::) */
static eg_uint_t
eg_discovery_mcast_link_scope(eg_sockaddr_t *sa)
{
    eg_uint_t  scope;

    if (sa->sockaddr.sa_family != AF_INET6) {
        return 0;
    }

    scope = sa->sockaddr_in6.sin6_addr.s6_addr[1] & 0x0f;

    return scope == 1 || scope == 2;
}


static char *
eg_discovery_mcast_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_discovery_mcast_conf_t  *mcf = conf;

    eg_str_t               group = eg_string(EG_MCAST_DEFAULT_GROUP);
    eg_url_t               u;
    eg_discovery_method_t *m;

    eg_conf_init_value(mcf->enabled, 0);

    if (!mcf->enabled) {
        return EG_CONF_OK;
    }

    if (mcf->group_text.data == NULL) {
        if (eg_parse_url(cycle->pool, &u, &group, EG_MCAST_DEFAULT_PORT,
                         EG_URL_PORT_OPTIONAL)
            != EG_OK)
        {
            return EG_CONF_ERROR;
        }

        mcf->group = u.addr.sa;
        mcf->socklen = u.addr.socklen;
        mcf->group_text = u.addr.name;
    }

    eg_conf_init_msec_value(mcf->interval, 5000);
    eg_conf_init_value(mcf->ttl, 1);

    m = &mcf->method;

    m->name = "multicast";
    m->conf = mcf;
    m->refresh = 0;
    m->init = eg_discovery_mcast_init;
    m->lookup = eg_discovery_mcast_lookup;
    m->cancel = eg_discovery_mcast_cancel;
    m->exit = eg_discovery_mcast_exit;

    if (eg_discovery_add_method(cycle, m) != EG_OK) {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* the metrics, declared by the master (eg_metrics.h) */
static eg_int_t
eg_discovery_mcast_init_module(eg_cycle_t *cycle)
{
    eg_uint_t                   i;
    eg_metric_family_t         *f;
    eg_discovery_mcast_conf_t  *mcf;

    mcf = eg_cluster_get_conf(cycle->conf_ctx, eg_discovery_mcast_module);

    if (mcf == NULL || !mcf->enabled) {
        return EG_OK;
    }

    f = eg_metrics_family(EG_METRIC_COUNTER,
                          "engram_discovery_multicast_announcements_total",
                          "Multicast announcements this node sent, and "
                          "those of other nodes it accepted", "direction",
                          NULL, 0);
    eg_mcast_metrics.sent = eg_metrics_series1(f, "sent");
    eg_mcast_metrics.received = eg_metrics_series1(f, "received");

    f = eg_metrics_family(EG_METRIC_COUNTER,
                          "engram_discovery_multicast_dropped_total",
                          "Multicast datagrams dropped, by reason",
                          "reason", NULL, 0);

    for (i = 0; i < EG_MCAST_DROP_REASONS; i++) {
        eg_mcast_metrics.dropped[i] = eg_metrics_series1(f,
                                                 eg_mcast_drop_reasons[i]);
    }

    return EG_OK;
}


/* the method, in the cluster process */

static eg_int_t
eg_discovery_mcast_init(eg_discovery_method_t *m)
{
    eg_str_t                   *name;
    eg_cycle_t                 *cycle;
    eg_discovery_mcast_t       *d;

    cycle = eg_discovery_cycle(m);

    d = eg_pcalloc(cycle->pool, sizeof(eg_discovery_mcast_t));
    if (d == NULL) {
        return EG_ERROR;
    }

    d->peers = eg_pcalloc(cycle->pool,
                          EG_MCAST_PEERS_MAX * sizeof(eg_mcast_peer_t));
    if (d->peers == NULL) {
        return EG_ERROR;
    }

    /* never grown: an answer is at most every peer remembered */
    if (eg_array_init(&d->found, cycle->pool, EG_MCAST_PEERS_MAX,
                      sizeof(eg_swim_addr_t))
        != EG_OK)
    {
        return EG_ERROR;
    }

    d->method = m;
    d->conf = m->conf;
    d->log = eg_discovery_log(m);

    name = eg_discovery_cluster_name(m);
    d->cluster = eg_swim_cluster_hash(name->data, name->len);

    d->announce.handler = eg_discovery_mcast_announce;
    d->announce.data = d;
    d->announce.log = d->log;
    d->announce.cancelable = 1;

    d->answer.handler = eg_discovery_mcast_answer;
    d->answer.data = d;
    d->answer.log = d->log;
    d->answer.cancelable = 1;

    m->data = d;

    /*
     * A group that cannot be joined now (an interface not up yet, no
     * multicast route) is not the end: each lookup tries again, and
     * answers with the error until it works.
     */

    if (eg_discovery_mcast_open(d) == EG_OK) {
        eg_log_error(EG_LOG_NOTICE, d->log, 0,
                     "multicast discovery on " EG_STR_FMT "%s%s, every "
                     "%lu ms%s", EG_STR_ARG(d->conf->group_text),
                     d->conf->interface.data ? " on " : "",
                     d->conf->interface.data
                     ? (char *) d->conf->interface.data : "",
                     (unsigned long) d->conf->interval,
                     eg_discovery_keyring(m) ? ", sealed with the keyring"
                                             : "");
    }

    return EG_OK;
}


static eg_int_t
eg_discovery_mcast_lookup(eg_discovery_method_t *m)
{
    eg_discovery_mcast_t  *d = m->data;

    d->pending = 1;

    if (d->connection == NULL) {
        (void) eg_discovery_mcast_open(d);
    }

    if (d->connection == NULL || eg_discovery_mcast_live(d)) {
        /* the answer comes from the loop, never from inside lookup() */
        eg_post_event(&d->answer, &eg_posted_events);
        return EG_OK;
    }

    /* nobody yet: everyone announces within an interval */
    eg_event_add_timer(&d->answer, d->conf->interval);

    return EG_OK;
}


static void
eg_discovery_mcast_cancel(eg_discovery_method_t *m)
{
    eg_discovery_mcast_t  *d = m->data;

    if (d == NULL) {
        return;
    }

    d->pending = 0;

    if (d->answer.timer_set) {
        eg_event_del_timer(&d->answer);
    }

    if (d->answer.posted) {
        eg_delete_posted_event(&d->answer);
    }
}


static void
eg_discovery_mcast_exit(eg_discovery_method_t *m)
{
    eg_discovery_mcast_t  *d = m->data;

    if (d == NULL) {
        return;
    }

    eg_discovery_mcast_cancel(m);
    eg_discovery_mcast_close(d);

    m->data = NULL;
}


/* the socket */

static eg_int_t
eg_discovery_mcast_open(eg_discovery_mcast_t *d)
{
    int                         s, on;
    unsigned                    ifindex;
    const char                 *what;
    eg_connection_t            *c;
    eg_discovery_mcast_conf_t  *mcf;

    mcf = d->conf;

    d->to = mcf->group;
    d->to_len = mcf->socklen;

    ifindex = 0;

    if (mcf->interface.data) {
        ifindex = if_nametoindex((char *) mcf->interface.data);

        if (ifindex == 0) {
            eg_discovery_mcast_fail(d, "if_nametoindex()", eg_errno);
            return EG_ERROR;
        }

        if (eg_discovery_mcast_link_scope(&d->to)) {
            d->to.sockaddr_in6.sin6_scope_id = ifindex;
        }
    }

    s = socket(d->to.sockaddr.sa_family,
               SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);

    if (s == -1) {
        eg_discovery_mcast_fail(d, "socket()", eg_socket_errno);
        return EG_ERROR;
    }

    on = 1;

    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(int)) == -1) {
        what = "setsockopt(SO_REUSEADDR)";
        goto failed;
    }

    if (d->to.sockaddr.sa_family == AF_INET6
        && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(int)) == -1)
    {
        what = "setsockopt(IPV6_V6ONLY)";
        goto failed;
    }

    /* bound to the group: unicast to the port is someone else's */

    if (bind(s, &d->to.sockaddr, d->to_len) == -1) {
        what = "bind()";
        goto failed;
    }

    if (eg_discovery_mcast_join(d, s, ifindex, &what) != EG_OK) {
        goto failed;
    }

    c = eg_get_connection(s, d->log);
    if (c == NULL) {
        (void) close(s);
        eg_discovery_mcast_fail(d, "eg_get_connection()", 0);
        return EG_ERROR;
    }

    c->type = SOCK_DGRAM;
    c->data = d;
    c->read->handler = eg_discovery_mcast_read;
    c->read->log = d->log;
    c->write->log = d->log;

    if (eg_add_event(c->read, EG_READ_EVENT, 0) == EG_ERROR) {
        eg_close_connection(c);
        eg_discovery_mcast_fail(d, "adding the read event", 0);
        return EG_ERROR;
    }

    d->connection = c;
    d->error[0] = '\0';

    /* we are new: say so now, and hear the others answer early */
    eg_event_add_timer(&d->announce, 1);

    return EG_OK;

failed:

    eg_discovery_mcast_fail(d, what, eg_socket_errno);
    (void) close(s);

    return EG_ERROR;
}


/* the group's membership and the sending options, by family */
static eg_int_t
eg_discovery_mcast_join(eg_discovery_mcast_t *d, int s, unsigned ifindex,
    const char **what)
{
    int                         hops, off;
    u_char                      ttl, loop;
    unsigned                    loop6;
    struct ip_mreq              mreq;
    struct in_addr              ifaddr;
    struct ipv6_mreq            mreq6;
    eg_discovery_mcast_conf_t  *mcf;

    mcf = d->conf;
    off = 0;

    if (d->to.sockaddr.sa_family == AF_INET6) {
        mreq6.ipv6mr_multiaddr = d->to.sockaddr_in6.sin6_addr;
        mreq6.ipv6mr_interface = ifindex;

        if (setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq6,
                       sizeof(mreq6))
            == -1)
        {
            *what = "setsockopt(IPV6_JOIN_GROUP)";
            return EG_ERROR;
        }

        if (ifindex
            && setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex,
                          sizeof(ifindex))
               == -1)
        {
            *what = "setsockopt(IPV6_MULTICAST_IF)";
            return EG_ERROR;
        }

        hops = (int) mcf->ttl;

        if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
                       sizeof(int))
            == -1)
        {
            *what = "setsockopt(IPV6_MULTICAST_HOPS)";
            return EG_ERROR;
        }

        loop6 = 1;

        if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop6,
                       sizeof(loop6))
            == -1)
        {
            *what = "setsockopt(IPV6_MULTICAST_LOOP)";
            return EG_ERROR;
        }

#ifdef IPV6_MULTICAST_ALL
        /* only our group, whatever other sockets of the host joined */
        (void) setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &off,
                          sizeof(int));
#endif

        eg_unused(off);

        return EG_OK;
    }

    /* IPv4 names an interface by one of its addresses, on every system */

    ifaddr.s_addr = htonl(INADDR_ANY);

    if (mcf->interface.data
        && eg_discovery_mcast_if_addr(&mcf->interface, &ifaddr) != EG_OK)
    {
        *what = "finding the interface's IPv4 address";
        errno = EADDRNOTAVAIL;
        return EG_ERROR;
    }

    mreq.imr_multiaddr = d->to.sockaddr_in.sin_addr;
    mreq.imr_interface = ifaddr;

    if (setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq))
        == -1)
    {
        *what = "setsockopt(IP_ADD_MEMBERSHIP)";
        return EG_ERROR;
    }

    if (mcf->interface.data
        && setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr,
                      sizeof(ifaddr))
           == -1)
    {
        *what = "setsockopt(IP_MULTICAST_IF)";
        return EG_ERROR;
    }

    /* one byte: what every system takes */

    ttl = (u_char) mcf->ttl;

    if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) == -1)
    {
        *what = "setsockopt(IP_MULTICAST_TTL)";
        return EG_ERROR;
    }

    loop = 1;

    if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop))
        == -1)
    {
        *what = "setsockopt(IP_MULTICAST_LOOP)";
        return EG_ERROR;
    }

#ifdef IP_MULTICAST_ALL
    (void) setsockopt(s, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof(int));
#endif

    eg_unused(off);

    return EG_OK;
}


/* the first IPv4 address of an interface */
static eg_int_t
eg_discovery_mcast_if_addr(eg_str_t *name, struct in_addr *in)
{
    eg_int_t         rc;
    struct ifaddrs  *ifs, *ifa;

    if (getifaddrs(&ifs) == -1) {
        return EG_ERROR;
    }

    rc = EG_ERROR;

    for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr != NULL && ifa->ifa_addr->sa_family == AF_INET
            && eg_strcmp(ifa->ifa_name, name->data) == 0)
        {
            *in = ((struct sockaddr_in *) ifa->ifa_addr)->sin_addr;
            rc = EG_OK;
            break;
        }
    }

    freeifaddrs(ifs);

    return rc;
}


/* the error a lookup answers with until the socket opens, and the log */
static void
eg_discovery_mcast_fail(eg_discovery_mcast_t *d, const char *what,
    eg_err_t err)
{
    u_char  *p, *last;

    last = d->error + sizeof(d->error);

    p = eg_slprintf(d->error, last, "%s for the group " EG_STR_FMT "%s%s "
                    "failed", what, EG_STR_ARG(d->conf->group_text),
                    d->conf->interface.data ? " on " : "",
                    d->conf->interface.data
                    ? (char *) d->conf->interface.data : "");

    if (err) {
        (void) eg_log_errno(p, last, err);
    }

    eg_log_error(EG_LOG_ERR, d->log, 0, "multicast discovery: %s", d->error);
}


static void
eg_discovery_mcast_close(eg_discovery_mcast_t *d)
{
    if (d->announce.timer_set) {
        eg_event_del_timer(&d->announce);
    }

    if (d->connection) {
        eg_close_connection(d->connection);
        d->connection = NULL;
    }
}


/* announcing */

static void
eg_discovery_mcast_announce(eg_event_t *ev)
{
    u_char                  buf[EG_MCAST_MAX];
    u_char                  nonce[EG_SWIM_NONCE_LEN];
    size_t                  len;
    ssize_t                 n;
    eg_str_t               *id;
    eg_msec_t               interval, jitter;
    eg_time_t              *tp;
    eg_swim_keyring_t      *kr;
    eg_mcast_announce_t     a;
    eg_discovery_mcast_t   *d;

    d = ev->data;
    interval = d->conf->interval;

    /* the next one first: a failure here must not stop the beat */

    jitter = eg_discovery_mcast_random(interval / 5 + 1);
    eg_event_add_timer(ev, interval - interval / 10 + jitter);

    if (d->connection == NULL) {
        return;
    }

    id = eg_discovery_node_id(d->method);
    kr = eg_discovery_keyring(d->method);
    tp = eg_timeofday();

    eg_memzero(&a, sizeof(eg_mcast_announce_t));

    a.interval = interval;
    a.time = (uint64_t) tp->sec * 1000 + tp->msec;
    a.addr = *eg_discovery_self_addr(d->method);
    a.id_len = (uint8_t) eg_min(id->len, EG_SWIM_ID_MAX);
    eg_memcpy(a.id, id->data, a.id_len);

    if (kr && kr->nkeys && eg_random_bytes(nonce, sizeof(nonce)) != EG_OK) {
        eg_log_error(EG_LOG_ALERT, d->log, eg_errno,
                     "multicast discovery: no random bytes for a nonce");
        return;
    }

    len = eg_mcast_encode(&a, d->cluster, kr, nonce, buf);

    if (len == 0) {
        eg_log_error(EG_LOG_ALERT, d->log, 0,
                     "multicast discovery: cannot encode the announcement");
        return;
    }

    n = sendto(d->connection->fd, buf, len, MSG_NOSIGNAL, &d->to.sockaddr,
               d->to_len);

    if (n == -1) {
        /* once, not every interval: the state matters, not each beat */
        if (!d->send_failed && eg_socket_errno != EG_EAGAIN) {
            eg_log_error(EG_LOG_ERR, d->log, eg_socket_errno,
                         "multicast discovery: sendto() " EG_STR_FMT
                         " failed", EG_STR_ARG(d->conf->group_text));
            d->send_failed = 1;
        }

        return;
    }

    if (d->send_failed) {
        eg_log_error(EG_LOG_NOTICE, d->log, 0, "multicast discovery: "
                     "announcements to " EG_STR_FMT " go out again",
                     EG_STR_ARG(d->conf->group_text));
        d->send_failed = 0;
    }

    eg_metric_inc(eg_mcast_metrics.sent, 1);
}


/* listening */

static void
eg_discovery_mcast_read(eg_event_t *rev)
{
    u_char                  buf[EG_MCAST_MAX + 1];
    ssize_t                 n;
    eg_uint_t               i, reason;
    socklen_t               from_len;
    eg_sockaddr_t           from;
    eg_connection_t        *c;
    eg_mcast_announce_t     a;
    eg_discovery_mcast_t   *d;

    c = rev->data;
    d = c->data;

    for (i = 0; i < EG_MCAST_RECV_BATCH; i++) {
        from_len = sizeof(eg_sockaddr_t);

        n = eg_udp_recvfrom(c, buf, sizeof(buf), &from.sockaddr, &from_len);

        if (n == EG_AGAIN || n == EG_ERROR) {
            break;
        }

        /* longer than buf: MSG_TRUNC told the real size, and it is wrong */

        if (eg_mcast_decode(buf, (size_t) n, d->cluster,
                            eg_discovery_keyring(d->method), &a, &reason)
            != EG_OK)
        {
            eg_discovery_mcast_drop(d, reason, &from, from_len);
            continue;
        }

        eg_discovery_mcast_heard(d, &a);
    }
}


static void
eg_discovery_mcast_heard(eg_discovery_mcast_t *d, eg_mcast_announce_t *a)
{
    u_char             text[EG_SOCKADDR_STRLEN + 1];
    size_t             len;
    eg_str_t          *self;
    eg_uint_t          i, fresh;
    eg_msec_t          delay, interval;
    eg_mcast_peer_t   *p, *oldest;

    self = eg_discovery_node_id(d->method);

    if (a->id_len == self->len && eg_memcmp(a->id, self->data, self->len) == 0)
    {
        /* our own, back through the loopback */
        return;
    }

    (void) eg_discovery_mcast_live(d);

    p = NULL;
    oldest = NULL;

    for (i = 0; i < d->npeers; i++) {
        if (d->peers[i].id_len == a->id_len
            && eg_memcmp(d->peers[i].id, a->id, a->id_len) == 0)
        {
            p = &d->peers[i];
            break;
        }

        if (oldest == NULL || d->peers[i].expires < oldest->expires) {
            oldest = &d->peers[i];
        }
    }

    fresh = (p == NULL);

    if (p && a->time <= p->time) {
        /* a replay, or a datagram overtaken by a newer one */
        eg_discovery_mcast_drop(d, EG_MCAST_DROP_STALE, NULL, 0);
        return;
    }

    if (p == NULL) {
        /* the room of the one heard least recently, when full */
        p = (d->npeers < EG_MCAST_PEERS_MAX) ? &d->peers[d->npeers++]
                                             : oldest;
    }

    len = eg_swim_addr_text(&a->addr, text, sizeof(text));

    if (fresh || !eg_swim_addr_eq(&p->addr, &a->addr)) {
        eg_log_error(EG_LOG_INFO, d->log, 0, "multicast discovery: node "
                     "\"%.*s\" announces %.*s", (int) a->id_len, a->id,
                     (int) len, text);
    }

    eg_memcpy(p->id, a->id, a->id_len);
    p->id_len = a->id_len;
    p->addr = a->addr;
    p->time = a->time;

    /* three of its own intervals: it may announce slower than we do */
    p->expires = eg_current_msec + 3 * a->interval;

    eg_metric_inc(eg_mcast_metrics.received, 1);

    if (!fresh) {
        return;
    }

    if (d->pending) {
        if (d->answer.timer_set) {
            eg_event_del_timer(&d->answer);
        }

        eg_post_event(&d->answer, &eg_posted_events);
    }

    /*
     * A newcomer waits for the others' next announcements: answer it
     * early, soon but not all at once, and once an interval at most.
     */

    interval = d->conf->interval;

    if (d->early && eg_current_msec - d->early < interval) {
        return;
    }

    delay = 1 + eg_discovery_mcast_random(eg_min(interval / 10, 250));

    if (d->announce.timer_set
        && (eg_msec_int_t) (d->announce.timer.key
                            - (eg_current_msec + delay)) <= 0)
    {
        return;
    }

    d->early = eg_current_msec;

    if (d->announce.timer_set) {
        eg_event_del_timer(&d->announce);
    }

    eg_event_add_timer(&d->announce, delay);
}


/* counted always, logged now and then: a foreign sender may be chatty */
static void
eg_discovery_mcast_drop(eg_discovery_mcast_t *d, eg_uint_t reason,
    eg_sockaddr_t *from, socklen_t from_len)
{
    u_char  text[EG_SOCKADDR_STRLEN + 1];
    size_t  len;

    d->dropped[reason]++;
    eg_metric_inc(eg_mcast_metrics.dropped[reason], 1);

    if (d->logged[reason]
        && eg_current_msec - d->logged[reason] < EG_MCAST_LOG_EVERY)
    {
        return;
    }

    d->logged[reason] = eg_current_msec;

    len = from ? eg_sock_ntop(&from->sockaddr, from_len, text,
                              sizeof(text), 1)
               : 0;

    eg_log_error(EG_LOG_INFO, d->log, 0, "multicast discovery: dropped an "
                 "announcement%s%.*s %s (%s, %llu so far)",
                 len ? " from " : "", (int) len, text,
                 eg_mcast_drop_texts[reason], eg_mcast_drop_reasons[reason],
                 (unsigned long long) d->dropped[reason]);
}


/* a lookup's answer: the peers heard lately, possibly none */
static void
eg_discovery_mcast_answer(eg_event_t *ev)
{
    eg_uint_t               i, n;
    eg_swim_addr_t         *a;
    eg_discovery_mcast_t   *d;

    d = ev->data;

    if (!d->pending) {
        return;
    }

    d->pending = 0;

    if (ev->timer_set) {
        eg_event_del_timer(ev);
    }

    if (d->connection == NULL) {
        eg_discovery_done(d->method, EG_ERROR, NULL, 0, (char *) d->error);
        return;
    }

    d->found.nelts = 0;
    n = eg_discovery_mcast_live(d);

    for (i = 0; i < n; i++) {
        a = eg_array_push(&d->found);

        if (a == NULL) {
            break;
        }

        *a = d->peers[i].addr;
    }

    eg_discovery_done(d->method, EG_OK, &d->found, 0, NULL);
}


/* forgets who was not heard for too long; the number of those left */
static eg_uint_t
eg_discovery_mcast_live(eg_discovery_mcast_t *d)
{
    u_char            text[EG_SOCKADDR_STRLEN + 1];
    size_t            len;
    eg_uint_t         i;
    eg_mcast_peer_t  *p;

    for (i = 0; i < d->npeers; /* void */) {
        p = &d->peers[i];

        if ((eg_msec_int_t) (p->expires - eg_current_msec) > 0) {
            i++;
            continue;
        }

        len = eg_swim_addr_text(&p->addr, text, sizeof(text));

        eg_log_error(EG_LOG_INFO, d->log, 0, "multicast discovery: node "
                     "\"%.*s\" (%.*s) is not heard any more",
                     (int) p->id_len, p->id, (int) len, text);

        *p = d->peers[--d->npeers];
    }

    return d->npeers;
}


/* a number below n, for jitter; 0 when n is 0 */
static eg_uint_t
eg_discovery_mcast_random(eg_uint_t n)
{
    uint32_t  r;

    if (n == 0 || eg_random_bytes((u_char *) &r, sizeof(r)) != EG_OK) {
        return 0;
    }

    return r % n;
}
