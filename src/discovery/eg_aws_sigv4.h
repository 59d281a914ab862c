/*
 * AWS Signature Version 4 for one HTTP request.
 *
 * The signer is a pure function: the request's parts, the credentials
 * and the time in, the headers to send out; no I/O, no clock, no global
 * state, so that a unit test can hold it against botocore's.  It signs
 * the way botocore's SigV4Auth does for a non-S3 service:
 *
 *     CanonicalRequest = METHOD \n
 *                        URI (dot segments removed, URI-encoded) \n
 *                        QUERY (pairs URI-encoded, sorted by key, value) \n
 *                        HEADERS ("name:trimmed value\n", sorted) \n
 *                        SIGNED ("host;x-amz-date;...") \n
 *                        hex(SHA256(payload))
 *     StringToSign     = "AWS4-HMAC-SHA256" \n DATE \n SCOPE \n
 *                        hex(SHA256(CanonicalRequest))
 *     SCOPE            = YYYYMMDD/REGION/SERVICE/aws4_request
 *     key              = HMAC(HMAC(HMAC(HMAC("AWS4" secret, YYYYMMDD),
 *                        REGION), SERVICE), "aws4_request")
 *     Authorization    = AWS4-HMAC-SHA256 Credential=KEYID/SCOPE,
 *                        SignedHeaders=SIGNED, Signature=hex(HMAC(key,
 *                        StringToSign))
 *
 * The signed headers are always host and x-amz-date, x-amz-security-token
 * when the credentials are temporary ones, and whatever the caller adds.
 */

#ifndef EG_AWS_SIGV4_H_INCLUDED
#define EG_AWS_SIGV4_H_INCLUDED


#include <eg_config.h>
#include <eg_core.h>


/* "20150830T123600Z" */
#define EG_AWS_DATE_LEN      16


typedef struct {
    eg_str_t             access_key;    /* AKIA... (long-term), ASIA... */
    eg_str_t             secret_key;
    eg_str_t             token;         /* session token; empty: none */
} eg_aws_creds_t;


typedef struct {
    eg_str_t             method;        /* "GET", "POST" */
    eg_str_t             host;          /* as the Host header will say it:
                                           lowercase, ":port" only when
                                           not the scheme's default */
    eg_str_t             path;          /* as in the request line: "/" */
    eg_array_t          *query;         /* eg_keyval_t, not encoded; NULL:
                                           none */
    eg_array_t          *headers;       /* eg_keyval_t more to sign (and
                                           send), e.g. Content-Type; not
                                           Host, X-Amz-Date or the token */
    eg_str_t             body;          /* the payload, as sent */
    eg_str_t             region;        /* "us-east-1" */
    eg_str_t             service;       /* "ec2" */
    time_t               now;           /* the signing time (UTC) */
} eg_aws_request_t;


typedef struct {
    eg_str_t             query;         /* the canonical query: what goes
                                           after "?" in the URL */
    eg_array_t          *headers;       /* eg_keyval_t to send besides the
                                           caller's: X-Amz-Date, then
                                           X-Amz-Security-Token if any,
                                           then Authorization */
    eg_str_t             authorization; /* also in headers */
    eg_str_t             canonical;     /* the canonical request */
    eg_str_t             string_to_sign;
} eg_aws_signed_t;


/*
 * Signs the request; everything out is allocated from pool.  EG_ERROR
 * only when the memory or OpenSSL fails.
 */
eg_int_t eg_aws_sigv4_sign(eg_pool_t *pool, eg_aws_request_t *req,
    eg_aws_creds_t *creds, eg_aws_signed_t *out);

/*
 * "k=v&k=v" with every byte but A-Z a-z 0-9 - _ . ~ written %XX, pairs
 * sorted by key, then value: the canonical query, and a form body (as
 * application/x-www-form-urlencoded) that any AWS query API reads.
 */
eg_int_t eg_aws_query_encode(eg_pool_t *pool, eg_array_t *params,
    eg_str_t *out);

/* "YYYYMMDDTHHMMSSZ" of a time, into EG_AWS_DATE_LEN bytes */
void eg_aws_date(u_char *buf, time_t t);


#endif /* EG_AWS_SIGV4_H_INCLUDED */
