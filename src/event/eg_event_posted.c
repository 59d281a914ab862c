#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


eg_queue_t  eg_posted_events;


void
eg_event_process_posted(eg_cycle_t *cycle, eg_queue_t *posted)
{
    eg_queue_t  *q;
    eg_event_t  *ev;

    eg_unused(cycle);

    while (!eg_queue_empty(posted)) {
        q = eg_queue_head(posted);
        ev = eg_queue_data(q, eg_event_t, queue);

        eg_delete_posted_event(ev);

        ev->handler(ev);
    }
}
