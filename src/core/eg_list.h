/*
 * A list of fixed-size parts: elements never move once pushed, so callers
 * may keep pointers to them (open files, shared memory zones).
 */

#ifndef EG_LIST_H_INCLUDED
#define EG_LIST_H_INCLUDED


typedef struct eg_list_part_s  eg_list_part_t;

struct eg_list_part_s {
    void            *elts;
    eg_uint_t        nelts;
    eg_list_part_t  *next;
};


typedef struct {
    eg_list_part_t  *last;      /* the part being filled */
    eg_list_part_t   part;      /* the first part */
    size_t           size;      /* size of one element */
    eg_uint_t        nalloc;    /* elements per part */
    eg_pool_t       *pool;
} eg_list_t;


eg_list_t *eg_list_create(eg_pool_t *pool, eg_uint_t n, size_t size);
eg_int_t eg_list_init(eg_list_t *list, eg_pool_t *pool, eg_uint_t n,
    size_t size);
void *eg_list_push(eg_list_t *list);

/*
 * Iterate:
 *
 *     for (part = &list->part; part; part = part->next) {
 *         elts = part->elts;
 *         for (i = 0; i < part->nelts; i++) { ... elts[i] ... }
 *     }
 */

#endif /* EG_LIST_H_INCLUDED */
