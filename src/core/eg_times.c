/*
 * Time cache.  Only the event loop and the master's signal loop update
 * it, never a signal handler, so a single copy is enough: no reader can be
 * interrupted half-way through an update by the writer.
 */

#include <eg_config.h>
#include <eg_core.h>


static eg_time_t  eg_time_cache;

volatile eg_time_t  *eg_cached_time = &eg_time_cache;
volatile eg_msec_t   eg_current_msec;
time_t               eg_start_time;

volatile eg_str_t    eg_cached_err_log_time;
volatile eg_str_t    eg_cached_http_time;
volatile eg_str_t    eg_cached_iso8601_time;
volatile eg_str_t    eg_cached_http_log_time;

static u_char  cached_err_log_time[EG_ERR_LOG_TIME_LEN + 1];
static u_char  cached_http_time[EG_HTTP_TIME_LEN + 1];
static u_char  cached_iso8601_time[EG_ISO8601_TIME_LEN + 1];
static u_char  cached_http_log_time[EG_HTTP_LOG_TIME_LEN + 1];

static time_t  cached_second = (time_t) -1;

/* bounded so that the formats have fixed widths (and gcc can see it) */
#define eg_tm_2(v)       ((unsigned) (v) % 100)
#define eg_tm_year(tm)   ((unsigned) ((tm)->tm_year + 1900) % 10000)

static const char  *week[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
                               "Sat" };
static const char  *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };


void
eg_time_init(void)
{
    eg_cached_err_log_time.len = EG_ERR_LOG_TIME_LEN;
    eg_cached_http_time.len = EG_HTTP_TIME_LEN;
    eg_cached_iso8601_time.len = EG_ISO8601_TIME_LEN;
    eg_cached_http_log_time.len = EG_HTTP_LOG_TIME_LEN;

    eg_cached_err_log_time.data = cached_err_log_time;
    eg_cached_http_time.data = cached_http_time;
    eg_cached_iso8601_time.data = cached_iso8601_time;
    eg_cached_http_log_time.data = cached_http_log_time;

    eg_time_update();

    eg_start_time = eg_time_cache.sec;
}


eg_msec_t
eg_monotonic_msec(void)
{
    struct timespec  ts;

#if defined(CLOCK_MONOTONIC_COARSE) && (EG_LINUX)
    /* a few ms of granularity is plenty for timers and saves a syscall */
    (void) clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
#endif

    return (eg_msec_t) ts.tv_sec * 1000 + (eg_msec_t) ts.tv_nsec / 1000000;
}


void
eg_time_update(void)
{
    struct tm        tm;
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    eg_time_cache.sec = ts.tv_sec;
    eg_time_cache.msec = (eg_uint_t) (ts.tv_nsec / 1000000);

    eg_current_msec = eg_monotonic_msec();

    if (ts.tv_sec == cached_second) {
        return;
    }

    cached_second = ts.tv_sec;

    (void) eg_http_time(cached_http_time, ts.tv_sec);
    (void) eg_iso8601_time(cached_iso8601_time, ts.tv_sec);

    (void) localtime_r(&ts.tv_sec, &tm);
    eg_time_cache.gmtoff = (eg_int_t) (tm.tm_gmtoff / 60);

    (void) snprintf((char *) cached_err_log_time,
                    sizeof(cached_err_log_time),
                    "%04u/%02u/%02u %02u:%02u:%02u",
                    eg_tm_year(&tm), eg_tm_2(tm.tm_mon + 1),
                    eg_tm_2(tm.tm_mday), eg_tm_2(tm.tm_hour),
                    eg_tm_2(tm.tm_min), eg_tm_2(tm.tm_sec));

    (void) snprintf((char *) cached_http_log_time,
                    sizeof(cached_http_log_time),
                    "%02u/%s/%04u:%02u:%02u:%02u %c%02u%02u",
                    eg_tm_2(tm.tm_mday), months[tm.tm_mon % 12],
                    eg_tm_year(&tm), eg_tm_2(tm.tm_hour),
                    eg_tm_2(tm.tm_min), eg_tm_2(tm.tm_sec),
                    tm.tm_gmtoff < 0 ? '-' : '+',
                    eg_tm_2(eg_abs(tm.tm_gmtoff) / 3600),
                    eg_tm_2(eg_abs(tm.tm_gmtoff) % 3600 / 60));
}


u_char *
eg_http_time(u_char *buf, time_t t)
{
    struct tm  tm;

    (void) gmtime_r(&t, &tm);

    (void) snprintf((char *) buf, EG_HTTP_TIME_LEN + 1,
                    "%s, %02u %s %04u %02u:%02u:%02u GMT",
                    week[tm.tm_wday % 7], eg_tm_2(tm.tm_mday),
                    months[tm.tm_mon % 12], eg_tm_year(&tm),
                    eg_tm_2(tm.tm_hour), eg_tm_2(tm.tm_min),
                    eg_tm_2(tm.tm_sec));

    return buf + EG_HTTP_TIME_LEN;
}


u_char *
eg_iso8601_time(u_char *buf, time_t t)
{
    struct tm  tm;

    (void) gmtime_r(&t, &tm);

    (void) snprintf((char *) buf, EG_ISO8601_TIME_LEN + 1,
                    "%04u-%02u-%02uT%02u:%02u:%02uZ",
                    eg_tm_year(&tm), eg_tm_2(tm.tm_mon + 1),
                    eg_tm_2(tm.tm_mday), eg_tm_2(tm.tm_hour),
                    eg_tm_2(tm.tm_min), eg_tm_2(tm.tm_sec));

    return buf + EG_ISO8601_TIME_LEN;
}
