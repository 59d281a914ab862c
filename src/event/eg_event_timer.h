/*
 * Timers: events in a red-black tree keyed by their expiry on the
 * monotonic clock.  The loop sleeps until the earliest one.
 */

#ifndef EG_EVENT_TIMER_H_INCLUDED
#define EG_EVENT_TIMER_H_INCLUDED


#define EG_TIMER_INFINITE  (eg_msec_t) -1

/* a timer re-armed within this many ms of its old expiry is left alone */
#define EG_TIMER_LAZY_DELAY  300


eg_int_t eg_event_timer_init(eg_log_t *log);
eg_msec_t eg_event_find_timer(void);
void eg_event_expire_timers(void);
eg_uint_t eg_event_no_timers_left(void);


extern eg_rbtree_t  eg_event_timer_rbtree;


static inline void
eg_event_del_timer(eg_event_t *ev)
{
    eg_rbtree_delete(&eg_event_timer_rbtree, &ev->timer);

    ev->timer.left = NULL;
    ev->timer.right = NULL;
    ev->timer.parent = NULL;
    ev->timer_set = 0;
}


static inline void
eg_event_add_timer(eg_event_t *ev, eg_msec_t timer)
{
    eg_msec_t      key;
    eg_msec_int_t  diff;

    key = eg_current_msec + timer;

    if (ev->timer_set) {

        /*
         * Keep-alive and read timers are re-armed on every read; moving
         * a node for a few ms of difference is not worth the rebalancing.
         */

        diff = (eg_msec_int_t) (key - ev->timer.key);

        if (eg_abs(diff) < EG_TIMER_LAZY_DELAY) {
            return;
        }

        eg_event_del_timer(ev);
    }

    ev->timer.key = (eg_rbtree_key_t) key;

    eg_rbtree_insert(&eg_event_timer_rbtree, &ev->timer);

    ev->timer_set = 1;
}

#endif /* EG_EVENT_TIMER_H_INCLUDED */
