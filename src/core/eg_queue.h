/*
 * Intrusive circular doubly-linked queue.  A sentinel eg_queue_t heads the
 * queue; elements embed an eg_queue_t and are recovered with eg_queue_data().
 */

#ifndef EG_QUEUE_H_INCLUDED
#define EG_QUEUE_H_INCLUDED


typedef struct eg_queue_s  eg_queue_t;

struct eg_queue_s {
    eg_queue_t  *prev;
    eg_queue_t  *next;
};


#define eg_queue_init(q)                                                     \
    (q)->prev = q;                                                           \
    (q)->next = q

#define eg_queue_empty(h)       ((h) == (h)->prev)

#define eg_queue_insert_head(h, x)                                           \
    (x)->next = (h)->next;                                                   \
    (x)->next->prev = x;                                                     \
    (x)->prev = h;                                                           \
    (h)->next = x

#define eg_queue_insert_tail(h, x)                                           \
    (x)->prev = (h)->prev;                                                   \
    (x)->prev->next = x;                                                     \
    (x)->next = h;                                                           \
    (h)->prev = x

#define eg_queue_head(h)        (h)->next
#define eg_queue_last(h)        (h)->prev
#define eg_queue_sentinel(h)    (h)
#define eg_queue_next(q)        (q)->next
#define eg_queue_prev(q)        (q)->prev

#define eg_queue_remove(x)                                                   \
    (x)->next->prev = (x)->prev;                                             \
    (x)->prev->next = (x)->next;                                             \
    (x)->prev = NULL;                                                        \
    (x)->next = NULL

#define eg_queue_data(q, type, link)                                         \
    ((type *) ((u_char *) (q) - offsetof(type, link)))

#endif /* EG_QUEUE_H_INCLUDED */
