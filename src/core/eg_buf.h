/*
 * A plain memory buffer: [start, end) is the memory, [pos, last) the data.
 */

#ifndef EG_BUF_H_INCLUDED
#define EG_BUF_H_INCLUDED


typedef struct {
    u_char      *pos;       /* first byte of data not yet consumed */
    u_char      *last;      /* end of data */
    u_char      *start;     /* start of the memory */
    u_char      *end;       /* end of the memory */
} eg_buf_t;


#define eg_buf_size(b)      (size_t) ((b)->last - (b)->pos)
#define eg_buf_free(b)      (size_t) ((b)->end - (b)->last)

eg_buf_t *eg_create_temp_buf(eg_pool_t *pool, size_t size);

#endif /* EG_BUF_H_INCLUDED */
