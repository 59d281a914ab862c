/*
 * Arrays grow by doubling.  When the array is the last thing allocated in
 * its pool block it grows in place; otherwise it moves, and the old copy
 * stays in the pool until the pool dies.
 */

#include <eg_config.h>
#include <eg_core.h>


static eg_int_t eg_array_grow(eg_array_t *a, eg_uint_t n);


eg_array_t *
eg_array_create(eg_pool_t *p, eg_uint_t n, size_t size)
{
    eg_array_t  *a;

    a = eg_palloc(p, sizeof(eg_array_t));
    if (a == NULL) {
        return NULL;
    }

    if (eg_array_init(a, p, n, size) != EG_OK) {
        return NULL;
    }

    return a;
}


void
eg_array_destroy(eg_array_t *a)
{
    eg_pool_block_t  *b;

    /* give the memory back only when it is at the top of a block */

    b = a->pool->current;

    if ((u_char *) a->elts + a->size * a->nalloc == b->last) {
        b->last -= a->size * a->nalloc;
    }

    if ((u_char *) a + sizeof(eg_array_t) == b->last) {
        b->last = (u_char *) a;
    }
}


void *
eg_array_push(eg_array_t *a)
{
    void  *elt;

    if (a->nelts == a->nalloc) {
        if (eg_array_grow(a, 1) != EG_OK) {
            return NULL;
        }
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts++;

    return elt;
}


void *
eg_array_push_n(eg_array_t *a, eg_uint_t n)
{
    void  *elt;

    if (a->nelts + n > a->nalloc) {
        if (eg_array_grow(a, n) != EG_OK) {
            return NULL;
        }
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts += n;

    return elt;
}


static eg_int_t
eg_array_grow(eg_array_t *a, eg_uint_t n)
{
    void             *new;
    size_t            size;
    eg_uint_t         nalloc;
    eg_pool_block_t  *b;

    size = a->size * a->nalloc;
    b = a->pool->current;

    if ((u_char *) a->elts + size == b->last
        && (size_t) (b->end - b->last) >= a->size * n)
    {
        b->last += a->size * n;
        a->nalloc += n;
        return EG_OK;
    }

    nalloc = 2 * eg_max(n, a->nalloc);
    if (nalloc == 0) {
        nalloc = 1;
    }

    new = eg_palloc(a->pool, nalloc * a->size);
    if (new == NULL) {
        return EG_ERROR;
    }

    if (size) {
        eg_memcpy(new, a->elts, size);
    }

    a->elts = new;
    a->nalloc = nalloc;

    return EG_OK;
}
