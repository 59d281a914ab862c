/*
 * Timer tree.  Expired timers run in expiry order; a handler may add new
 * timers, including ones that expire at once, which run in the same pass.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


eg_rbtree_t              eg_event_timer_rbtree;
static eg_rbtree_node_t  eg_event_timer_sentinel;


eg_int_t
eg_event_timer_init(eg_log_t *log)
{
    eg_unused(log);

    eg_rbtree_init(&eg_event_timer_rbtree, &eg_event_timer_sentinel,
                   eg_rbtree_insert_timer_value);

    return EG_OK;
}


/* ms until the first timer expires, 0 if one is due, or infinite */
eg_msec_t
eg_event_find_timer(void)
{
    eg_msec_int_t      timer;
    eg_rbtree_node_t  *node, *root, *sentinel;

    if (eg_event_timer_rbtree.root == &eg_event_timer_sentinel) {
        return EG_TIMER_INFINITE;
    }

    root = eg_event_timer_rbtree.root;
    sentinel = eg_event_timer_rbtree.sentinel;

    node = eg_rbtree_min(root, sentinel);

    timer = (eg_msec_int_t) (node->key - (eg_rbtree_key_t) eg_current_msec);

    return (eg_msec_t) (timer > 0 ? timer : 0);
}


void
eg_event_expire_timers(void)
{
    eg_event_t        *ev;
    eg_rbtree_node_t  *node, *root, *sentinel;

    sentinel = eg_event_timer_rbtree.sentinel;

    for ( ;; ) {
        root = eg_event_timer_rbtree.root;

        if (root == sentinel) {
            return;
        }

        node = eg_rbtree_min(root, sentinel);

        if ((eg_msec_int_t) (node->key - (eg_rbtree_key_t) eg_current_msec)
            > 0)
        {
            return;
        }

        ev = eg_rbtree_data(node, eg_event_t, timer);

        eg_rbtree_delete(&eg_event_timer_rbtree, &ev->timer);

        ev->timer_set = 0;
        ev->timedout = 1;

        ev->handler(ev);
    }
}


/* whether only cancelable timers remain, so a quitting process may exit */
eg_uint_t
eg_event_no_timers_left(void)
{
    eg_event_t        *ev;
    eg_rbtree_node_t  *node, *root, *sentinel;

    sentinel = eg_event_timer_rbtree.sentinel;
    root = eg_event_timer_rbtree.root;

    if (root == sentinel) {
        return 1;
    }

    for (node = eg_rbtree_min(root, sentinel);
         node;
         node = eg_rbtree_next(&eg_event_timer_rbtree, node))
    {
        ev = eg_rbtree_data(node, eg_event_t, timer);

        if (!ev->cancelable) {
            return 0;
        }
    }

    return 1;
}
