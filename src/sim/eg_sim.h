/*
 * The simulator: N instances of the gossip core (src/gossip) in one
 * process, on virtual time and a simulated network with per-link loss,
 * delay and jitter, partitions, paused nodes and crashed ones.  Given the
 * same seed, a run is the same run: every random draw comes from seeded
 * generators and events at the same instant keep their order.
 *
 * The unit tests drive it through this API; engram-sim (eg_sim_main.c)
 * drives it from a scenario and prints a JSON report.
 */

#ifndef EG_SIM_H_INCLUDED
#define EG_SIM_H_INCLUDED


#include <eg_swim.h>


typedef struct eg_sim_s  eg_sim_t;


typedef struct {
    eg_uint_t            nodes;
    uint64_t             seed;
    double               loss;          /* per datagram, every link */
    eg_msec_t            delay;         /* one way */
    eg_msec_t            jitter;        /* added, uniform in [0, jitter] */
    eg_uint_t            preformed;     /* start as one formed cluster */
    u_char              *hold;          /* per node: 1 keeps it out of the
                                           formed cluster, for a join */
    eg_swim_conf_t       swim;
    eg_swim_keyring_t    keyring;       /* nkeys 0: plaintext */
} eg_sim_conf_t;


/* what the simulator saw, for reports and assertions */
typedef struct {
    eg_msec_t            start;         /* when tracking began; 0: never */
    eg_msec_t            done;          /* when everyone knew; 0: not yet */
    eg_uint_t            count;         /* observers that know so far */
} eg_sim_spread_t;

typedef struct {
    eg_msec_t            at;            /* when it crashed; 0: it did not */
    eg_msec_t            first_suspect; /* by anyone */
    eg_msec_t            first_dead;
    eg_msec_t            all_dead;      /* by every live node */
    eg_uint_t            dead_count;
} eg_sim_crash_t;

typedef struct {
    uint64_t             false_dead;    /* live nodes declared dead */
    uint64_t             false_suspect; /* live nodes suspected */
    uint64_t             packets;       /* datagrams sent */
    uint64_t             bytes;
    uint64_t             lost;          /* dropped by the network */
    uint64_t             streams;
    uint64_t             events;        /* the simulator's own work */
} eg_sim_stats_t;


void eg_sim_conf_default(eg_sim_conf_t *conf);
eg_sim_t *eg_sim_create(eg_sim_conf_t *conf);
void eg_sim_destroy(eg_sim_t *sim);

/* runs until the clock reaches t (ms since the start) */
void eg_sim_run(eg_sim_t *sim, eg_msec_t t);
eg_msec_t eg_sim_now(eg_sim_t *sim);

/* a node that was not started (not preformed) starts and joins "via" */
eg_int_t eg_sim_join(eg_sim_t *sim, eg_uint_t node, eg_uint_t via);
void eg_sim_crash(eg_sim_t *sim, eg_uint_t node);
void eg_sim_pause(eg_sim_t *sim, eg_uint_t node, eg_msec_t duration);
void eg_sim_leave(eg_sim_t *sim, eg_uint_t node);

/* group[i] for every node; nodes in different groups cannot talk */
void eg_sim_partition(eg_sim_t *sim, eg_uint_t *group);
void eg_sim_heal(eg_sim_t *sim);
void eg_sim_link_loss(eg_sim_t *sim, eg_uint_t a, eg_uint_t b, double loss);

void eg_sim_set_keyring(eg_sim_t *sim, eg_uint_t node,
    eg_swim_keyring_t *keyring);

/* a raw datagram to a node, as from "from" */
void eg_sim_inject(eg_sim_t *sim, eg_uint_t node, eg_uint_t from,
    u_char *buf, size_t len);

eg_swim_t *eg_sim_swim(eg_sim_t *sim, eg_uint_t node);
eg_uint_t eg_sim_nodes(eg_sim_t *sim);
eg_uint_t eg_sim_alive(eg_sim_t *sim, eg_uint_t node);   /* running? */

/* the state of "subject" in "observer"'s view, or EG_MEMBER_STATES */
eg_uint_t eg_sim_view(eg_sim_t *sim, eg_uint_t observer, eg_uint_t subject);

/* how many running nodes see subject in state */
eg_uint_t eg_sim_seen_as(eg_sim_t *sim, eg_uint_t subject, eg_uint_t state);

/* starts counting who learns that subject is alive */
void eg_sim_track(eg_sim_t *sim, eg_uint_t subject);
eg_sim_spread_t *eg_sim_spread(eg_sim_t *sim, eg_uint_t subject);
eg_sim_crash_t *eg_sim_crash_info(eg_sim_t *sim, eg_uint_t node);
eg_sim_stats_t *eg_sim_stats(eg_sim_t *sim);

/* node i's address, and back */
void eg_sim_addr(eg_uint_t node, eg_swim_addr_t *addr);
eg_uint_t eg_sim_node_of(eg_swim_addr_t *addr);

#endif /* EG_SIM_H_INCLUDED */
