#include <eg_config.h>
#include <eg_core.h>


eg_list_t *
eg_list_create(eg_pool_t *pool, eg_uint_t n, size_t size)
{
    eg_list_t  *list;

    list = eg_palloc(pool, sizeof(eg_list_t));
    if (list == NULL) {
        return NULL;
    }

    if (eg_list_init(list, pool, n, size) != EG_OK) {
        return NULL;
    }

    return list;
}


eg_int_t
eg_list_init(eg_list_t *list, eg_pool_t *pool, eg_uint_t n, size_t size)
{
    list->part.elts = eg_palloc(pool, n * size);
    if (list->part.elts == NULL) {
        return EG_ERROR;
    }

    list->part.nelts = 0;
    list->part.next = NULL;
    list->last = &list->part;
    list->size = size;
    list->nalloc = n;
    list->pool = pool;

    return EG_OK;
}


void *
eg_list_push(eg_list_t *l)
{
    void            *elt;
    eg_list_part_t  *last;

    last = l->last;

    if (last->nelts == l->nalloc) {
        last = eg_palloc(l->pool, sizeof(eg_list_part_t));
        if (last == NULL) {
            return NULL;
        }

        last->elts = eg_palloc(l->pool, l->nalloc * l->size);
        if (last->elts == NULL) {
            return NULL;
        }

        last->nelts = 0;
        last->next = NULL;

        l->last->next = last;
        l->last = last;
    }

    elt = (char *) last->elts + l->size * last->nelts;
    last->nelts++;

    return elt;
}
