/*
 * Counted strings and the parsing helpers that config and protocol code
 * share.  An eg_str_t is not NUL-terminated unless its producer says so.
 */

#ifndef EG_STRING_H_INCLUDED
#define EG_STRING_H_INCLUDED


typedef struct {
    size_t      len;
    u_char     *data;
} eg_str_t;

typedef struct {
    eg_str_t    key;
    eg_str_t    value;
} eg_keyval_t;


#define eg_string(str)      { sizeof(str) - 1, (u_char *) str }
#define eg_null_string      { 0, NULL }
#define eg_str_set(str, text)                                                \
    (str)->len = sizeof(text) - 1; (str)->data = (u_char *) text
#define eg_str_null(str)    (str)->len = 0; (str)->data = NULL

/* printf helpers: printf("%.*s", EG_STR_ARG(s)) */
#define EG_STR_FMT          "%.*s"
#define EG_STR_ARG(s)       (int) (s).len, (const char *) (s).data

#define eg_tolower(c)       (u_char) ((c >= 'A' && c <= 'Z') ? (c | 0x20) : c)
#define eg_toupper(c)       (u_char) ((c >= 'a' && c <= 'z') ? (c & ~0x20) : c)

#define eg_strncmp(s1, s2, n)  strncmp((const char *) s1, (const char *) s2, n)
#define eg_strcmp(s1, s2)      strcmp((const char *) s1, (const char *) s2)
#define eg_strlen(s)           strlen((const char *) s)
#define eg_strchr(s1, c)       (u_char *) strchr((const char *) s1, (int) c)
#define eg_memzero(buf, n)     (void) memset(buf, 0, n)
#define eg_memset(buf, c, n)   (void) memset(buf, c, n)
#define eg_memcpy(dst, src, n) (void) memcpy(dst, src, n)
#define eg_cpymem(dst, src, n) (((u_char *) memcpy(dst, src, n)) + (n))
#define eg_memcmp(s1, s2, n)   memcmp((const char *) s1, (const char *) s2, n)

#define eg_str_eq(s, lit)                                                    \
    ((s)->len == sizeof(lit) - 1                                             \
     && eg_memcmp((s)->data, lit, sizeof(lit) - 1) == 0)


void eg_strlow(u_char *dst, u_char *src, size_t n);
eg_int_t eg_strcasecmp(u_char *s1, u_char *s2);
eg_int_t eg_strncasecmp(u_char *s1, u_char *s2, size_t n);
eg_int_t eg_str_cmp(eg_str_t *s1, eg_str_t *s2);
u_char *eg_strlchr(u_char *p, u_char *last, u_char c);
u_char *eg_strnstr(u_char *s1, char *s2, size_t len);
u_char *eg_cpystrn(u_char *dst, u_char *src, size_t n);
/* decimal digits of n at dst (room for EG_INT_T_LEN); returns the end */
u_char *eg_sprint_uint(u_char *dst, uint64_t n);

/*
 * Numbers.  Each returns EG_ERROR on an empty string, a stray character or
 * overflow; none accepts a sign or white space.
 */
eg_int_t eg_atoi(u_char *line, size_t n);
ssize_t eg_atosz(u_char *line, size_t n);
eg_int_t eg_hextoi(u_char *line, size_t n);

/* "10", "64k", "16m", "1g" -> bytes */
ssize_t eg_parse_size(eg_str_t *line);

/*
 * "500ms", "30s", "1m30s", "2h", "1d"; a bare number is seconds (or
 * milliseconds when is_msec says so, as nginx does for *_timeout).
 * Returns the value in ms (is_msec) or s, or EG_ERROR.
 */
eg_int_t eg_parse_time(eg_str_t *line, eg_uint_t is_msec);

/*
 * snprintf that always terminates and returns a pointer to the terminating
 * NUL (the end of what was written), never past buf + max - 1.
 */
u_char *eg_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
    EG_PRINTF(3, 4);
u_char *eg_vslprintf(u_char *buf, u_char *last, const char *fmt,
    va_list args);


/*
 * A writer that renders twice with the same code: first with p == NULL to
 * measure, then into memory of that size plus one byte, which
 * eg_writer_printf() needs for vsnprintf()'s terminating NUL.  Status
 * handlers use it to render from a snapshot without guessing buffer sizes.
 * len counts every byte asked for, so len > last - start after the second
 * pass means the output was cut short.
 */
typedef struct {
    u_char      *p;         /* where the next byte goes; NULL: measuring */
    u_char      *last;      /* end of the memory */
    size_t       len;       /* bytes rendered so far */
} eg_writer_t;

void eg_writer_printf(eg_writer_t *w, const char *fmt, ...) EG_PRINTF(2, 3);
void eg_writer_write(eg_writer_t *w, const u_char *data, size_t len);
/* the fast paths, for hot renderers: no format string to interpret */
void eg_writer_int(eg_writer_t *w, int64_t n);

#define eg_writer_str(w, s)                                                  \
    eg_writer_write(w, (const u_char *) (s), strlen((const char *) (s)))
#define eg_writer_lit(w, lit)                                                \
    eg_writer_write(w, (const u_char *) lit, sizeof(lit) - 1)
/* text made safe for HTML element content and attribute values */
void eg_writer_html(eg_writer_t *w, const u_char *data, size_t len);

#endif /* EG_STRING_H_INCLUDED */
