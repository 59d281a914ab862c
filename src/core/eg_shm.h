/*
 * Shared memory zones.  A module asks for a zone by name and size while
 * the config is parsed; the cycle maps it before forking, so every process
 * sees it at the same address.  On reload a zone with the same name, size
 * and owner keeps its memory and contents: its init handler is called with
 * the old zone's data and simply adopts it.
 */

#ifndef EG_SHM_H_INCLUDED
#define EG_SHM_H_INCLUDED


typedef struct {
    u_char          *addr;      /* the mapping */
    size_t           size;
    eg_str_t         name;
    eg_log_t        *log;
    eg_uint_t        exists;    /* kept from the previous cycle */
} eg_shm_t;


/* data is the old zone's data on reuse, NULL on a fresh zone */
typedef eg_int_t (*eg_shm_zone_init_pt)(eg_shm_zone_t *zone, void *data);

struct eg_shm_zone_s {
    void                  *data;    /* the owner's handle on its state */
    eg_shm_t               shm;
    eg_shm_zone_init_pt    init;
    void                  *tag;     /* the owning module */
    eg_uint_t              noreuse; /* never keep across reload */
};


eg_int_t eg_shm_alloc(eg_shm_t *shm);
void eg_shm_free(eg_shm_t *shm);

eg_shm_zone_t *eg_shared_memory_add(eg_conf_t *cf, eg_str_t *name,
    size_t size, void *tag);

#endif /* EG_SHM_H_INCLUDED */
