/*
 * The inside of a SWIM instance, shared by eg_swim.c (the protocol),
 * eg_swim_table.c (the members) and eg_swim_dissem.c (dissemination,
 * snapshots).  Nothing outside src/gossip includes it.
 */

#ifndef EG_SWIM_INT_H_INCLUDED
#define EG_SWIM_INT_H_INCLUDED


typedef struct eg_swim_timer_s  eg_swim_timer_t;

typedef void (*eg_swim_timer_pt)(eg_swim_t *swim, eg_swim_timer_t *t);

struct eg_swim_timer_s {
    eg_rbtree_node_t         node;          /* key: the deadline */
    eg_swim_timer_pt         handler;
    unsigned                 set:1;
};


/* what only some members need: kept out of the member to keep it small */
typedef struct {
    eg_swim_member_t        *member;        /* whose this is */
    eg_swim_bcast_t         *bcast;         /* our pending update on it */
    void                    *suspicion;     /* eg_swim_suspicion_t */
    eg_queue_t               dead;          /* in swim->dead, oldest first */
    void                    *data;          /* the caller's */
    unsigned                 in_dead:1;
} eg_swim_member_ext_t;


/* a suspected member's countdown (Lifeguard LHA-Suspicion) */
typedef struct {
    eg_swim_timer_t          timer;
    eg_swim_member_t        *member;
    eg_msec_t                start;
    eg_msec_t                min;           /* the shortest it may get */
    eg_msec_t                max;           /* where it starts */
    eg_uint_t                k;             /* confirmations that bring it
                                               down to min */
    eg_uint_t                n;             /* confirmations so far */
    uint32_t                 accuser;       /* who suspected first (id
                                               hash): not a confirmation */
    u_char                   accuser_id[EG_SWIM_ID_MAX];   /* and its id */
    uint8_t                  accuser_len;
    uint32_t                 from[8];       /* who confirmed (id hashes) */
} eg_swim_suspicion_t;


/* an update waiting to be piggybacked, encoded once */
struct eg_swim_bcast_s {
    eg_rbtree_node_t         node;          /* key: fewest sends, newest */
    eg_swim_member_t        *member;        /* whom it is about */
    uint32_t                 transmits;
    uint64_t                 seq;
    size_t                   len;
    u_char                   data[];        /* the encoded record */
};


/* the probe of this round */
typedef struct {
    u_char                   id[EG_SWIM_ID_MAX];    /* the target */
    uint8_t                  id_len;
    uint32_t                 seq;
    eg_uint_t                active:1;
    eg_uint_t                acked:1;
    eg_uint_t                indirect:1;
    eg_uint_t                expected_nacks;
    eg_uint_t                nacks;
} eg_swim_probe_t;


/* an indirect probe we run for someone else */
typedef struct {
    eg_swim_timer_t          timer;         /* when to say "nack" */
    eg_queue_t               queue;
    uint32_t                 seq;           /* of our ping to the target */
    uint32_t                 req_seq;       /* of the requester's request */
    eg_swim_addr_t           requester;
} eg_swim_relay_t;


/* a stream request of ours waiting for its answer */
typedef struct {
    eg_queue_t               queue;
    uint32_t                 tag;
    uint8_t                  type;          /* EG_SWIM_JOIN, PUSH_PULL */
    eg_swim_addr_t           to;
} eg_swim_pending_t;


struct eg_swim_s {
    eg_swim_conf_t           conf;
    eg_swim_env_t            env;
    eg_swim_keyring_t        keyring;

    eg_swim_member_t        *self;
    u_char                   cluster_name[EG_SWIM_NAME_MAX];
    size_t                   cluster_name_len;
    uint32_t                 cluster;       /* hash of the name */

    /* members: by id, and in probe order */
    eg_swim_member_t       **hash;
    eg_uint_t                hash_size;     /* a power of two */
    eg_uint_t                nmembers;      /* self included */
    eg_uint_t                count[EG_MEMBER_STATES];
    eg_swim_member_t       **probe;         /* everyone but self */
    eg_uint_t                nprobe;
    eg_uint_t                probe_alloc;
    eg_uint_t                probe_next;
    eg_queue_t               dead;          /* dead and left, oldest first */

    /* member memory, in chunks: thousands of views must stay cheap */
    eg_swim_member_t        *free_members;
    void                    *chunks;

    /* timers */
    eg_rbtree_t              timers;
    eg_rbtree_node_t         timer_sentinel;
    eg_swim_timer_t          probe_timer;
    eg_swim_timer_t          probe_timeout_timer;
    eg_swim_timer_t          gossip_timer;
    eg_swim_timer_t          push_pull_timer;
    eg_swim_timer_t          reconnect_timer;
    eg_swim_timer_t          reap_timer;

    /* dissemination */
    eg_rbtree_t              bcasts;
    eg_rbtree_node_t         bcast_sentinel;
    eg_uint_t                nbcasts;
    uint64_t                 bcast_seq;

    eg_swim_probe_t          probe_state;
    eg_queue_t               relays;
    eg_queue_t               pending;

    uint32_t                 seq;
    uint32_t                 stream_tag;
    eg_uint_t                awareness;     /* Lifeguard local health */
    eg_uint_t                leaving:1;
    eg_uint_t                forming:1;     /* joins get NOT_READY */

    uint64_t                 rng[2];        /* xorshift128+ state */

    eg_swim_stats_t          stats;

    /* scratch for one packet, plain and sealed */
    u_char                   plain[EG_SWIM_MAX_PACKET];
    u_char                   sealed[EG_SWIM_MAX_PACKET];
    eg_swim_message_t        msg;
};


/* eg_swim.c */
eg_msec_t eg_swim_now(eg_swim_t *swim);
uint64_t eg_swim_random(eg_swim_t *swim);
eg_uint_t eg_swim_random_n(eg_swim_t *swim, eg_uint_t n);
void eg_swim_timer_add(eg_swim_t *swim, eg_swim_timer_t *t, eg_msec_t at);
void eg_swim_timer_del(eg_swim_t *swim, eg_swim_timer_t *t);
void eg_swim_apply(eg_swim_t *swim, eg_swim_record_t *r, eg_uint_t merge);
void eg_swim_event(eg_swim_t *swim, eg_swim_member_t *m, eg_uint_t event);
eg_uint_t eg_swim_estimate(eg_swim_t *swim);

/* eg_swim_table.c */
eg_int_t eg_swim_table_init(eg_swim_t *swim);
void eg_swim_table_free(eg_swim_t *swim);
eg_swim_member_t *eg_swim_table_add(eg_swim_t *swim, eg_swim_ident_t *id,
    eg_uint_t state, uint64_t incarnation);
void eg_swim_table_remove(eg_swim_t *swim, eg_swim_member_t *m);
void eg_swim_set_state(eg_swim_t *swim, eg_swim_member_t *m,
    eg_uint_t state);
eg_swim_member_ext_t *eg_swim_ext(eg_swim_t *swim, eg_swim_member_t *m);
eg_swim_member_t *eg_swim_next_probe(eg_swim_t *swim);
eg_swim_member_t *eg_swim_random_member(eg_swim_t *swim, eg_uint_t states,
    eg_msec_t dead_within);
void eg_swim_reap(eg_swim_t *swim, eg_swim_timer_t *t);

/* eg_swim_dissem.c */
void eg_swim_bcast_init(eg_swim_t *swim);
void eg_swim_bcast_free(eg_swim_t *swim);
void eg_swim_enqueue(eg_swim_t *swim, eg_swim_member_t *m,
    eg_swim_record_t *r);
void eg_swim_enqueue_member(eg_swim_t *swim, eg_swim_member_t *m,
    u_char *from, uint8_t from_len);
void eg_swim_drop_bcast(eg_swim_t *swim, eg_swim_member_t *m);
eg_uint_t eg_swim_fill(eg_swim_t *swim, eg_swim_buf_t *b,
    eg_swim_member_t *first);
void eg_swim_send(eg_swim_t *swim, eg_swim_addr_t *to, eg_swim_buf_t *b);
void eg_swim_gossip(eg_swim_t *swim, eg_swim_timer_t *t);
void eg_swim_gossip_now(eg_swim_t *swim);
void eg_swim_push_pull(eg_swim_t *swim, eg_swim_timer_t *t);
void eg_swim_reconnect(eg_swim_t *swim, eg_swim_timer_t *t);
void eg_swim_stream_send(eg_swim_t *swim, eg_swim_addr_t *to, uint8_t type);
u_char *eg_swim_snapshot(eg_swim_t *swim, uint8_t type, size_t *len);
eg_int_t eg_swim_open_stream(eg_swim_t *swim, u_char *buf, size_t len,
    u_char **body, size_t *blen, uint8_t *type, eg_uint_t *reason);
eg_int_t eg_swim_peek_snapshot(eg_swim_t *swim, u_char *body, size_t len,
    eg_swim_record_t *r, eg_uint_t *reason);
eg_int_t eg_swim_merge_snapshot(eg_swim_t *swim, u_char *body, size_t len,
    eg_uint_t *reason);
void eg_swim_member_record(eg_swim_member_t *m, eg_swim_record_t *r);
eg_uint_t eg_swim_retransmit_limit(eg_swim_t *swim);

#endif /* EG_SWIM_INT_H_INCLUDED */
