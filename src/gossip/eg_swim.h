/*
 * The SWIM failure detector and dissemination protocol with the Lifeguard
 * refinements, as a state machine.  It makes no system call: it is given
 * an environment (eg_swim_env_t) that sends datagrams and stream requests,
 * tells the time and draws random bytes, and the caller drives it:
 *
 *     eg_swim_receive()          a datagram arrived
 *     eg_swim_stream_request()   a stream request arrived; answer it
 *     eg_swim_stream_response()  the answer to our stream request
 *     eg_swim_tick()             eg_swim_next_deadline() has passed
 *
 * The daemon plugs in UDP and TCP sockets and its event loop; the
 * simulator (engram-sim) plugs in a simulated network and virtual time
 * and runs thousands of instances of this same code.  See eg_swim.c for
 * how the protocol works and docs/protocol.md for the wire format.
 */

#ifndef EG_SWIM_H_INCLUDED
#define EG_SWIM_H_INCLUDED


#include <eg_swim_wire.h>


typedef struct eg_swim_s         eg_swim_t;
typedef struct eg_swim_member_s  eg_swim_member_t;
typedef struct eg_swim_bcast_s   eg_swim_bcast_t;


/* what happened to a member, for eg_swim_env_t.event */
#define EG_SWIM_EVENT_JOIN      1   /* first seen alive, or alive again */
#define EG_SWIM_EVENT_SUSPECT   2
#define EG_SWIM_EVENT_FAIL      3   /* declared dead */
#define EG_SWIM_EVENT_LEAVE     4   /* left gracefully */
#define EG_SWIM_EVENT_UPDATE    5   /* address or tags changed */
#define EG_SWIM_EVENT_REAP      6   /* forgotten after reap_timeout */
#define EG_SWIM_EVENT_INCARNATION  7   /* a new incarnation, nothing else:
                                          for mirrors of the table */


extern const char  *eg_swim_drop_reasons[];


/* the most members a probe asks to ping a target that did not answer */
#define EG_SWIM_INDIRECT_MAX    16


typedef struct {
    eg_msec_t        probe_interval;        /* 1s */
    eg_msec_t        probe_timeout;         /* 500ms */
    eg_uint_t        indirect_checks;       /* 3; 1 to EG_SWIM_INDIRECT_MAX */
    eg_uint_t        suspicion_mult;        /* 4 */
    eg_uint_t        suspicion_max_mult;    /* 6: max = this * min */
    eg_uint_t        retransmit_mult;       /* 4 */
    eg_msec_t        gossip_interval;       /* 200ms */
    eg_uint_t        gossip_nodes;          /* 3 */
    eg_msec_t        gossip_to_dead;        /* 30s: dead still hear gossip */
    eg_msec_t        push_pull_interval;    /* 30s, scaled up for large N */
    eg_msec_t        reconnect_interval;    /* 30s: try to reach the dead */
    eg_msec_t        reap_timeout;          /* 1h: dead and left forgotten */
    eg_uint_t        awareness_max;         /* 8: the Lifeguard multiplier */
    eg_flag_t        lifeguard;             /* on; off is plain SWIM */
    size_t           packet_size;           /* 1400 */
} eg_swim_conf_t;


/* the seams; data is the caller's, passed back in every call */
typedef struct {
    void            *data;

    /* the monotonic clock, in ms */
    eg_msec_t      (*now)(void *data);

    /* sends a datagram; losing it is fine, SWIM expects loss */
    void           (*send)(void *data, eg_swim_addr_t *to, u_char *buf,
                           size_t len);

    /*
     * Sends a stream request (join, push-pull) whose answer is handed to
     * eg_swim_stream_response() later, or whose failure is reported
     * there with a NULL buffer.  tag identifies the request.
     */
    void           (*stream)(void *data, eg_swim_addr_t *to, u_char *buf,
                             size_t len, uint32_t tag);

    /* unpredictable bytes: nonces, the probe order, gossip targets */
    void           (*random)(void *data, u_char *buf, size_t len);

    /* a member changed; m stays valid until the call returns */
    void           (*event)(void *data, eg_swim_member_t *m,
                            eg_uint_t event);

    /*
     * how eg_swim_join() went: EG_OK; EG_ERROR if addr did not answer;
     * EG_DECLINED if it is forming a cluster and takes nobody yet, and
     * then id is its node id
     */
    void           (*join_result)(void *data, eg_swim_addr_t *addr,
                                  eg_int_t rc, u_char *id, size_t id_len);

    eg_log_t        *log;
} eg_swim_env_t;


/*
 * A member as the outside world may read it.  Small on purpose: the
 * simulator keeps N views of N members; what only a few members need at
 * a time (a pending update, a suspicion, the caller's data) hangs off ext.
 */
struct eg_swim_member_s {
    eg_swim_member_t    *hash_next;     /* in the id hash */
    eg_swim_ident_t     *ident;         /* id, address, tags */
    void                *ext;           /* eg_swim_member_ext_t, or NULL */
    uint64_t             incarnation;
    eg_msec_t            state_change;  /* when the state last changed */
    uint32_t             probe_slot;    /* in the probe order */
    uint8_t              state;         /* EG_MEMBER_* */
};


typedef struct {
    uint64_t         sent_packets;
    uint64_t         sent_bytes;
    uint64_t         received_packets;
    uint64_t         received_bytes;
    uint64_t         dropped[EG_SWIM_DROP_REASONS];
    uint64_t         probes;
    uint64_t         probe_failures;        /* no ack, direct or indirect */
    uint64_t         suspicions;            /* members we suspected */
    uint64_t         refutations;           /* times we refuted */
    uint64_t         streams;               /* push-pulls and joins */
} eg_swim_stats_t;


void eg_swim_conf_default(eg_swim_conf_t *conf);

/*
 * self: this node's identity; incarnation: where it starts, which must be
 * higher than any record of an earlier life of this node (the daemon uses
 * the wall clock in ms; a restarted cluster process resumes the one kept
 * in shared memory).
 */
eg_swim_t *eg_swim_create(eg_swim_conf_t *conf, eg_swim_env_t *env,
    eg_swim_ident_t *self, uint64_t incarnation, eg_str_t *cluster_name,
    eg_swim_keyring_t *keyring);
void eg_swim_destroy(eg_swim_t *swim);

void eg_swim_receive(eg_swim_t *swim, eg_swim_addr_t *from, u_char *buf,
    size_t len);

/* returns the answer, allocated with malloc(), or NULL with *len 0 */
u_char *eg_swim_stream_request(eg_swim_t *swim, eg_swim_addr_t *from,
    u_char *buf, size_t len, size_t *rlen);
void eg_swim_stream_response(eg_swim_t *swim, uint32_t tag, u_char *buf,
    size_t len);

void eg_swim_tick(eg_swim_t *swim);
eg_msec_t eg_swim_next_deadline(eg_swim_t *swim);

/* asks addr for a membership snapshot and adopts it */
void eg_swim_join(eg_swim_t *swim, eg_swim_addr_t *addr);

/* new tags for this node; gossiped with a higher incarnation */
eg_int_t eg_swim_set_tags(eg_swim_t *swim, u_char *tags, size_t len);

/* announces a graceful leave; true once it has been sent around enough */
void eg_swim_leave(eg_swim_t *swim);
eg_uint_t eg_swim_leave_done(eg_swim_t *swim);

/*
 * Safe formation: while forming, this node answers joins with NOT_READY
 * (and its id) instead of taking the joiner in, so that nodes started
 * together join the one they agree on rather than each other.
 */
void eg_swim_set_forming(eg_swim_t *swim, eg_uint_t forming);

void eg_swim_set_conf(eg_swim_t *swim, eg_swim_conf_t *conf);
void eg_swim_set_keyring(eg_swim_t *swim, eg_swim_keyring_t *keyring);

/*
 * Adds a member as known without telling anyone (a restored snapshot, or
 * the simulator's pre-formed clusters).
 */
eg_swim_member_t *eg_swim_add_member(eg_swim_t *swim, eg_swim_ident_t *id,
    eg_uint_t state, uint64_t incarnation);

eg_swim_member_t *eg_swim_find(eg_swim_t *swim, u_char *id, size_t len);
eg_swim_member_t *eg_swim_self(eg_swim_t *swim);
eg_uint_t eg_swim_members(eg_swim_t *swim, eg_uint_t *by_state);

typedef void (*eg_swim_member_pt)(void *data, eg_swim_member_t *m);
void eg_swim_foreach(eg_swim_t *swim, eg_swim_member_pt handler,
    void *data);

void *eg_swim_member_data(eg_swim_member_t *m);
eg_int_t eg_swim_set_member_data(eg_swim_t *swim, eg_swim_member_t *m,
    void *data);

eg_uint_t eg_swim_local_health(eg_swim_t *swim);
eg_swim_stats_t *eg_swim_stats(eg_swim_t *swim);

#endif /* EG_SWIM_H_INCLUDED */
