/*
 * The gossip module: cluster mode in the daemon.  Its directives live in
 * "cluster {}"; its work is done by the cluster process, the single owner
 * of the gossip sockets and of the protocol instance, which keeps the
 * member table in shared memory for the workers to show.
 *
 *     eg_gossip_module.c   directives, the cluster process, its loop
 *     eg_gossip_net.c      UDP datagrams and TCP streams for the core
 *     eg_gossip_table.c    the member table in shared memory
 *     eg_gossip_hook.c     on_member_change programs
 *     eg_gossip_guard_*.c  the gossip guard (eBPF), eg_gossip_guard.h
 */

#ifndef EG_GOSSIP_H_INCLUDED
#define EG_GOSSIP_H_INCLUDED


#include <eg_swim.h>
#include <eg_cluster.h>


#define EG_GOSSIP_DEFAULT_PORT  7946

/* how long the set of nodes found must hold still before one forms */
#define EG_GOSSIP_FORM_STABLE   3000

/* the smallest members_zone_size: the table's buckets, and room to spare */
#define EG_GOSSIP_ZONE_MIN      (64 * 1024)


typedef struct eg_gossip_shm_s  eg_gossip_shm_t;


/* a peer that answered a join "not ready", and the id it gave */
typedef struct {
    eg_swim_addr_t       addr;
    u_char               id[EG_SWIM_ID_MAX];
    size_t               id_len;
} eg_gossip_peer_id_t;


/* where a directive was, for the errors found when the block ends */
typedef struct {
    eg_str_t             file;
    eg_uint_t            line;
    const char          *env;               /* or its variable */
} eg_gossip_where_t;


typedef struct {
    eg_str_t             node_id;
    eg_url_t             listen;
    eg_url_t             advertise;
    eg_array_t          *tags;              /* eg_keyval_t */
    eg_str_t             keyring_path;
    eg_str_t             cluster_name;
    eg_swim_conf_t       swim;
    eg_str_t             hook;              /* on_member_change */
    eg_msec_t            hook_timeout;
    eg_int_t             hook_concurrency;
    eg_str_t             snapshot_path;
    size_t               zone_size;
    eg_msec_t            join_retry_interval;
    eg_int_t             join_retry_max;    /* 0: forever */
    eg_msec_t            leave_timeout;

    eg_gossip_where_t    listen_where;
    eg_gossip_where_t    keyring_where;
    eg_gossip_where_t    probe_where;       /* the later probe_* timing */

    /* made from the above when the configuration is finished */
    eg_swim_keyring_t    keyring;
    eg_swim_addr_t       advertise_addr;
    u_char               tags_blob[EG_SWIM_TAGS_MAX];
    size_t               tags_len;
    eg_shm_zone_t       *zone;
    eg_uint_t            udp_index;         /* in cycle->listening */
    eg_uint_t            tcp_index;
} eg_gossip_conf_t;


/* the running cluster process */
typedef struct {
    eg_cycle_t          *cycle;
    eg_gossip_conf_t    *conf;
    eg_swim_t           *swim;
    eg_gossip_shm_t     *shm;
    eg_log_t            *log;

    eg_connection_t     *udp;
    eg_connection_t     *tcp;
    eg_event_t           timer;             /* the core's next deadline */
    eg_event_t           publish;           /* metrics, snapshot */
    eg_event_t           join_timer;        /* retrying the join */
    eg_event_t           lock_timer;        /* waiting for the lock */

    int                  lock_fd;
    eg_uint_t            joined;            /* reached someone */
    eg_uint_t            resumed;           /* restarted with company */
    eg_uint_t            join_next;         /* the seed to try next */
    eg_uint_t            join_asked;        /* this round's, not us */
    eg_uint_t            join_attempts;
    eg_array_t          *candidates;        /* eg_swim_addr_t to join */
    eg_array_t          *remembered;        /* the snapshot's, the last resort */

    /* safe formation (bootstrap_expect): the ids peers told, and since
       when the set of them has stayed the same */
    eg_array_t          *forming_ids;       /* eg_gossip_peer_id_t */
    uint32_t             forming_hash;
    eg_msec_t            forming_since;
    eg_uint_t            forming:1;

    eg_swim_stats_t      published;         /* what metrics already have */
    eg_uint_t            leaving:1;
    eg_msec_t            leave_deadline;
} eg_gossip_t;


/* eg_gossip_net.c */
eg_int_t eg_gossip_net_init(eg_gossip_t *g);
void eg_gossip_send(void *data, eg_swim_addr_t *to, u_char *buf,
    size_t len);
void eg_gossip_stream(void *data, eg_swim_addr_t *to, u_char *buf,
    size_t len, uint32_t tag);
eg_int_t eg_gossip_sockaddr(eg_swim_addr_t *a, eg_sockaddr_t *sa,
    socklen_t *socklen);
eg_int_t eg_gossip_swim_addr(struct sockaddr *sa, eg_swim_addr_t *a);
void eg_gossip_rearm(eg_gossip_t *g);

/* eg_gossip_table.c */
eg_int_t eg_gossip_table_init_zone(eg_shm_zone_t *zone, void *data);
void eg_gossip_table_update(eg_gossip_t *g, eg_swim_member_t *m);
void eg_gossip_table_remove(eg_gossip_t *g, eg_swim_member_t *m);
void eg_gossip_table_restore(eg_gossip_t *g);
uint64_t eg_gossip_table_incarnation(eg_gossip_t *g, u_char *tags,
    size_t *tags_len);
void eg_gossip_table_self(eg_gossip_t *g);
eg_int_t eg_gossip_membership(eg_cycle_t *cycle, eg_pool_t *pool,
    eg_membership_t *m);
void eg_gossip_handover_write(eg_gossip_t *g, int fd);
void eg_gossip_handover_read(eg_gossip_t *g, int fd);
eg_int_t eg_gossip_snapshot_write(eg_gossip_t *g);
eg_int_t eg_gossip_snapshot_read(eg_gossip_t *g);

/* eg_gossip_guard_module.c */
void eg_gossip_guard_start(eg_gossip_t *g);
void eg_gossip_guard_publish(eg_gossip_t *g);

/* eg_gossip_hook.c */
void eg_gossip_hook_event(eg_gossip_t *g, eg_swim_member_t *m,
    eg_uint_t event);
void eg_gossip_hook_reap(eg_gossip_t *g);
void eg_gossip_hook_stop(eg_gossip_t *g);

extern eg_module_t  eg_gossip_module;

#endif /* EG_GOSSIP_H_INCLUDED */
