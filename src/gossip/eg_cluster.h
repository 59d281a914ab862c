/*
 * Cluster mode: the "cluster {}" block and the modules that live in it
 * (gossip now; the discovery methods later).  Without the block (and
 * without ENGRAM_CLUSTER_MODE=distributed) the node is a single-node
 * cluster: no gossip socket, no cluster process.
 */

#ifndef EG_CLUSTER_H_INCLUDED
#define EG_CLUSTER_H_INCLUDED


/* the context of directives inside "cluster {}" */
#define EG_CLUSTER_CONF      0x02000000


typedef struct {
    eg_str_t             name;
    void              *(*create_conf)(eg_cycle_t *cycle);
    char              *(*init_conf)(eg_cycle_t *cycle, void *conf);
} eg_cluster_module_t;


/* the conf of a cluster module, or NULL in single-node mode */
#define eg_cluster_get_conf(conf_ctx, module)                                \
    ((conf_ctx)[eg_cluster_module.index]                                     \
     ? ((void **) (conf_ctx)[eg_cluster_module.index])[module.ctx_index]     \
     : NULL)


eg_uint_t eg_cluster_enabled(eg_cycle_t *cycle);

extern eg_module_t  eg_cluster_module;

#endif /* EG_CLUSTER_H_INCLUDED */
