/*
 * The core API in one include: forward declarations of the main types,
 * return codes, and every core header in dependency order.
 */

#ifndef EG_CORE_H_INCLUDED
#define EG_CORE_H_INCLUDED


typedef struct eg_module_s       eg_module_t;
typedef struct eg_conf_s         eg_conf_t;
typedef struct eg_cycle_s        eg_cycle_t;
typedef struct eg_pool_s         eg_pool_t;
typedef struct eg_log_s          eg_log_t;
typedef struct eg_open_file_s    eg_open_file_t;
typedef struct eg_command_s      eg_command_t;
typedef struct eg_event_s        eg_event_t;
typedef struct eg_connection_s   eg_connection_t;
typedef struct eg_listening_s    eg_listening_t;
typedef struct eg_shm_zone_s     eg_shm_zone_t;

typedef void (*eg_event_handler_pt)(eg_event_t *ev);
typedef void (*eg_connection_handler_pt)(eg_connection_t *c);


/* return codes, as in nginx: errors are negative, OK is zero */
#define EG_OK            0
#define EG_ERROR        -1
#define EG_AGAIN        -2
#define EG_BUSY         -3
#define EG_DONE         -4
#define EG_DECLINED     -5
#define EG_ABORT        -6


#include <eg_errno.h>
#include <eg_queue.h>
#include <eg_string.h>
#include <eg_rbtree.h>
#include <eg_times.h>
#include <eg_log.h>
#include <eg_palloc.h>
#include <eg_array.h>
#include <eg_regex.h>
#include <eg_list.h>
#include <eg_buf.h>
#include <eg_file.h>
#include <eg_inet.h>
#include <eg_shmtx.h>
#include <eg_shm.h>
#include <eg_slab.h>
#include <eg_metrics.h>
#include <eg_membership.h>
#include <eg_module.h>
#include <eg_conf_file.h>
#include <eg_connection.h>
#include <eg_cycle.h>
#include <eg_process.h>
#include <eg_process_cycle.h>


#define eg_abs(value)       (((value) >= 0) ? (value) : - (value))

#endif /* EG_CORE_H_INCLUDED */
