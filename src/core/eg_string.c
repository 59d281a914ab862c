/*
 * String helpers.  Number parsers are strict on purpose: configuration and
 * wire input must be rejected, never silently truncated.
 */

#include <eg_config.h>
#include <eg_core.h>


void
eg_strlow(u_char *dst, u_char *src, size_t n)
{
    while (n) {
        *dst = eg_tolower(*src);
        dst++;
        src++;
        n--;
    }
}


eg_int_t
eg_strcasecmp(u_char *s1, u_char *s2)
{
    eg_uint_t  c1, c2;

    for ( ;; ) {
        c1 = eg_tolower(*s1);
        c2 = eg_tolower(*s2);
        s1++;
        s2++;

        if (c1 != c2) {
            return c1 < c2 ? -1 : 1;
        }

        if (c1 == 0) {
            return 0;
        }
    }
}


eg_int_t
eg_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    eg_uint_t  c1, c2;

    while (n) {
        c1 = eg_tolower(*s1);
        c2 = eg_tolower(*s2);
        s1++;
        s2++;

        if (c1 != c2) {
            return c1 < c2 ? -1 : 1;
        }

        if (c1 == 0) {
            return 0;
        }

        n--;
    }

    return 0;
}


/* orders by content first, then by length: a prefix sorts first */
eg_int_t
eg_str_cmp(eg_str_t *s1, eg_str_t *s2)
{
    int     rc;
    size_t  n;

    n = eg_min(s1->len, s2->len);

    if (n) {
        rc = memcmp(s1->data, s2->data, n);
        if (rc != 0) {
            return rc < 0 ? -1 : 1;
        }
    }

    if (s1->len == s2->len) {
        return 0;
    }

    return s1->len < s2->len ? -1 : 1;
}


u_char *
eg_strlchr(u_char *p, u_char *last, u_char c)
{
    while (p < last) {
        if (*p == c) {
            return p;
        }

        p++;
    }

    return NULL;
}


/* finds the NUL-terminated s2 in the first len bytes of s1 */
u_char *
eg_strnstr(u_char *s1, char *s2, size_t len)
{
    size_t   n;
    u_char  *last;

    n = strlen(s2);

    if (n == 0) {
        return s1;
    }

    if (n > len) {
        return NULL;
    }

    last = s1 + len - n;

    for ( /* void */ ; s1 <= last; s1++) {
        if (*s1 == (u_char) s2[0] && memcmp(s1, s2, n) == 0) {
            return s1;
        }
    }

    return NULL;
}


/* copies at most n - 1 bytes and always terminates; returns the NUL */
u_char *
eg_cpystrn(u_char *dst, u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n) {
        *dst = *src;

        if (*dst == '\0') {
            return dst;
        }

        dst++;
        src++;
    }

    *dst = '\0';

    return dst;
}


u_char *
eg_sprint_uint(u_char *dst, uint64_t n)
{
    u_char   buf[EG_INT_T_LEN], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return eg_cpymem(dst, p, (size_t) (buf + sizeof(buf) - p));
}


eg_int_t
eg_atoi(u_char *line, size_t n)
{
    eg_int_t  value, cutoff, cutlim;

    if (n == 0) {
        return EG_ERROR;
    }

    cutoff = EG_MAX_INT_T_VALUE / 10;
    cutlim = EG_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return EG_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return EG_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


ssize_t
eg_atosz(u_char *line, size_t n)
{
    return (ssize_t) eg_atoi(line, n);
}


eg_int_t
eg_hextoi(u_char *line, size_t n)
{
    u_char    c, ch;
    eg_int_t  value, cutoff;

    if (n == 0) {
        return EG_ERROR;
    }

    cutoff = EG_MAX_INT_T_VALUE / 16;

    for (value = 0; n--; line++) {
        if (value > cutoff) {
            return EG_ERROR;
        }

        ch = *line;

        if (ch >= '0' && ch <= '9') {
            value = value * 16 + (ch - '0');
            continue;
        }

        c = (u_char) (ch | 0x20);

        if (c >= 'a' && c <= 'f') {
            value = value * 16 + (c - 'a' + 10);
            continue;
        }

        return EG_ERROR;
    }

    return value;
}


ssize_t
eg_parse_size(eg_str_t *line)
{
    u_char   unit;
    size_t   len;
    ssize_t  size, scale, max;

    len = line->len;

    if (len == 0) {
        return EG_ERROR;
    }

    unit = line->data[len - 1];

    switch (unit) {
    case 'K':
    case 'k':
        len--;
        max = EG_MAX_INT_T_VALUE / 1024;
        scale = 1024;
        break;

    case 'M':
    case 'm':
        len--;
        max = EG_MAX_INT_T_VALUE / (1024 * 1024);
        scale = 1024 * 1024;
        break;

    case 'G':
    case 'g':
        len--;
        max = EG_MAX_INT_T_VALUE / (1024 * 1024 * 1024);
        scale = 1024 * 1024 * 1024;
        break;

    default:
        max = EG_MAX_INT_T_VALUE;
        scale = 1;
    }

    size = eg_atosz(line->data, len);

    if (size == EG_ERROR || size > max) {
        return EG_ERROR;
    }

    return size * scale;
}


eg_int_t
eg_parse_time(eg_str_t *line, eg_uint_t is_msec)
{
    u_char     *p, *last;
    eg_int_t    value, total, scale, max, cutoff, cutlim;
    eg_uint_t   valid;
    enum {
        st_start = 0,
        st_year,
        st_month,
        st_week,
        st_day,
        st_hour,
        st_min,
        st_sec,
        st_msec
    } step, next;

    valid = 0;
    value = 0;
    total = 0;
    cutoff = EG_MAX_INT_T_VALUE / 10;
    cutlim = EG_MAX_INT_T_VALUE % 10;
    step = st_start;

    p = line->data;
    last = p + line->len;

    while (p < last) {

        if (*p >= '0' && *p <= '9') {
            if (value >= cutoff && (value > cutoff || *p - '0' > cutlim)) {
                return EG_ERROR;
            }

            value = value * 10 + (*p++ - '0');
            valid = 1;
            continue;
        }

        /* a unit must follow a number and be smaller than the one before */

        if (!valid) {
            return EG_ERROR;
        }

        switch (*p++) {
        case 'y': next = st_year;  scale = 60 * 60 * 24 * 365; break;
        case 'M': next = st_month; scale = 60 * 60 * 24 * 30;  break;
        case 'w': next = st_week;  scale = 60 * 60 * 24 * 7;   break;
        case 'd': next = st_day;   scale = 60 * 60 * 24;       break;
        case 'h': next = st_hour;  scale = 60 * 60;            break;
        case 's': next = st_sec;   scale = 1;                  break;

        case 'm':
            if (p < last && *p == 's') {
                p++;
                next = st_msec;
                scale = 1;
                break;
            }

            next = st_min;
            scale = 60;
            break;

        default:
            return EG_ERROR;
        }

        if (next <= step) {
            return EG_ERROR;
        }

        step = next;

        if (step == st_msec) {
            if (!is_msec) {
                return EG_ERROR;
            }

        } else if (is_msec) {
            scale *= 1000;
        }

        max = EG_MAX_INT_T_VALUE / scale;

        if (value > max || total > EG_MAX_INT_T_VALUE - value * scale) {
            return EG_ERROR;
        }

        total += value * scale;
        value = 0;
        valid = 0;
    }

    if (!valid) {
        /* "" is an error; "30s" ends on a unit and is complete */
        return step == st_start ? EG_ERROR : total;
    }

    /* a trailing bare number counts as seconds: "30", "1m30" */

    if (step >= st_sec) {
        return EG_ERROR;
    }

    scale = is_msec ? 1000 : 1;

    if (value > EG_MAX_INT_T_VALUE / scale
        || total > EG_MAX_INT_T_VALUE - value * scale)
    {
        return EG_ERROR;
    }

    return total + value * scale;
}


u_char *
eg_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    int     n;
    size_t  room;

    if (buf >= last) {
        return buf;
    }

    room = (size_t) (last - buf);

    n = vsnprintf((char *) buf, room, fmt, args);

    if (n < 0) {
        *buf = '\0';
        return buf;
    }

    if ((size_t) n >= room) {
        return last - 1;
    }

    return buf + n;
}


u_char *
eg_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = eg_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}


void
eg_writer_printf(eg_writer_t *w, const char *fmt, ...)
{
    int       n;
    size_t    room;
    va_list   args;

    room = (w->p && w->p < w->last) ? (size_t) (w->last - w->p) : 0;

    va_start(args, fmt);
    n = vsnprintf(room ? (char *) w->p : NULL, room, fmt, args);
    va_end(args);

    if (n < 0) {
        return;
    }

    w->len += (size_t) n;

    if (w->p) {
        /* on truncation stop at the end; the caller sized it wrong */
        w->p += eg_min((size_t) n, room ? room - 1 : 0);
    }
}


void
eg_writer_write(eg_writer_t *w, const u_char *data, size_t len)
{
    size_t  n;

    w->len += len;

    if (w->p == NULL) {
        return;
    }

    n = eg_min(len, (size_t) (w->last - w->p));

    if (n) {
        eg_memcpy(w->p, data, n);
        w->p += n;
    }
}


void
eg_writer_int(eg_writer_t *w, int64_t n)
{
    u_char    buf[EG_INT_T_LEN + 1], *p;
    uint64_t  u;

    p = buf + sizeof(buf);
    u = (n < 0) ? (uint64_t) 0 - (uint64_t) n : (uint64_t) n;

    do {
        *--p = (u_char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (n < 0) {
        *--p = '-';
    }

    eg_writer_write(w, p, (size_t) (buf + sizeof(buf) - p));
}


void
eg_writer_html(eg_writer_t *w, const u_char *data, size_t len)
{
    const u_char  *last, *start;

    start = data;

    for (last = data + len; data < last; data++) {
        switch (*data) {
        case '<':
        case '>':
        case '&':
        case '"':
        case '\'':
            eg_writer_write(w, start, (size_t) (data - start));
            eg_writer_printf(w, "&#%d;", *data);
            start = data + 1;
            break;
        }
    }

    eg_writer_write(w, start, (size_t) (last - start));
}
