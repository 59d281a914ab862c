/*
 * Cached time.  Reading the clock on every use is wasteful and makes one
 * event-loop iteration see several "nows"; instead the loop calls
 * eg_time_update() once after waking, and everything reads the cache.
 * eg_current_msec is monotonic (timers), eg_time() is wall-clock seconds.
 */

#ifndef EG_TIMES_H_INCLUDED
#define EG_TIMES_H_INCLUDED


typedef struct {
    time_t      sec;        /* wall clock, seconds since the epoch */
    eg_uint_t   msec;       /* and the milliseconds within it */
    eg_int_t    gmtoff;     /* local offset from UTC, minutes */
} eg_time_t;


void eg_time_init(void);
void eg_time_update(void);

/* the monotonic clock, read now, uncached */
eg_msec_t eg_monotonic_msec(void);

/* formats t as RFC 7231 (HTTP) and ISO 8601 UTC text */
u_char *eg_http_time(u_char *buf, time_t t);
u_char *eg_iso8601_time(u_char *buf, time_t t);

extern volatile eg_time_t  *eg_cached_time;
extern time_t               eg_start_time;  /* when this daemon started */
extern volatile eg_msec_t   eg_current_msec;

/* "2026/11/26 03:38:24", local time, for the error log */
extern volatile eg_str_t    eg_cached_err_log_time;
/* "Thu, 26 Nov 2026 03:38:24 GMT" */
extern volatile eg_str_t    eg_cached_http_time;
/* "2026-11-26T03:38:24Z" */
extern volatile eg_str_t    eg_cached_iso8601_time;
/* "26/Nov/2026:03:38:24 +0000", local time, for access logs */
extern volatile eg_str_t    eg_cached_http_log_time;

#define eg_time()           eg_cached_time->sec
#define eg_timeofday()      ((eg_time_t *) eg_cached_time)

#define EG_HTTP_TIME_LEN    (sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1)
#define EG_ISO8601_TIME_LEN (sizeof("1970-09-28T06:00:00Z") - 1)
#define EG_ERR_LOG_TIME_LEN (sizeof("1970/09/28 12:00:00") - 1)
#define EG_HTTP_LOG_TIME_LEN (sizeof("28/Sep/1970:12:00:00 +0600") - 1)

#endif /* EG_TIMES_H_INCLUDED */
