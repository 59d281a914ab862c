/*
 * Posted events: handlers to run after the current batch of I/O events,
 * for work that must not run inside another handler's stack.
 */

#ifndef EG_EVENT_POSTED_H_INCLUDED
#define EG_EVENT_POSTED_H_INCLUDED


#define eg_post_event(ev, q)                                                 \
    if (!(ev)->posted) {                                                     \
        (ev)->posted = 1;                                                    \
        eg_queue_insert_tail(q, &(ev)->queue);                               \
    }

#define eg_delete_posted_event(ev)                                           \
    (ev)->posted = 0;                                                        \
    eg_queue_remove(&(ev)->queue)


void eg_event_process_posted(eg_cycle_t *cycle, eg_queue_t *posted);

extern eg_queue_t  eg_posted_events;

#endif /* EG_EVENT_POSTED_H_INCLUDED */
