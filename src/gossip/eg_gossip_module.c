/*
 * The gossip module: the "cluster {}" directives, the member table zone,
 * the metrics, and the cluster process.
 *
 * The cluster process is a singleton: the master starts it beside the
 * workers, restarts it if it dies, and on reload lets the old one hand
 * over (SIGWINCH: stop without leaving) before the new one starts.  An
 * exclusive lock on a file beside the pid file makes "never two at once"
 * hold across a binary upgrade too, where two masters run.  A new cluster
 * process resumes from the member table in shared memory: the same
 * incarnation and the same members, so peers never notice it restarted.
 *
 * QUIT makes the node leave: "left" is gossiped until it has been told
 * as often as any news is (or leave_timeout passes), then the process
 * exits.  TERM exits at once; peers will find the node dead.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_gossip.h>
#include <eg_discovery.h>
#include <sys/file.h>
#include <ifaddrs.h>
#include <net/if.h>


/* a search of the members for an address */
typedef struct {
    eg_swim_addr_t      *addr;
    eg_uint_t            found;
} eg_gossip_search_t;


static void *eg_gossip_create_conf(eg_cycle_t *cycle);
static char *eg_gossip_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_gossip_tags(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static char *eg_gossip_node_id(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_gossip_set_period(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_gossip_cluster_name(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_gossip_set_listen(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_gossip_set_advertise(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_gossip_keyring(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_gossip_probe(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static char *eg_gossip_ip_only(eg_conf_t *cf, eg_command_t *cmd,
    eg_url_t *u);
static void eg_gossip_where_set(eg_conf_t *cf, eg_gossip_where_t *w);
static eg_conf_t *eg_gossip_at(eg_conf_t *cf, eg_conf_file_t *file,
    eg_gossip_where_t *w);
static eg_int_t eg_gossip_advertise_addr(eg_conf_t *cf,
    eg_gossip_conf_t *gcf);
static eg_int_t eg_gossip_pick_addr(eg_conf_t *cf, eg_gossip_conf_t *gcf,
    eg_sockaddr_t *sa);
static eg_int_t eg_gossip_init_module(eg_cycle_t *cycle);
static eg_int_t eg_gossip_lock_path(eg_cycle_t *cycle, eg_str_t *name);
static void eg_gossip_process(eg_cycle_t *cycle, void *data);
static void eg_gossip_try_lock(eg_event_t *ev);
static eg_int_t eg_gossip_start(eg_gossip_t *g);
static void eg_gossip_loop(eg_gossip_t *g);
static void eg_gossip_publish(eg_event_t *ev);
static void eg_gossip_join_next(eg_event_t *ev);
static void eg_gossip_join_retry(eg_event_t *ev);
static void eg_gossip_discovered(void *data, eg_array_t *peers);
static eg_uint_t eg_gossip_known(eg_gossip_t *g, eg_swim_addr_t *addr);
static eg_uint_t eg_gossip_company(eg_gossip_t *g);
static void eg_gossip_known_member(void *data, eg_swim_member_t *m);
static eg_msec_t eg_gossip_env_now(void *data);
static void eg_gossip_env_random(void *data, u_char *buf, size_t len);
static void eg_gossip_env_event(void *data, eg_swim_member_t *m,
    eg_uint_t event);
static void eg_gossip_env_join(void *data, eg_swim_addr_t *addr,
    eg_int_t rc, u_char *id, size_t id_len);
static eg_uint_t eg_gossip_form(eg_gossip_t *g);
static eg_int_t eg_gossip_id_cmp(u_char *a, size_t alen, u_char *b,
    size_t blen);
static EG_NORETURN void eg_gossip_exit(eg_gossip_t *g, eg_uint_t save);


static eg_conf_addr_t  eg_gossip_listen_post = {
    EG_GOSSIP_DEFAULT_PORT, EG_URL_PORT_OPTIONAL|EG_URL_HOST_OPTIONAL
};

static eg_conf_addr_t  eg_gossip_advertise_post = {
    EG_GOSSIP_DEFAULT_PORT, EG_URL_PORT_OPTIONAL
};

static eg_conf_num_bounds_t  eg_gossip_small_bounds = { 1, 64 };
static eg_conf_num_bounds_t  eg_gossip_indirect_bounds = {
    1, EG_SWIM_INDIRECT_MAX
};
static eg_conf_num_bounds_t  eg_gossip_mult_bounds = { 1, 100 };
static eg_conf_num_bounds_t  eg_gossip_zone_bounds = {
    EG_GOSSIP_ZONE_MIN, 1024 * 1024 * 1024
};
static eg_conf_num_bounds_t  eg_gossip_retry_bounds = { 0, 1000000 };


#define eg_gossip_swim_offset(field)                                         \
    offsetof(eg_gossip_conf_t, swim) + offsetof(eg_swim_conf_t, field)


static eg_command_t  eg_gossip_commands[] = {

    { eg_string("node_id"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_node_id,
      0,
      offsetof(eg_gossip_conf_t, node_id),
      NULL },

    { eg_string("listen"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_listen,
      0,
      offsetof(eg_gossip_conf_t, listen),
      &eg_gossip_listen_post },

    { eg_string("advertise"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_advertise,
      0,
      offsetof(eg_gossip_conf_t, advertise),
      &eg_gossip_advertise_post },

    { eg_string("tags"),
      EG_CLUSTER_CONF|EG_CONF_1MORE,
      eg_gossip_tags,
      0,
      0,
      NULL },

    { eg_string("keyring"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_keyring,
      0,
      offsetof(eg_gossip_conf_t, keyring_path),
      NULL },

    { eg_string("cluster_name"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_cluster_name,
      0,
      offsetof(eg_gossip_conf_t, cluster_name),
      NULL },

    { eg_string("probe_interval"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_probe,
      0,
      eg_gossip_swim_offset(probe_interval),
      NULL },

    { eg_string("probe_timeout"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_probe,
      0,
      eg_gossip_swim_offset(probe_timeout),
      NULL },

    { eg_string("indirect_checks"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      eg_gossip_swim_offset(indirect_checks),
      &eg_gossip_indirect_bounds },

    { eg_string("suspicion_mult"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      eg_gossip_swim_offset(suspicion_mult),
      &eg_gossip_mult_bounds },

    { eg_string("suspicion_max_mult"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      eg_gossip_swim_offset(suspicion_max_mult),
      &eg_gossip_mult_bounds },

    { eg_string("retransmit_mult"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      eg_gossip_swim_offset(retransmit_mult),
      &eg_gossip_mult_bounds },

    { eg_string("gossip_interval"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_period,
      0,
      eg_gossip_swim_offset(gossip_interval),
      NULL },

    { eg_string("gossip_nodes"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      eg_gossip_swim_offset(gossip_nodes),
      &eg_gossip_small_bounds },

    { eg_string("gossip_to_dead"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_msec_slot,
      0,
      eg_gossip_swim_offset(gossip_to_dead),
      NULL },

    { eg_string("push_pull_interval"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_period,
      0,
      eg_gossip_swim_offset(push_pull_interval),
      NULL },

    { eg_string("reconnect_interval"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_period,
      0,
      eg_gossip_swim_offset(reconnect_interval),
      NULL },

    { eg_string("reap_timeout"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_period,
      0,
      eg_gossip_swim_offset(reap_timeout),
      NULL },

    { eg_string("lifeguard"),
      EG_CLUSTER_CONF|EG_CONF_FLAG,
      eg_conf_set_flag_slot,
      0,
      eg_gossip_swim_offset(lifeguard),
      NULL },

    { eg_string("on_member_change"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_str_slot,
      0,
      offsetof(eg_gossip_conf_t, hook),
      NULL },

    { eg_string("hook_timeout"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_period,
      0,
      offsetof(eg_gossip_conf_t, hook_timeout),
      NULL },

    { eg_string("hook_concurrency"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_gossip_conf_t, hook_concurrency),
      &eg_gossip_small_bounds },

    { eg_string("snapshot_path"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_str_slot,
      0,
      offsetof(eg_gossip_conf_t, snapshot_path),
      NULL },

    { eg_string("members_zone_size"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_size_slot,
      0,
      offsetof(eg_gossip_conf_t, zone_size),
      &eg_gossip_zone_bounds },

    { eg_string("join_retry_interval"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_period,
      0,
      offsetof(eg_gossip_conf_t, join_retry_interval),
      NULL },

    { eg_string("join_retry_max"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_gossip_conf_t, join_retry_max),
      &eg_gossip_retry_bounds },

    { eg_string("leave_timeout"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_gossip_set_period,
      0,
      offsetof(eg_gossip_conf_t, leave_timeout),
      NULL },

      eg_null_command
};


static eg_conf_env_t  eg_gossip_env[] = {
    { "ENGRAM_CLUSTER_NODE_ID", eg_string("node_id"), 0 },
    { "ENGRAM_CLUSTER_LISTEN_ADDR", eg_string("listen"), 0 },
    { "ENGRAM_CLUSTER_ADVERTISE_ADDR", eg_string("advertise"), 0 },
    { "ENGRAM_CLUSTER_TAGS", eg_string("tags"), EG_ENV_SPLIT_COMMA },
    { "ENGRAM_CLUSTER_KEYRING", eg_string("keyring"), 0 },
    { "ENGRAM_CLUSTER_NAME", eg_string("cluster_name"), 0 },
    { "ENGRAM_CLUSTER_SNAPSHOT_PATH", eg_string("snapshot_path"), 0 },
    { "ENGRAM_CLUSTER_HOOK", eg_string("on_member_change"), 0 },
    { NULL, eg_null_string, 0 }
};


static eg_cluster_module_t  eg_gossip_module_ctx = {
    eg_string("gossip"),
    eg_gossip_create_conf,
    eg_gossip_init_conf
};


eg_module_t  eg_gossip_module = {
    EG_MODULE_V1,
    "eg_gossip_module",
    EG_CLUSTER_MODULE,                  /* module type */
    &eg_gossip_module_ctx,              /* module context */
    eg_gossip_commands,                 /* module directives */
    eg_gossip_env,                      /* environment overrides */
    NULL,                               /* init master */
    eg_gossip_init_module,              /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


/* process-wide: the cluster process has one, and signals must find it */
static eg_gossip_t  eg_gossip;

static struct {
    eg_metric_family_t  *members;
    eg_metric_t         *probes;
    eg_metric_t         *probe_failures;
    eg_metric_t         *suspicions;
    eg_metric_t         *refutations;
    eg_metric_t         *local_health;
    eg_metric_t         *packets_in;
    eg_metric_t         *packets_out;
    eg_metric_t         *bytes_in;
    eg_metric_t         *bytes_out;
    eg_metric_t         *dropped[EG_SWIM_DROP_REASONS];
} eg_gossip_metrics;


static void *
eg_gossip_create_conf(eg_cycle_t *cycle)
{
    eg_gossip_conf_t  *gcf;

    gcf = eg_pcalloc(cycle->pool, sizeof(eg_gossip_conf_t));
    if (gcf == NULL) {
        return NULL;
    }

    gcf->tags = EG_CONF_UNSET_PTR;
    gcf->swim.probe_interval = EG_CONF_UNSET_MSEC;
    gcf->swim.probe_timeout = EG_CONF_UNSET_MSEC;
    gcf->swim.indirect_checks = EG_CONF_UNSET_UINT;
    gcf->swim.suspicion_mult = EG_CONF_UNSET_UINT;
    gcf->swim.suspicion_max_mult = EG_CONF_UNSET_UINT;
    gcf->swim.retransmit_mult = EG_CONF_UNSET_UINT;
    gcf->swim.gossip_interval = EG_CONF_UNSET_MSEC;
    gcf->swim.gossip_nodes = EG_CONF_UNSET_UINT;
    gcf->swim.gossip_to_dead = EG_CONF_UNSET_MSEC;
    gcf->swim.push_pull_interval = EG_CONF_UNSET_MSEC;
    gcf->swim.reconnect_interval = EG_CONF_UNSET_MSEC;
    gcf->swim.reap_timeout = EG_CONF_UNSET_MSEC;
    gcf->swim.lifeguard = EG_CONF_UNSET;
    gcf->hook_timeout = EG_CONF_UNSET_MSEC;
    gcf->hook_concurrency = EG_CONF_UNSET;
    gcf->zone_size = EG_CONF_UNSET_SIZE;
    gcf->join_retry_interval = EG_CONF_UNSET_MSEC;
    gcf->join_retry_max = EG_CONF_UNSET;
    gcf->leave_timeout = EG_CONF_UNSET_MSEC;

    return gcf;
}


/* ids show up in logs, hooks' environments and file names: keep them tame */
static eg_int_t
eg_gossip_valid_id(eg_str_t *id)
{
    u_char  *p;

    if (id->len == 0 || id->len > EG_SWIM_ID_MAX) {
        return EG_ERROR;
    }

    for (p = id->data; p < id->data + id->len; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\'
            || *p == '\'')
        {
            return EG_ERROR;
        }
    }

    return EG_OK;
}


static char *
eg_gossip_node_id(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char      *rv;
    eg_str_t  *value;

    rv = eg_conf_set_str_slot(cf, cmd, conf);

    if (rv != EG_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    if (eg_gossip_valid_id(&value[1]) != EG_OK) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid node id \"%s\": 1 to 64 printable "
                          "characters without spaces or quotes",
                          value[1].data);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* the name is in every stream and its hash in every datagram */
static char *
eg_gossip_cluster_name(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char      *rv;
    eg_str_t  *value;

    rv = eg_conf_set_str_slot(cf, cmd, conf);

    if (rv != EG_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid value \"\" in \"%s\" directive, it must "
                          "not be empty", cmd->name.data);
        return EG_CONF_ERROR;
    }

    if (value[1].len > EG_SWIM_NAME_MAX) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "the cluster name \"%s\" is longer than %d bytes",
                          value[1].data, EG_SWIM_NAME_MAX);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/*
 * A time that must not be zero: an interval of 0 would spin, a timeout
 * of 0 would give up before anything could happen.
 */
static char *
eg_gossip_set_period(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char      *rv;
    eg_str_t  *value;

    rv = eg_conf_set_msec_slot(cf, cmd, conf);

    if (rv != EG_CONF_OK) {
        return rv;
    }

    if (*(eg_msec_t *) ((char *) conf + cmd->offset) == 0) {
        value = cf->args->elts;

        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid value \"%s\" in \"%s\" directive, "
                          "it must be more than 0",
                          value[1].data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* the address of the gossip sockets */
static char *
eg_gossip_set_listen(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_gossip_conf_t  *gcf = conf;

    char  *rv;

    rv = eg_conf_set_addr_slot(cf, cmd, conf);

    if (rv != EG_CONF_OK) {
        return rv;
    }

    /* whether it is a wildcard is known once advertise is: remember */
    eg_gossip_where_set(cf, &gcf->listen_where);

    return eg_gossip_ip_only(cf, cmd, &gcf->listen);
}


/* the address told to peers: one they can reach, so no wildcard */
static char *
eg_gossip_set_advertise(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_gossip_conf_t  *gcf = conf;

    char  *rv;

    rv = eg_conf_set_addr_slot(cf, cmd, conf);

    if (rv != EG_CONF_OK) {
        return rv;
    }

    if (eg_gossip_ip_only(cf, cmd, &gcf->advertise) != EG_CONF_OK) {
        return EG_CONF_ERROR;
    }

    if (eg_inet_wildcard(&gcf->advertise.addr.sa.sockaddr)) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "wildcard address in \"" EG_STR_FMT "\" of the "
                          "\"%s\" directive, it must be the address peers "
                          "reach this node at",
                          EG_STR_ARG(gcf->advertise.url), cmd->name.data);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* gossip addresses are IP addresses: a name could change under a cluster */
static char *
eg_gossip_ip_only(eg_conf_t *cf, eg_command_t *cmd, eg_url_t *u)
{
    if (u->literal) {
        return EG_CONF_OK;
    }

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "host name in \"" EG_STR_FMT "\" of the \"%s\" "
                      "directive, it must be an IP address",
                      EG_STR_ARG(u->url), cmd->name.data);

    return EG_CONF_ERROR;
}


/* the file is read when the block ends: ENGRAM_CLUSTER_MODE=single skips it */
static char *
eg_gossip_keyring(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_gossip_conf_t  *gcf = conf;

    char  *rv;

    rv = eg_conf_set_str_slot(cf, cmd, conf);

    if (rv == EG_CONF_OK) {
        eg_gossip_where_set(cf, &gcf->keyring_where);
    }

    return rv;
}


/*
 * probe_interval and probe_timeout: that the timeout is the shorter is
 * known when the block ends; the later of the two is the one to blame.
 */
static char *
eg_gossip_probe(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_gossip_conf_t  *gcf = conf;

    char  *rv;

    rv = eg_gossip_set_period(cf, cmd, conf);

    if (rv == EG_CONF_OK) {
        eg_gossip_where_set(cf, &gcf->probe_where);
    }

    return rv;
}


static void
eg_gossip_where_set(eg_conf_t *cf, eg_gossip_where_t *w)
{
    w->env = cf->env;

    if (cf->conf_file) {
        w->file = cf->conf_file->name;
        w->line = cf->conf_file->line;
    }
}


/*
 * cf, pointed at where a directive was, for eg_conf_log_error(); a
 * directive left to its default was nowhere, and the error names no place
 */
static eg_conf_t *
eg_gossip_at(eg_conf_t *cf, eg_conf_file_t *file, eg_gossip_where_t *w)
{
    file->name = w->file;
    file->line = w->line;

    cf->env = w->env;
    cf->conf_file = (w->env == NULL && w->file.data) ? file : NULL;

    return cf;
}


/* tags role=db zone=edge-3;  encoded as the wire's (len, key, len, value) */
static char *
eg_gossip_tags(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_gossip_conf_t  *gcf = conf;

    u_char       *eq;
    size_t        total;
    eg_uint_t     i, j;
    eg_str_t     *value;
    eg_keyval_t  *kv, *all;

    eg_unused(cmd);

    if (gcf->tags != EG_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    gcf->tags = eg_array_create(cf->pool, 4, sizeof(eg_keyval_t));
    if (gcf->tags == NULL) {
        return EG_CONF_ERROR;
    }

    value = cf->args->elts;
    total = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        eq = eg_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL || eq == value[i].data) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid tag \"%s\", it must be KEY=VALUE",
                              value[i].data);
            return EG_CONF_ERROR;
        }

        kv = eg_array_push(gcf->tags);
        if (kv == NULL) {
            return EG_CONF_ERROR;
        }

        kv->key.data = value[i].data;
        kv->key.len = (size_t) (eq - value[i].data);
        kv->value.data = eq + 1;
        kv->value.len = value[i].len - kv->key.len - 1;

        if (kv->key.len > 255 || kv->value.len > 255) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "tag \"%s\" is too long: keys and values "
                              "have at most 255 bytes", value[i].data);
            return EG_CONF_ERROR;
        }

        /* as the wire has them: a length byte before the key and value */
        total += 2 + kv->key.len + kv->value.len;

        if (total > EG_SWIM_TAGS_MAX) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "the tags take more than %d bytes",
                              EG_SWIM_TAGS_MAX);
            return EG_CONF_ERROR;
        }

        all = gcf->tags->elts;

        for (j = 0; j + 1 < gcf->tags->nelts; j++) {
            if (eg_str_cmp(&all[j].key, &kv->key) == 0) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "duplicate tag \"" EG_STR_FMT "\"",
                                  EG_STR_ARG(kv->key));
                return EG_CONF_ERROR;
            }
        }
    }

    return EG_CONF_OK;
}


/*
 * The address peers reach us at: advertise, or listen if it is specific,
 * or for a listen on every IPv4 address, one of this host's addresses.
 */
static eg_int_t
eg_gossip_advertise_addr(eg_conf_t *cf, eg_gossip_conf_t *gcf)
{
    eg_url_t        *u;
    eg_sockaddr_t    sa;
    eg_conf_file_t   file;

    u = gcf->advertise.url.data ? &gcf->advertise : &gcf->listen;

    if (u == &gcf->advertise && u->no_port) {
        /* the port is that of the sockets, unless a NAT says otherwise */
        u->port = gcf->listen.port;
        eg_inet_set_port(&u->addr.sa.sockaddr, u->port);

        if (eg_addr_set_name(cf->pool, &u->addr) != EG_OK) {
            return EG_ERROR;
        }
    }

    sa = u->addr.sa;

    /* a wildcard advertise is refused where it is written */

    if (eg_inet_wildcard(&sa.sockaddr)) {

        if (sa.sockaddr.sa_family != AF_INET) {
            /* an IPv6 socket takes IPv6 only: no address is safe to pick */
            eg_conf_log_error(EG_LOG_EMERG,
                              eg_gossip_at(cf, &file, &gcf->listen_where), 0,
                              "the cluster listens on every address (%s): "
                              "set \"advertise\" to the one peers should "
                              "use", u->addr.name.data);
            return EG_ERROR;
        }

        if (eg_gossip_pick_addr(cf, gcf, &sa) != EG_OK) {
            return EG_ERROR;
        }
    }

    if (eg_gossip_swim_addr(&sa.sockaddr, &gcf->advertise_addr) != EG_OK) {
        eg_log_error(EG_LOG_EMERG, cf->log, 0,
                     "the cluster address \"" EG_STR_FMT "\" is not an "
                     "IPv4 or IPv6 address", EG_STR_ARG(u->url));
        return EG_ERROR;
    }

    return EG_OK;
}


/*
 * "listen" on every IPv4 address and no "advertise": as Serf and
 * memberlist do, the first IPv4 address of an interface that is up, not
 * a loopback one; 127.0.0.1 if there is no other.  The port stays.
 */
static eg_int_t
eg_gossip_pick_addr(eg_conf_t *cf, eg_gossip_conf_t *gcf, eg_sockaddr_t *sa)
{
    u_char               text[EG_SOCKADDR_STRLEN + 1];
    size_t               len;
    struct ifaddrs      *ifs, *ifa;
    eg_conf_file_t       file;
    struct sockaddr_in  *sin;

    if (getifaddrs(&ifs) == -1) {
        eg_conf_log_error(EG_LOG_EMERG,
                          eg_gossip_at(cf, &file, &gcf->listen_where),
                          eg_errno, "getifaddrs() failed: set "
                          "\"advertise\" to the address peers should use");
        return EG_ERROR;
    }

    sa->sockaddr_in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    for (ifa = ifs; ifa; ifa = ifa->ifa_next) {

        if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != AF_INET
            || !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
        {
            continue;
        }

        sin = (struct sockaddr_in *) ifa->ifa_addr;

        if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127) {
            continue;
        }

        sa->sockaddr_in.sin_addr = sin->sin_addr;
        break;
    }

    len = eg_sock_ntop(&sa->sockaddr, sizeof(struct sockaddr_in), text,
                       sizeof(text), 1);

    if (ifa) {
        eg_log_error(EG_LOG_NOTICE, cf->log, 0,
                     "the cluster advertises %.*s (interface \"%s\"): "
                     "\"listen\" is every address and \"advertise\" is "
                     "not set", (int) len, text, ifa->ifa_name);

    } else {
        eg_log_error(EG_LOG_NOTICE, cf->log, 0,
                     "the cluster advertises %.*s (loopback): \"listen\" "
                     "is every address, \"advertise\" is not set, and no "
                     "interface that is up has another IPv4 address",
                     (int) len, text);
    }

    freeifaddrs(ifs);

    return EG_OK;
}


static char *
eg_gossip_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_gossip_conf_t  *gcf = conf;

    u_char            *p;
    eg_str_t           name, text;
    eg_uint_t          i;
    eg_conf_t          cf;
    const char        *err;
    eg_conf_file_t     file;
    eg_keyval_t       *kv;
    eg_listening_t    *ls;
    eg_swim_conf_t     def;
    eg_str_t           default_listen = eg_string("0.0.0.0:7946");

    eg_memzero(&cf, sizeof(eg_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    if (gcf->node_id.data == NULL) {
        gcf->node_id = cycle->hostname;

        if (eg_gossip_valid_id(&gcf->node_id) != EG_OK) {
            eg_log_error(EG_LOG_EMERG, cycle->log, 0,
                         "the host name \"" EG_STR_FMT "\" cannot be a node "
                         "id: set \"node_id\"",
                         EG_STR_ARG(gcf->node_id));
            return EG_CONF_ERROR;
        }
    }

    if (gcf->listen.url.data == NULL) {
        if (eg_parse_url(cycle->pool, &gcf->listen, &default_listen,
                         EG_GOSSIP_DEFAULT_PORT, 0)
            != EG_OK)
        {
            return EG_CONF_ERROR;
        }
    }

    if (eg_gossip_advertise_addr(&cf, gcf) != EG_OK) {
        return EG_CONF_ERROR;
    }

    eg_conf_init_ptr_value(gcf->tags, NULL);

    if (gcf->cluster_name.data == NULL) {
        eg_str_set(&gcf->cluster_name, "engram");
    }

    /* the timings: what was set, the rest from the LAN profile */

    eg_swim_conf_default(&def);

    eg_conf_init_msec_value(gcf->swim.probe_interval, def.probe_interval);
    eg_conf_init_msec_value(gcf->swim.probe_timeout, def.probe_timeout);
    eg_conf_init_uint_value(gcf->swim.indirect_checks, def.indirect_checks);
    eg_conf_init_uint_value(gcf->swim.suspicion_mult, def.suspicion_mult);
    eg_conf_init_uint_value(gcf->swim.suspicion_max_mult,
                            def.suspicion_max_mult);
    eg_conf_init_uint_value(gcf->swim.retransmit_mult, def.retransmit_mult);
    eg_conf_init_msec_value(gcf->swim.gossip_interval, def.gossip_interval);
    eg_conf_init_uint_value(gcf->swim.gossip_nodes, def.gossip_nodes);
    eg_conf_init_msec_value(gcf->swim.gossip_to_dead, def.gossip_to_dead);
    eg_conf_init_msec_value(gcf->swim.push_pull_interval,
                            def.push_pull_interval);
    eg_conf_init_msec_value(gcf->swim.reconnect_interval,
                            def.reconnect_interval);
    eg_conf_init_msec_value(gcf->swim.reap_timeout, def.reap_timeout);
    eg_conf_init_value(gcf->swim.lifeguard, def.lifeguard);
    gcf->swim.awareness_max = def.awareness_max;
    gcf->swim.packet_size = def.packet_size;

    if (gcf->swim.probe_timeout >= gcf->swim.probe_interval) {
        eg_conf_log_error(EG_LOG_EMERG,
                          eg_gossip_at(&cf, &file, &gcf->probe_where), 0,
                          "\"probe_timeout\" must be shorter than "
                          "\"probe_interval\"");
        return EG_CONF_ERROR;
    }

    eg_conf_init_msec_value(gcf->hook_timeout, 30000);
    eg_conf_init_value(gcf->hook_concurrency, 4);
    eg_conf_init_size_value(gcf->zone_size, 8 * 1024 * 1024);
    eg_conf_init_msec_value(gcf->join_retry_interval, 1000);
    eg_conf_init_value(gcf->join_retry_max, 0);
    eg_conf_init_msec_value(gcf->leave_timeout, 5000);

    /* tags, in their wire encoding */

    p = gcf->tags_blob;

    for (i = 0; gcf->tags && i < gcf->tags->nelts; i++) {
        kv = &((eg_keyval_t *) gcf->tags->elts)[i];

        /* eg_gossip_tags() made sure that they fit */

        *p++ = (u_char) kv->key.len;
        p = eg_cpymem(p, kv->key.data, kv->key.len);
        *p++ = (u_char) kv->value.len;
        p = eg_cpymem(p, kv->value.data, kv->value.len);
    }

    gcf->tags_len = (size_t) (p - gcf->tags_blob);

    /* the keyring is read with the configuration: a bad one stops -t */

    if (gcf->keyring_path.data) {
        name = gcf->keyring_path;

        if (eg_conf_full_name(cycle, &name, 1) != EG_OK) {
            return EG_CONF_ERROR;
        }

        if (eg_read_file(cycle->pool, (char *) name.data, &text, 65536)
            != EG_OK)
        {
            eg_conf_log_error(EG_LOG_EMERG,
                              eg_gossip_at(&cf, &file, &gcf->keyring_where),
                              eg_errno, "cannot read the keyring \"%s\"",
                              name.data);
            return EG_CONF_ERROR;
        }

        if (eg_swim_keyring_parse(&gcf->keyring, text.data, text.len, &err)
            != EG_OK)
        {
            eg_conf_log_error(EG_LOG_EMERG,
                              eg_gossip_at(&cf, &file, &gcf->keyring_where),
                              0, "invalid keyring \"%s\": %s", name.data,
                              err);
            return EG_CONF_ERROR;
        }

        eg_memzero(text.data, text.len);
    }

    if (gcf->snapshot_path.data) {
        if (eg_conf_full_name(cycle, &gcf->snapshot_path, 0) != EG_OK) {
            return EG_CONF_ERROR;
        }
    }

    if (gcf->hook.data) {
        if (eg_conf_full_name(cycle, &gcf->hook, 1) != EG_OK) {
            return EG_CONF_ERROR;
        }
    }

    /* the member table, kept across reloads while its size stays */

    eg_str_set(&name, "engram_members");

    gcf->zone = eg_shared_memory_add(&cf, &name, gcf->zone_size,
                                     &eg_gossip_module);
    if (gcf->zone == NULL) {
        return EG_CONF_ERROR;
    }

    gcf->zone->init = eg_gossip_table_init_zone;

    /*
     * The sockets belong to the cycle, like the workers' ones: kept on
     * reload, inherited by a new binary, but only the cluster process
     * reads them.
     */

    ls = eg_create_listening(&cf, &gcf->listen.addr.sa.sockaddr,
                             gcf->listen.addr.socklen, SOCK_DGRAM);
    if (ls == NULL) {
        return EG_CONF_ERROR;
    }

    ls->module_only = 1;
    ls->tag = &eg_gossip_module;
    ls->rcvbuf = 2 * 1024 * 1024;
    gcf->udp_index = cycle->listening.nelts - 1;

    ls = eg_create_listening(&cf, &gcf->listen.addr.sa.sockaddr,
                             gcf->listen.addr.socklen, SOCK_STREAM);
    if (ls == NULL) {
        return EG_CONF_ERROR;
    }

    ls->module_only = 1;
    ls->tag = &eg_gossip_module;
    ls->backlog = 128;
    gcf->tcp_index = cycle->listening.nelts - 1;

    return EG_CONF_OK;
}


static eg_int_t
eg_gossip_init_module(eg_cycle_t *cycle)
{
    int                 fd;
    eg_str_t            name;
    eg_uint_t           i;
    eg_core_conf_t     *ccf;
    eg_gossip_conf_t   *gcf;
    eg_process_spec_t   spec;
    eg_metric_family_t *f;

    gcf = eg_cluster_get_conf(cycle->conf_ctx, eg_gossip_module);

    if (gcf == NULL) {
        return EG_OK;   /* single-node mode: nothing runs */
    }

    /* the workers show the shared member table */
    eg_membership_snapshot = eg_gossip_membership;

    eg_gossip_metrics.members = eg_metrics_family(EG_METRIC_GAUGE,
        "engram_members", "Members of the cluster by state, as this node "
        "sees them", "state", NULL, 0);

    eg_gossip_metrics.probes = eg_metrics_series(eg_metrics_family(
        EG_METRIC_COUNTER, "engram_swim_probes_total",
        "Probes this node sent", NULL, NULL, 0), NULL);

    eg_gossip_metrics.probe_failures = eg_metrics_series(eg_metrics_family(
        EG_METRIC_COUNTER, "engram_swim_probe_failures_total",
        "Probes that got no ack, direct or indirect", NULL, NULL, 0), NULL);

    eg_gossip_metrics.suspicions = eg_metrics_series(eg_metrics_family(
        EG_METRIC_COUNTER, "engram_swim_suspicions_total",
        "Members this node saw become suspect", NULL, NULL, 0), NULL);

    eg_gossip_metrics.refutations = eg_metrics_series(eg_metrics_family(
        EG_METRIC_COUNTER, "engram_swim_refutations_total",
        "Times this node refuted a suspicion or death of itself", NULL,
        NULL, 0), NULL);

    eg_gossip_metrics.local_health = eg_metrics_series(eg_metrics_family(
        EG_METRIC_GAUGE, "engram_swim_local_health",
        "The Lifeguard local health multiplier, 0 (healthy) to 7", NULL,
        NULL, 0), NULL);

    f = eg_metrics_family(EG_METRIC_COUNTER, "engram_gossip_packets_total",
                          "Gossip datagrams and stream messages",
                          "direction", NULL, 0);
    eg_gossip_metrics.packets_in = eg_metrics_series1(f, "in");
    eg_gossip_metrics.packets_out = eg_metrics_series1(f, "out");

    f = eg_metrics_family(EG_METRIC_COUNTER, "engram_gossip_bytes_total",
                          "Gossip bytes", "direction", NULL, 0);
    eg_gossip_metrics.bytes_in = eg_metrics_series1(f, "in");
    eg_gossip_metrics.bytes_out = eg_metrics_series1(f, "out");

    f = eg_metrics_family(EG_METRIC_COUNTER, "engram_gossip_dropped_total",
                          "Gossip packets dropped, by reason", "reason",
                          NULL, 0);

    for (i = 0; i < EG_SWIM_DROP_REASONS; i++) {
        eg_gossip_metrics.dropped[i] = eg_metrics_series1(f,
                                                 eg_swim_drop_reasons[i]);
    }

    for (i = 0; i < EG_MEMBER_STATES; i++) {
        (void) eg_metrics_series1(eg_gossip_metrics.members,
                                  eg_member_states[i]);
    }

    /*
     * The lock file is made here, by the master, for the user the cluster
     * process runs as: that user may not be allowed to create files
     * beside the pid file.
     */

    if (!eg_test_config && eg_gossip_lock_path(cycle, &name) == EG_OK) {
        fd = open((char *) name.data, O_RDWR|O_CREAT|O_CLOEXEC, 0644);

        if (fd == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "open() \"%s\" failed", name.data);
            return EG_ERROR;
        }

        ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx,
                                             eg_core_module);

        if (geteuid() == 0 && ccf->user != (uid_t) EG_CONF_UNSET_UINT
            && fchown(fd, ccf->user, ccf->group) == -1)
        {
            eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                         "fchown() \"%s\" failed", name.data);
        }

        (void) close(fd);
    }

    spec.name = "cluster process";
    spec.proc = eg_gossip_process;
    spec.data = NULL;
    spec.singleton = 1;

    return eg_cycle_add_process(cycle, &spec);
}


/* beside the pid file: engram.pid.cluster */
static eg_int_t
eg_gossip_lock_path(eg_cycle_t *cycle, eg_str_t *name)
{
    u_char          *p;
    eg_core_conf_t  *ccf;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    name->len = ccf->pid.len + sizeof(".cluster") - 1;
    name->data = eg_pnalloc(cycle->pool, name->len + 1);

    if (name->data == NULL) {
        return EG_ERROR;
    }

    p = eg_cpymem(name->data, ccf->pid.data, ccf->pid.len);
    (void) memcpy(p, ".cluster", sizeof(".cluster"));

    return EG_OK;
}


static void
eg_gossip_process(eg_cycle_t *cycle, void *data)
{
    eg_str_t           name;
    eg_gossip_t       *g;

    eg_unused(data);

    eg_module_process_init(cycle, "cluster process");

    g = &eg_gossip;
    eg_memzero(g, sizeof(eg_gossip_t));

    g->cycle = cycle;
    g->conf = eg_cluster_get_conf(cycle->conf_ctx, eg_gossip_module);
    g->log = cycle->log;
    g->lock_fd = -1;

    /*
     * One cluster process at a time, even across a binary upgrade: the
     * lock beside the pid file is held for the process's life.  Each
     * process opens the file itself: flock() belongs to an open file, and
     * one opened by the master would be shared by every cluster process.
     */

    if (eg_gossip_lock_path(cycle, &name) != EG_OK) {
        eg_process_exit(cycle, 2);
    }

    g->lock_fd = open((char *) name.data, O_RDWR|O_CLOEXEC);

    if (g->lock_fd == -1) {
        eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                     "open() \"%s\" failed", name.data);
        eg_process_exit(cycle, 2);
    }

    g->lock_timer.handler = eg_gossip_try_lock;
    g->lock_timer.data = g;
    g->lock_timer.log = cycle->log;

    eg_gossip_try_lock(&g->lock_timer);

    eg_gossip_loop(g);
}


static void
eg_gossip_try_lock(eg_event_t *ev)
{
    eg_gossip_t  *g;

    g = ev->data;

    if (flock(g->lock_fd, LOCK_EX|LOCK_NB) == -1) {
        if (eg_errno != EWOULDBLOCK && eg_errno != EG_EINTR) {
            eg_log_error(EG_LOG_EMERG, g->log, eg_errno, "flock() failed");
            eg_process_exit(g->cycle, 2);
        }

        /* the previous cluster process is still handing over */
        eg_event_add_timer(ev, 50);
        return;
    }

    if (eg_gossip_start(g) != EG_OK) {
        eg_process_exit(g->cycle, 2);
    }
}


static eg_int_t
eg_gossip_start(eg_gossip_t *g)
{
    u_char              tags[EG_SWIM_TAGS_MAX];
    size_t              tags_len;
    uint64_t            incarnation;
    eg_swim_env_t       env;
    eg_swim_ident_t    *self;
    eg_gossip_conf_t   *gcf;

    gcf = g->conf;
    g->shm = gcf->zone->data;

    /* a binary upgrade: our zone is new, the table came in the lock file */
    eg_gossip_handover_read(g, g->lock_fd);

    g->candidates = eg_array_create(g->cycle->pool, 8,
                                    sizeof(eg_swim_addr_t));
    g->remembered = eg_array_create(g->cycle->pool, 8,
                                    sizeof(eg_swim_addr_t));
    if (g->candidates == NULL || g->remembered == NULL) {
        return EG_ERROR;
    }

    /*
     * The incarnation: where the previous cluster process of this node
     * left it, with the tags it had (new tags are set below, and raise
     * it), or the wall clock in ms, which is above any record of an
     * earlier life of this node.
     */

    incarnation = eg_gossip_table_incarnation(g, tags, &tags_len);

    if (incarnation == 0) {
        incarnation = (uint64_t) eg_time() * 1000
                      + eg_timeofday()->msec;

        eg_memcpy(tags, gcf->tags_blob, gcf->tags_len);
        tags_len = gcf->tags_len;
    }

    self = eg_swim_ident_create(gcf->node_id.data, gcf->node_id.len,
                                &gcf->advertise_addr, tags, tags_len);
    if (self == NULL) {
        return EG_ERROR;
    }

    env.data = g;
    env.now = eg_gossip_env_now;
    env.send = eg_gossip_send;
    env.stream = eg_gossip_stream;
    env.random = eg_gossip_env_random;
    env.event = eg_gossip_env_event;
    env.join_result = eg_gossip_env_join;
    env.log = g->log;

    g->swim = eg_swim_create(&gcf->swim, &env, self, incarnation,
                             &gcf->cluster_name,
                             gcf->keyring.nkeys ? &gcf->keyring : NULL);
    eg_swim_ident_unref(self);

    if (g->swim == NULL) {
        eg_log_error(EG_LOG_EMERG, g->log, 0, "cannot start the gossip core");
        return EG_ERROR;
    }

    /* the members the last cluster process knew, as it knew them */
    eg_gossip_table_restore(g);

    /* tags a reload changed: peers take them with a higher incarnation */
    if (eg_swim_set_tags(g->swim, gcf->tags_blob, gcf->tags_len) != EG_OK) {
        eg_log_error(EG_LOG_EMERG, g->log, 0, "cannot set the tags");
        return EG_ERROR;
    }

    eg_gossip_table_self(g);

    if (eg_gossip_net_init(g) != EG_OK) {
        return EG_ERROR;
    }

    eg_gossip_guard_start(g);

    g->publish.handler = eg_gossip_publish;
    g->publish.data = g;
    g->publish.log = g->log;
    g->publish.cancelable = 1;
    eg_event_add_timer(&g->publish, 1000);

    /*
     * Who to join: what discovery finds (each round calls
     * eg_gossip_discovered()), then whoever the snapshot remembers.  A
     * cluster process resumed with company has joined already: later
     * rounds join only the peers found that are no members yet.
     */

    (void) eg_gossip_snapshot_read(g);

    g->join_timer.handler = eg_gossip_join_next;
    g->join_timer.data = g;
    g->join_timer.log = g->log;
    g->join_timer.cancelable = 1;

    if (eg_swim_members(g->swim, NULL) > 1) {
        g->resumed = 1;
        g->joined = 1;
    }

    g->forming_ids = eg_array_create(g->cycle->pool, 4,
                                     sizeof(eg_gossip_peer_id_t));
    if (g->forming_ids == NULL) {
        return EG_ERROR;
    }

    if (!g->joined && eg_discovery_expect(g->cycle) > 1) {
        /* bootstrap_expect: nobody joins us until we know who forms */
        g->forming = 1;
        eg_swim_set_forming(g->swim, 1);
    }

    if (eg_discovery_start(g->cycle, g->log, &gcf->advertise_addr,
                           &gcf->node_id, &gcf->cluster_name,
                           gcf->keyring.nkeys ? &gcf->keyring : NULL,
                           eg_gossip_discovered, g)
        != EG_OK)
    {
        return EG_ERROR;
    }

    if (!eg_discovery_configured(g->cycle) && !g->joined) {
        /* no discovery method: the snapshot is all there is to join */
        eg_gossip_discovered(g, NULL);
    }

    eg_log_error(EG_LOG_NOTICE, g->log, 0,
                 "cluster \"" EG_STR_FMT "\": node \"" EG_STR_FMT "\" on %s, "
                 "incarnation %llu, %lu members",
                 EG_STR_ARG(gcf->cluster_name), EG_STR_ARG(gcf->node_id),
                 gcf->listen.addr.name.data,
                 (unsigned long long) eg_swim_self(g->swim)->incarnation,
                 (unsigned long) eg_swim_members(g->swim, NULL));

    eg_gossip_rearm(g);

    return EG_OK;
}


/*
 * Joining: each peer found in turn (then each member a snapshot
 * remembers) until one answers.  After a full round without an answer,
 * discovery looks again and the round starts over, after
 * join_retry_interval, doubled each round up to a minute, with jitter,
 * up to join_retry_max rounds (0: for ever).  Once other members have
 * joined this node, or it joined them, the join is done; later rounds of
 * discovery then only bring in peers that are no members yet, so that
 * clusters formed apart merge.
 */
static void
eg_gossip_discovered(void *data, eg_array_t *peers)
{
    eg_uint_t          i;
    eg_swim_addr_t    *a, *cand;
    eg_gossip_t       *g = data;

    if (g->leaving || g->swim == NULL) {
        return;
    }

    g->candidates->nelts = 0;

    if (peers) {
        a = peers->elts;

        for (i = 0; i < peers->nelts; i++) {
            cand = eg_array_push(g->candidates);
            if (cand == NULL) {
                return;
            }

            *cand = a[i];
        }
    }

    if (!g->joined && eg_gossip_company(g)) {
        eg_log_error(EG_LOG_NOTICE, g->log, 0,
                     "other members joined this node: the join is done");
        g->joined = 1;

        if (g->join_timer.timer_set) {
            eg_event_del_timer(&g->join_timer);
        }

        g->join_timer.handler = eg_gossip_join_next;
    }

    if (g->joined) {

        /* a peer found that is no member: another cluster, to merge */

        cand = g->candidates->elts;

        for (i = 0; i < g->candidates->nelts; i++) {
            if (!eg_gossip_known(g, &cand[i])) {
                eg_swim_join(g->swim, &cand[i]);
            }
        }

        eg_gossip_rearm(g);
        return;
    }

    a = g->remembered->elts;

    for (i = 0; i < g->remembered->nelts; i++) {
        cand = eg_array_push(g->candidates);
        if (cand == NULL) {
            break;
        }

        *cand = a[i];
    }

    if (g->join_timer.timer_set) {
        eg_event_del_timer(&g->join_timer);
    }

    g->join_next = 0;
    g->join_asked = 0;

    eg_gossip_join_next(&g->join_timer);
}


static void
eg_gossip_join_next(eg_event_t *ev)
{
    uint32_t           jitter;
    eg_uint_t          i;
    eg_msec_t          delay;
    eg_gossip_t       *g;
    eg_swim_addr_t     a;
    eg_gossip_conf_t  *gcf;

    g = ev->data;
    gcf = g->conf;

    if (g->joined || g->leaving) {
        return;
    }

    if (eg_gossip_company(g)) {
        eg_log_error(EG_LOG_NOTICE, g->log, 0,
                     "other members joined this node: the join is done");
        g->joined = 1;
        return;
    }

    if (g->join_next < g->candidates->nelts) {
        a = ((eg_swim_addr_t *) g->candidates->elts)[g->join_next++];

        g->join_asked++;

        eg_swim_join(g->swim, &a);
        eg_gossip_rearm(g);
        return;
    }

    if (g->join_attempts == 0 && g->join_asked == 0
        && g->candidates->nelts == 0)
    {
        eg_log_error(EG_LOG_INFO, g->log, 0,
                     "no peer found: a cluster of one until discovery "
                     "finds one or a peer joins this node");
    }

    if (g->forming && eg_gossip_form(g)) {
        return;
    }

    /* a round without an answer: discovery looks again, after a while */

    g->join_attempts++;

    if (gcf->join_retry_max
        && g->join_attempts >= (eg_uint_t) gcf->join_retry_max)
    {
        eg_log_error(EG_LOG_ERR, g->log, 0,
                     "no peer answered in %lu rounds, giving up: this node "
                     "stays a cluster of its own until a peer joins it",
                     (unsigned long) g->join_attempts);
        return;
    }

    delay = gcf->join_retry_interval;

    /* while forming, peers are waited for, not backed off from */

    for (i = 1; !g->forming && i < g->join_attempts && delay < 60000; i++) {
        delay *= 2;
    }

    delay = eg_min(delay, 60000);

    /* jitter, so that nodes started together do not retry together */
    eg_gossip_env_random(g, (u_char *) &jitter, sizeof(jitter));
    delay += jitter % (delay / 4 + 1);

    if (g->join_asked && !g->forming) {
        eg_log_error(EG_LOG_WARN, g->log, 0,
                     "no peer answered, looking again in %lu ms",
                     (unsigned long) delay);
    }

    g->join_asked = 0;
    g->join_next = 0;

    ev->handler = eg_gossip_join_retry;
    eg_event_add_timer(ev, delay);
}


/* the backoff is over: discovery looks again, and calls us back */
static void
eg_gossip_join_retry(eg_event_t *ev)
{
    eg_gossip_t  *g;

    g = ev->data;
    ev->handler = eg_gossip_join_next;

    if (g->joined || g->leaving) {
        return;
    }

    if (eg_discovery_configured(g->cycle)) {
        eg_discovery_now();
        return;
    }

    eg_gossip_discovered(g, NULL);
}


/* whether a live member is at this address already */
static eg_uint_t
eg_gossip_known(eg_gossip_t *g, eg_swim_addr_t *addr)
{
    eg_gossip_search_t  search;

    search.addr = addr;
    search.found = 0;

    eg_swim_foreach(g->swim, eg_gossip_known_member, &search);

    return search.found;
}


/* whether another member is alive: someone joined us, or we joined */
static eg_uint_t
eg_gossip_company(eg_gossip_t *g)
{
    eg_uint_t  counts[EG_MEMBER_STATES];

    (void) eg_swim_members(g->swim, counts);

    return counts[EG_MEMBER_ALIVE] > 1;
}


static void
eg_gossip_known_member(void *data, eg_swim_member_t *m)
{
    eg_gossip_search_t  *search = data;

    if ((m->state == EG_MEMBER_ALIVE || m->state == EG_MEMBER_SUSPECT)
        && eg_swim_addr_eq(&m->ident->addr, search->addr))
    {
        search->found = 1;
    }
}


static void
eg_gossip_env_join(void *data, eg_swim_addr_t *addr, eg_int_t rc, u_char *id,
    size_t id_len)
{
    u_char                text[EG_SOCKADDR_STRLEN + 1];
    size_t                len;
    eg_uint_t             i;
    eg_gossip_t          *g = data;
    eg_gossip_peer_id_t  *p;

    len = eg_swim_addr_text(addr, text, sizeof(text));

    if (rc == EG_OK) {
        eg_log_error(EG_LOG_NOTICE, g->log, 0, "joined the cluster through "
                     "%.*s, %lu members", (int) len, text,
                     (unsigned long) eg_swim_members(g->swim, NULL));

        g->joined = 1;
        g->join_attempts = 0;

        if (g->forming) {
            g->forming = 0;
            eg_swim_set_forming(g->swim, 0);
        }

        if (g->join_timer.timer_set) {
            eg_event_del_timer(&g->join_timer);
        }

        g->join_timer.handler = eg_gossip_join_next;
        return;
    }

    if (rc == EG_DECLINED) {
        /* a peer forming too: remember who it is, and go on */

        p = g->forming_ids->elts;

        for (i = 0; i < g->forming_ids->nelts; i++) {
            if (eg_swim_addr_eq(&p[i].addr, addr)) {
                break;
            }
        }

        if (i == g->forming_ids->nelts) {
            p = eg_array_push(g->forming_ids);
        } else {
            p = &p[i];
        }

        if (p) {
            p->addr = *addr;
            p->id_len = eg_min(id_len, EG_SWIM_ID_MAX);
            eg_memcpy(p->id, id, p->id_len);
        }

        eg_log_error(EG_LOG_INFO, g->log, 0, "%.*s (\"%.*s\") is forming "
                     "a cluster too", (int) len, text, (int) id_len, id);

    } else {
        /* a merge with a peer found while joined may fail quietly: it
           may be a member long gone that discovery still lists */

        eg_log_error(g->joined ? EG_LOG_INFO : EG_LOG_WARN, g->log, 0,
                     "join through %.*s failed", (int) len, text);
    }

    if (!g->joined && !g->join_timer.timer_set) {
        eg_event_add_timer(&g->join_timer, 1);
    }
}


/*
 * bootstrap_expect N: a round of joins found only peers that are forming
 * too.  A new cluster is formed when N nodes (this one included) are
 * found, each has told its id, the set has stayed the same for
 * EG_GOSSIP_FORM_STABLE ms, and this node's id is the lowest: that node
 * alone starts taking members, and the others, trying again, join it.
 * Returns whether this node formed the cluster.
 */
static eg_uint_t
eg_gossip_form(eg_gossip_t *g)
{
    uint32_t              hash;
    eg_int_t              expect;
    eg_uint_t             i, j, known, lowest;
    eg_swim_addr_t       *cand;
    eg_gossip_conf_t     *gcf;
    eg_gossip_peer_id_t  *p, *low;

    gcf = g->conf;
    expect = eg_discovery_expect(g->cycle);
    cand = g->candidates->elts;
    p = g->forming_ids->elts;

    /* the ids of the peers found this round, in a hash of the set */

    known = 0;
    hash = 0;
    low = NULL;
    lowest = 1;

    for (i = 0; i < g->candidates->nelts; i++) {
        for (j = 0; j < g->forming_ids->nelts; j++) {
            if (eg_swim_addr_eq(&p[j].addr, &cand[i])) {
                break;
            }
        }

        if (j == g->forming_ids->nelts) {
            continue;
        }

        known++;
        hash ^= eg_swim_cluster_hash(p[j].id, p[j].id_len);

        if (low == NULL
            || eg_gossip_id_cmp(p[j].id, p[j].id_len, low->id, low->id_len)
               < 0)
        {
            low = &p[j];
        }
    }

    if (known + 1 < (eg_uint_t) expect) {
        if (g->forming_hash != (uint32_t) known) {
            eg_log_error(EG_LOG_INFO, g->log, 0,
                         "bootstrap_expect %ld: %lu of the nodes found so "
                         "far, waiting for the others", (long) expect,
                         (unsigned long) (known + 1));
        }

        g->forming_hash = (uint32_t) known;
        g->forming_since = 0;
        return 0;
    }

    if (low && eg_gossip_id_cmp(low->id, low->id_len, gcf->node_id.data,
                                gcf->node_id.len) < 0)
    {
        lowest = 0;
    }

    if (hash != g->forming_hash || g->forming_since == 0) {
        /* a new set of nodes: it must hold still for a while first */
        g->forming_hash = hash;
        g->forming_since = eg_current_msec;
        return 0;
    }

    if (eg_current_msec - g->forming_since < EG_GOSSIP_FORM_STABLE) {
        return 0;
    }

    if (!lowest) {
        return 0;   /* the node with the lowest id forms; we join it */
    }

    eg_log_error(EG_LOG_NOTICE, g->log, 0,
                 "forming a new cluster: the %lu nodes expected are here "
                 "and this one has the lowest id", (unsigned long) expect);

    g->forming = 0;
    g->joined = 1;
    eg_swim_set_forming(g->swim, 0);

    return 1;
}


/* node ids in byte order, a shorter prefix first */
static eg_int_t
eg_gossip_id_cmp(u_char *a, size_t alen, u_char *b, size_t blen)
{
    eg_int_t  rc;

    rc = eg_memcmp(a, b, eg_min(alen, blen));

    if (rc != 0) {
        return rc;
    }

    return (alen < blen) ? -1 : (alen > blen) ? 1 : 0;
}


static eg_msec_t
eg_gossip_env_now(void *data)
{
    eg_unused(data);

    return eg_current_msec;
}


static void
eg_gossip_env_random(void *data, u_char *buf, size_t len)
{
    eg_unused(data);

    /* the kernel's generator: nonces must be unpredictable and unique */

    if (eg_random_bytes(buf, len) != EG_OK) {
        abort();
    }
}


static void
eg_gossip_env_event(void *data, eg_swim_member_t *m, eg_uint_t event)
{
    u_char        text[EG_SOCKADDR_STRLEN + 1];
    size_t        len;
    eg_gossip_t  *g = data;

    static const char  *names[] = {
        "", "joined", "is suspect", "failed", "left", "was updated",
        "was forgotten"
    };

    if (event == EG_SWIM_EVENT_REAP) {
        eg_gossip_table_remove(g, m);
        return;
    }

    eg_gossip_table_update(g, m);

    if (m == eg_swim_self(g->swim) || event == EG_SWIM_EVENT_INCARNATION) {
        return;
    }

    len = eg_swim_addr_text(&m->ident->addr, text, sizeof(text));

    eg_log_error(event == EG_SWIM_EVENT_FAIL ? EG_LOG_WARN : EG_LOG_INFO,
                 g->log, 0, "member \"%.*s\" (%.*s) %s",
                 (int) m->ident->id_len, m->ident->id, (int) len, text,
                 names[event]);

    if (event != EG_SWIM_EVENT_SUSPECT) {
        eg_gossip_hook_event(g, m, event);
    }
}


/* every second: the metrics, and the snapshot when something changed */
static void
eg_gossip_publish(eg_event_t *ev)
{
    eg_uint_t          i, reachable, counts[EG_MEMBER_STATES];
    eg_swim_addr_t    *cand;
    eg_gossip_t       *g;
    eg_swim_stats_t   *st, *pub;

    g = ev->data;

    eg_event_add_timer(ev, 1000);

    st = eg_swim_stats(g->swim);
    pub = &g->published;

    (void) eg_swim_members(g->swim, counts);

    for (i = 0; i < EG_MEMBER_STATES; i++) {
        eg_metric_set(eg_metrics_series1(eg_gossip_metrics.members,
                                         eg_member_states[i]),
                      counts[i]);
    }

    /* counters only grow: add what happened since the last time */

#define eg_gossip_delta(metric, field)                                       \
    eg_metric_inc(eg_gossip_metrics.metric, st->field - pub->field)

    eg_gossip_delta(probes, probes);
    eg_gossip_delta(probe_failures, probe_failures);
    eg_gossip_delta(suspicions, suspicions);
    eg_gossip_delta(refutations, refutations);
    eg_gossip_delta(packets_in, received_packets);
    eg_gossip_delta(packets_out, sent_packets);
    eg_gossip_delta(bytes_in, received_bytes);
    eg_gossip_delta(bytes_out, sent_bytes);

    for (i = 0; i < EG_SWIM_DROP_REASONS; i++) {
        eg_metric_inc(eg_gossip_metrics.dropped[i],
                      st->dropped[i] - pub->dropped[i]);
    }

    *pub = *st;

    eg_metric_set(eg_gossip_metrics.local_health,
                  eg_swim_local_health(g->swim));

    eg_gossip_guard_publish(g);

    /* how many of the peers discovery found are members now */

    cand = g->candidates->elts;
    reachable = 0;

    for (i = 0; i < g->candidates->nelts; i++) {
        reachable += eg_gossip_known(g, &cand[i]);
    }

    eg_discovery_reachable(reachable);

    (void) eg_gossip_snapshot_write(g);
}


static void
eg_gossip_loop(eg_gossip_t *g)
{
    eg_cycle_t  *cycle;

    cycle = g->cycle;

    for ( ;; ) {
        eg_process_events_and_timers(cycle);

        if (eg_terminate) {
            eg_log_error(EG_LOG_NOTICE, g->log, 0, "exiting");
            eg_gossip_exit(g, 1);
        }

        if (eg_handover) {
            /* a reload or an upgrade: the next cluster process goes on */
            eg_log_error(EG_LOG_NOTICE, g->log, 0,
                         "handing over to the next cluster process");

            if (g->swim) {
                eg_gossip_table_self(g);
                eg_gossip_handover_write(g, g->lock_fd);

                /* the next one counts the next configuration's drops */
                eg_gossip_guard_publish(g);
            }
            eg_gossip_exit(g, 1);
        }

        if (eg_quit && !g->leaving) {
            eg_quit = 0;

            if (g->swim == NULL) {
                eg_gossip_exit(g, 0);
            }

            eg_log_error(EG_LOG_NOTICE, g->log, 0, "leaving the cluster");

            g->leaving = 1;
            g->leave_deadline = eg_current_msec + g->conf->leave_timeout;

            eg_swim_leave(g->swim);
            eg_gossip_table_self(g);
            eg_gossip_rearm(g);
        }

        if (g->leaving
            && (eg_swim_leave_done(g->swim)
                || (eg_msec_int_t) (eg_current_msec - g->leave_deadline)
                   >= 0))
        {
            eg_log_error(EG_LOG_NOTICE, g->log, 0, "left the cluster");
            eg_gossip_exit(g, 0);
        }

        if (eg_reap) {
            eg_reap = 0;
            eg_gossip_hook_reap(g);
        }

        if (eg_reopen) {
            eg_reopen = 0;
            eg_log_error(EG_LOG_NOTICE, g->log, 0, "reopening logs");
            eg_reopen_logs(cycle);
        }
    }
}


/*
 * The member table stays in shared memory for the next cluster process;
 * the snapshot file, for the next start of the daemon.  save is whether
 * the node is still a member (not after a leave).
 */
static void
eg_gossip_exit(eg_gossip_t *g, eg_uint_t save)
{
    eg_discovery_stop();

    if (g->swim && save) {
        (void) eg_gossip_snapshot_write(g);
    }

    eg_gossip_hook_stop(g);

    eg_process_exit(g->cycle, 0);
}
