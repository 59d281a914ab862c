/*
 * The junk generator of bench/flood.sh: UDP datagrams that are not
 * gossip, at a steady rate, to one node's gossip port.
 *
 *     flood SOURCE DESTINATION PORT RATE SECONDS [SIZE]
 *
 * sends RATE datagrams a second, each SIZE bytes (64) starting "JUNK"
 * (no magic), from SOURCE to DESTINATION:PORT for SECONDS, and prints what
 * it sent and in how long: "sent 1999872 in 20.001 s".  Batches of
 * sendmmsg() keep the cost per datagram low; the pace follows the
 * monotonic clock, so a rate this machine cannot reach shows as fewer
 * sent, not as a longer run.  Loopback only: the script gives it
 * 127.0.0.x addresses.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


#define FLOOD_BATCH  64             /* datagrams per sendmmsg() */
#define FLOOD_SIZE   1400           /* the largest datagram, as gossip's */


static double
flood_now(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static int
flood_addr(const char *text, uint16_t port, struct sockaddr_in *sin)
{
    memset(sin, 0, sizeof(struct sockaddr_in));
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);

    return inet_pton(AF_INET, text, &sin->sin_addr) == 1 ? 0 : -1;
}


int
main(int argc, char **argv)
{
    int                 fd, n, i, size;
    char                payload[FLOOD_SIZE];
    double              rate, seconds, start, elapsed, wait;
    uint64_t            sent, due, errors;
    struct iovec        iov[FLOOD_BATCH];
    struct mmsghdr      msgs[FLOOD_BATCH];
    struct timespec     pause;
    struct sockaddr_in  from, to;

    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: flood SOURCE DESTINATION PORT RATE "
                "SECONDS [SIZE]\n");
        return 2;
    }

    rate = atof(argv[4]);
    seconds = atof(argv[5]);
    size = (argc == 7) ? atoi(argv[6]) : 64;

    if (flood_addr(argv[1], 0, &from) != 0
        || flood_addr(argv[2], (uint16_t) atoi(argv[3]), &to) != 0
        || rate <= 0 || seconds <= 0 || size < 4 || size > FLOOD_SIZE)
    {
        fprintf(stderr, "flood: bad arguments\n");
        return 2;
    }

    fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd == -1
        || bind(fd, (struct sockaddr *) &from, sizeof(from)) == -1
        || connect(fd, (struct sockaddr *) &to, sizeof(to)) == -1)
    {
        perror("flood: socket");
        return 1;
    }

    memset(payload, 'x', sizeof(payload));
    memcpy(payload, "JUNK", 4);

    memset(msgs, 0, sizeof(msgs));

    for (i = 0; i < FLOOD_BATCH; i++) {
        iov[i].iov_base = payload;
        iov[i].iov_len = (size_t) size;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    sent = 0;
    errors = 0;
    start = flood_now();

    for ( ;; ) {
        elapsed = flood_now() - start;

        if (elapsed >= seconds) {
            break;
        }

        due = (uint64_t) (elapsed * rate);

        if (sent >= due) {
            /* ahead of the pace: sleep until the next one is due */
            wait = (double) (sent + 1) / rate - elapsed;
            wait = wait > 0.001 ? 0.001 : wait;
            pause.tv_sec = 0;
            pause.tv_nsec = (long) (wait * 1e9);
            (void) nanosleep(&pause, NULL);
            continue;
        }

        n = (due - sent > FLOOD_BATCH) ? FLOOD_BATCH : (int) (due - sent);

        n = sendmmsg(fd, msgs, (unsigned) n, 0);

        if (n == -1) {
            /* a full buffer or an ICMP error of an earlier one: go on */
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR
                || errno == ECONNREFUSED)
            {
                errors++;
                continue;
            }

            perror("flood: sendmmsg");
            return 1;
        }

        sent += (uint64_t) n;
    }

    elapsed = flood_now() - start;

    printf("sent %llu in %.3f s, %llu errors\n", (unsigned long long) sent,
           elapsed, (unsigned long long) errors);

    return 0;
}
