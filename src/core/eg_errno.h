/*
 * errno access and the error text used by the log.
 */

#ifndef EG_ERRNO_H_INCLUDED
#define EG_ERRNO_H_INCLUDED


#define eg_errno                errno
#define eg_socket_errno         errno
#define eg_set_errno(err)       errno = err

#define EG_EPERM                EPERM
#define EG_ENOENT               ENOENT
#define EG_ESRCH                ESRCH
#define EG_EINTR                EINTR
#define EG_ECHILD               ECHILD
#define EG_ENOMEM               ENOMEM
#define EG_EACCES               EACCES
#define EG_EBUSY                EBUSY
#define EG_EEXIST               EEXIST
#define EG_EINVAL               EINVAL
#define EG_ENOSPC               ENOSPC
#define EG_EPIPE                EPIPE
#define EG_EAGAIN               EAGAIN
#define EG_EINPROGRESS          EINPROGRESS
#define EG_EADDRINUSE           EADDRINUSE
#define EG_ECONNABORTED         ECONNABORTED
#define EG_ECONNRESET           ECONNRESET
#define EG_ENOTCONN             ENOTCONN
#define EG_ETIMEDOUT            ETIMEDOUT
#define EG_ECONNREFUSED         ECONNREFUSED
#define EG_EHOSTUNREACH         EHOSTUNREACH
#define EG_EMFILE               EMFILE
#define EG_ENFILE               ENFILE

#endif /* EG_ERRNO_H_INCLUDED */
