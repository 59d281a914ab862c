/*
 * The membership view that HTTP shows: who is in the cluster, in what
 * state, and how discovery is going.  The cluster module, when built and
 * configured, installs providers that read its shared member table;
 * without one the view is this node alone, which is what single-node
 * mode is.
 */

#ifndef EG_MEMBERSHIP_H_INCLUDED
#define EG_MEMBERSHIP_H_INCLUDED


#define EG_MEMBER_ALIVE      0
#define EG_MEMBER_SUSPECT    1
#define EG_MEMBER_DEAD       2
#define EG_MEMBER_LEFT       3
#define EG_MEMBER_STATES     4


typedef struct {
    eg_str_t             id;
    eg_str_t             address;       /* "ip:port"; empty when none */
    eg_uint_t            state;         /* EG_MEMBER_* */
    uint64_t             incarnation;
    eg_array_t          *tags;          /* eg_keyval_t; NULL for none */
    time_t               last_change;   /* wall clock */
    unsigned             self:1;
} eg_member_info_t;


typedef struct {
    eg_uint_t            distributed;   /* 0: single-node mode */
    eg_str_t             cluster_name;  /* empty when not set */
    eg_str_t             self;          /* this node's id */
    eg_array_t           members;       /* eg_member_info_t */
} eg_membership_t;


/* fills m from pool memory; the default describes this node alone */
typedef eg_int_t (*eg_membership_snapshot_pt)(eg_cycle_t *cycle,
    eg_pool_t *pool, eg_membership_t *m);

/*
 * Discovery health as a JSON object (a jansson json_t *, passed as void *
 * so that core does not depend on jansson); NULL when discovery is off.
 */
typedef void *(*eg_discovery_health_pt)(eg_cycle_t *cycle);


eg_int_t eg_membership_single(eg_cycle_t *cycle, eg_pool_t *pool,
    eg_membership_t *m);
eg_uint_t eg_member_state_by_name(eg_str_t *name);

extern eg_membership_snapshot_pt  eg_membership_snapshot;
extern eg_discovery_health_pt     eg_discovery_health;
extern const char                *eg_member_states[];

#endif /* EG_MEMBERSHIP_H_INCLUDED */
