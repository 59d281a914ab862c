/*
 * Discovery: how a node finds its first peers.  The chain (this header,
 * eg_discovery_module.c) runs in the cluster process: it asks each method
 * in the configured order (default: static, dns, kubernetes, aws,
 * multicast) for peers, and the first that finds at least one wins; the
 * gossip module then joins them, one after another until one answers.
 * The chain runs again every "discovery_refresh" (or a method's own
 * refresh), and a peer found that is not a member is joined too, so that
 * clusters formed apart merge.
 *
 * A method is a cluster module ("cluster {}" directives of its own) that,
 * when configured, registers an eg_discovery_method_t from its init_conf
 * with eg_discovery_add_method().  In the cluster process the chain calls
 * its init() once, then lookup() for each round; the method answers,
 * always later from an event handler and never from inside lookup(), with
 * eg_discovery_done(): the peers' gossip addresses, or an error text.
 * Everything is non-blocking, in the cluster process's event loop.
 *
 *     eg_discovery_module.c            the chain, health, metrics
 *     eg_discovery_static_module.c     "seeds"
 *     eg_discovery_dns_module.c        "dns_srv" (c-ares)
 *     eg_discovery_k8s_module.c        "kubernetes"
 *     eg_discovery_aws_module.c        "aws"
 *     eg_discovery_mcast_module.c      "multicast"
 *     eg_resolver.c                    c-ares in the event loop
 *     eg_resolver_srv.c                SRV answers, RFC 2782 order
 *     eg_discovery_http.c              an HTTP/1.1 (TLS) client
 *     eg_discovery_http_parse.c        its URL and response parsers
 */

#ifndef EG_DISCOVERY_H_INCLUDED
#define EG_DISCOVERY_H_INCLUDED


#include <eg_swim.h>
#include <eg_cluster.h>


typedef struct eg_discovery_s         eg_discovery_t;
typedef struct eg_discovery_method_s  eg_discovery_method_t;
typedef struct eg_resolver_s          eg_resolver_t;


struct eg_discovery_method_s {
    const char            *name;        /* "static", "dns", ... */
    void                  *conf;        /* the method module's conf */
    eg_msec_t              refresh;     /* its own period; 0: the chain's */

    /*
     * In the cluster process: once, before the first lookup (may be
     * NULL); a lookup, answered by eg_discovery_done(); stopping one
     * under way (a reload, an exit: no answer then); and the end.
     */
    eg_int_t             (*init)(eg_discovery_method_t *m);
    eg_int_t             (*lookup)(eg_discovery_method_t *m);
    void                 (*cancel)(eg_discovery_method_t *m);
    void                 (*exit)(eg_discovery_method_t *m);

    void                  *data;        /* the method's own, at run time */

    /* the chain's: set by it, read by the health endpoint */
    eg_discovery_t        *chain;
    eg_uint_t              index;       /* in the chain's order */
    eg_uint_t              running:1;
};


/*
 * In a method module's init_conf (in the master, when the configuration
 * is read): puts the method in the chain.  The method and its conf must
 * live as long as the cycle (allocate them from cycle->pool).
 */
eg_int_t eg_discovery_add_method(eg_cycle_t *cycle,
    eg_discovery_method_t *m);

/*
 * A method's answer to lookup(): rc EG_OK with peers (an array of
 * eg_swim_addr_t, the gossip addresses, possibly empty), or EG_ERROR with
 * a short text saying what failed ("connect() to 10.0.0.1:443 failed
 * (111: Connection refused)").  peers may be in any pool; the chain
 * copies what it keeps.  ttl, when not 0, is how long the answer holds
 * (DNS): the next lookup comes no later than that.
 */
void eg_discovery_done(eg_discovery_method_t *m, eg_int_t rc,
    eg_array_t *peers, eg_msec_t ttl, const char *error);

/* for methods, at run time */
eg_log_t *eg_discovery_log(eg_discovery_method_t *m);
eg_cycle_t *eg_discovery_cycle(eg_discovery_method_t *m);
eg_resolver_t *eg_discovery_resolver(eg_discovery_method_t *m);
/* the keyring of the gossip (multicast authenticates with it), or NULL */
eg_swim_keyring_t *eg_discovery_keyring(eg_discovery_method_t *m);
/* this node's advertised gossip address and id */
eg_swim_addr_t *eg_discovery_self_addr(eg_discovery_method_t *m);
eg_str_t *eg_discovery_node_id(eg_discovery_method_t *m);
/* the cluster name (multicast announcements carry its hash) */
eg_str_t *eg_discovery_cluster_name(eg_discovery_method_t *m);


/*
 * For the gossip module, in the cluster process.  found() gets each
 * round's peers (the first method's that found any; an empty array when
 * none did), this node's own address left out; the array is the chain's
 * until the next round: copy what must stay.
 */
typedef void (*eg_discovery_found_pt)(void *data, eg_array_t *peers);

eg_int_t eg_discovery_start(eg_cycle_t *cycle, eg_log_t *log,
    eg_swim_addr_t *self, eg_str_t *node_id, eg_str_t *cluster_name,
    eg_swim_keyring_t *keyring, eg_discovery_found_pt found, void *data);
/* a round now, unless one is under way (a join retry) */
void eg_discovery_now(void);
/* how many of the peers found last are live members (for the health) */
void eg_discovery_reachable(eg_uint_t reachable);
void eg_discovery_stop(void);
/* whether any method is configured */
eg_uint_t eg_discovery_configured(eg_cycle_t *cycle);
/* bootstrap_expect: how many nodes a new cluster waits for (0: off) */
eg_int_t eg_discovery_expect(eg_cycle_t *cycle);


extern eg_module_t  eg_discovery_module;


#endif /* EG_DISCOVERY_H_INCLUDED */
