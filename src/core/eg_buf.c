#include <eg_config.h>
#include <eg_core.h>


eg_buf_t *
eg_create_temp_buf(eg_pool_t *pool, size_t size)
{
    eg_buf_t  *b;

    b = eg_palloc(pool, sizeof(eg_buf_t));
    if (b == NULL) {
        return NULL;
    }

    b->start = eg_palloc(pool, size);
    if (b->start == NULL) {
        return NULL;
    }

    b->pos = b->start;
    b->last = b->start;
    b->end = b->start + size;

    return b;
}
