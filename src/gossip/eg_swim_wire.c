/*
 * Encoding and decoding of the gossip wire format (docs/protocol.md).
 *
 * Decoding never trusts a length: each read goes through a bounded
 * reader whose first overflow marks it failed, and a message is decoded
 * whole, records included, before anything acts on it, so a malformed
 * packet is dropped without having changed any state.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_swim_wire.h>
#include <openssl/evp.h>


/* a datagram holds a header, a message and at least one record */
_Static_assert(EG_SWIM_HEADER_LEN == 4 + 1 + 1 + 4, "header layout");
_Static_assert(EG_SWIM_MAX_PACKET > EG_SWIM_HEADER_LEN
               + EG_SWIM_CRYPTO_OVERHEAD + 1 + 4 + 2 * (1 + EG_SWIM_ID_MAX)
               + 19 + 1 + 1 + 1 + 8 + 1 + EG_SWIM_ID_MAX + 19 + 2
               + EG_SWIM_TAGS_MAX,
               "a ping with a full alive record must fit a datagram");
_Static_assert(EG_SWIM_ID_MAX <= 255 && EG_SWIM_NAME_MAX <= 255,
               "ids and names have one-byte lengths");
_Static_assert(EG_SWIM_TAGS_MAX <= 65535, "tags have a two-byte length");
_Static_assert(EG_SWIM_DROP_MALFORMED != EG_OK
               && EG_SWIM_DROP_UNKNOWN != EG_OK,
               "eg_swim_decode_message() returns them in place of EG_OK");


void
eg_swim_put_u8(eg_swim_buf_t *b, uint8_t v)
{
    if (b->error || b->p + 1 > b->last) {
        b->error = 1;
        return;
    }

    *b->p++ = v;
}


void
eg_swim_put_u16(eg_swim_buf_t *b, uint16_t v)
{
    if (b->error || b->p + 2 > b->last) {
        b->error = 1;
        return;
    }

    *b->p++ = (u_char) (v >> 8);
    *b->p++ = (u_char) v;
}


void
eg_swim_put_u32(eg_swim_buf_t *b, uint32_t v)
{
    if (b->error || b->p + 4 > b->last) {
        b->error = 1;
        return;
    }

    *b->p++ = (u_char) (v >> 24);
    *b->p++ = (u_char) (v >> 16);
    *b->p++ = (u_char) (v >> 8);
    *b->p++ = (u_char) v;
}


void
eg_swim_put_u64(eg_swim_buf_t *b, uint64_t v)
{
    eg_swim_put_u32(b, (uint32_t) (v >> 32));
    eg_swim_put_u32(b, (uint32_t) v);
}


void
eg_swim_put_bytes(eg_swim_buf_t *b, const u_char *p, size_t len)
{
    if (b->error || (size_t) (b->last - b->p) < len) {
        b->error = 1;
        return;
    }

    if (len) {
        eg_memcpy(b->p, p, len);
        b->p += len;
    }
}


void
eg_swim_put_addr(eg_swim_buf_t *b, eg_swim_addr_t *a)
{
    eg_swim_put_u8(b, a->family);
    eg_swim_put_u16(b, a->port);
    eg_swim_put_bytes(b, a->ip, a->family == 6 ? 16 : 4);
}


uint8_t
eg_swim_get_u8(eg_swim_buf_t *b)
{
    if (b->error || b->p + 1 > b->last) {
        b->error = 1;
        return 0;
    }

    return *b->p++;
}


uint16_t
eg_swim_get_u16(eg_swim_buf_t *b)
{
    uint16_t  v;

    if (b->error || b->p + 2 > b->last) {
        b->error = 1;
        return 0;
    }

    v = (uint16_t) ((b->p[0] << 8) | b->p[1]);
    b->p += 2;

    return v;
}


uint32_t
eg_swim_get_u32(eg_swim_buf_t *b)
{
    uint32_t  v;

    if (b->error || b->p + 4 > b->last) {
        b->error = 1;
        return 0;
    }

    v = ((uint32_t) b->p[0] << 24) | ((uint32_t) b->p[1] << 16)
        | ((uint32_t) b->p[2] << 8) | (uint32_t) b->p[3];
    b->p += 4;

    return v;
}


uint64_t
eg_swim_get_u64(eg_swim_buf_t *b)
{
    uint64_t  hi, lo;

    hi = eg_swim_get_u32(b);
    lo = eg_swim_get_u32(b);

    /* like the others, 0 on overflow: not half a number */
    return b->error ? 0 : (hi << 32) | lo;
}


u_char *
eg_swim_get_bytes(eg_swim_buf_t *b, size_t len)
{
    u_char  *p;

    if (b->error || (size_t) (b->last - b->p) < len) {
        b->error = 1;
        return NULL;
    }

    p = b->p;
    b->p += len;

    return p;
}


void
eg_swim_get_addr(eg_swim_buf_t *b, eg_swim_addr_t *a)
{
    u_char  *ip;

    eg_memzero(a, sizeof(eg_swim_addr_t));

    a->family = eg_swim_get_u8(b);

    if (a->family != 4 && a->family != 6) {
        b->error = 1;
        return;
    }

    a->port = eg_swim_get_u16(b);

    ip = eg_swim_get_bytes(b, a->family == 6 ? 16 : 4);

    if (ip) {
        eg_memcpy(a->ip, ip, a->family == 6 ? 16 : 4);
    }
}


/* FNV-1a: stable across builds and platforms, which is all it must be */
uint32_t
eg_swim_cluster_hash(u_char *name, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261U;

    for (i = 0; i < len; i++) {
        h ^= name[i];
        h *= 16777619U;
    }

    return h;
}


void
eg_swim_put_header(eg_swim_buf_t *b, uint8_t flags, uint32_t cluster)
{
    eg_swim_put_u32(b, EG_SWIM_MAGIC);
    eg_swim_put_u8(b, EG_SWIM_VERSION);
    eg_swim_put_u8(b, flags);
    eg_swim_put_u32(b, cluster);
}


eg_int_t
eg_swim_check_header(u_char *buf, size_t len, uint32_t cluster,
    uint8_t *flags, eg_uint_t *reason)
{
    uint8_t        version;
    eg_swim_buf_t  b;

    *flags = 0;

    if (len < EG_SWIM_HEADER_LEN) {
        *reason = EG_SWIM_DROP_SHORT;
        return EG_ERROR;
    }

    b.p = buf;
    b.last = buf + len;
    b.error = 0;

    if (eg_swim_get_u32(&b) != EG_SWIM_MAGIC) {
        *reason = EG_SWIM_DROP_MAGIC;
        return EG_ERROR;
    }

    version = eg_swim_get_u8(&b);

    if (version < EG_SWIM_VERSION_MIN || version > EG_SWIM_VERSION_MAX) {
        *reason = EG_SWIM_DROP_VERSION;
        return EG_ERROR;
    }

    *flags = eg_swim_get_u8(&b);

    if (eg_swim_get_u32(&b) != cluster) {
        *reason = EG_SWIM_DROP_CLUSTER;
        return EG_ERROR;
    }

    if (*flags & ~(EG_SWIM_F_ENCRYPTED|EG_SWIM_F_COMPRESSED)) {
        /* a flag from a newer version: we cannot know what it means */
        *reason = EG_SWIM_DROP_VERSION;
        return EG_ERROR;
    }

    return EG_OK;
}


size_t
eg_swim_record_size(eg_swim_record_t *r)
{
    size_t  size;

    size = 1 + 1 + 8 + 1 + r->id_len;

    if (r->flags & EG_SWIM_R_ADDR) {
        size += 1 + 2 + (r->addr.family == 6 ? 16 : 4) + 2 + r->tags_len;
    }

    if (r->flags & EG_SWIM_R_FROM) {
        size += 1 + r->from_len;
    }

    return size;
}


void
eg_swim_put_record(eg_swim_buf_t *b, eg_swim_record_t *r)
{
    eg_swim_put_u8(b, r->state);
    eg_swim_put_u8(b, r->flags);
    eg_swim_put_u64(b, r->incarnation);
    eg_swim_put_u8(b, r->id_len);
    eg_swim_put_bytes(b, r->id, r->id_len);

    if (r->flags & EG_SWIM_R_ADDR) {
        eg_swim_put_addr(b, &r->addr);
        eg_swim_put_u16(b, r->tags_len);
        eg_swim_put_bytes(b, r->tags, r->tags_len);
    }

    if (r->flags & EG_SWIM_R_FROM) {
        eg_swim_put_u8(b, r->from_len);
        eg_swim_put_bytes(b, r->from, r->from_len);
    }
}


eg_int_t
eg_swim_get_record(eg_swim_buf_t *b, eg_swim_record_t *r)
{
    eg_memzero(r, sizeof(eg_swim_record_t));

    r->state = eg_swim_get_u8(b);
    r->flags = eg_swim_get_u8(b);
    r->incarnation = eg_swim_get_u64(b);
    r->id_len = eg_swim_get_u8(b);
    r->id = eg_swim_get_bytes(b, r->id_len);

    if (r->state >= EG_MEMBER_STATES
        || (r->flags & ~(EG_SWIM_R_ADDR|EG_SWIM_R_FROM))
        || r->id_len == 0 || r->id_len > EG_SWIM_ID_MAX)
    {
        b->error = 1;
        return EG_ERROR;
    }

    if (r->flags & EG_SWIM_R_ADDR) {
        eg_swim_get_addr(b, &r->addr);
        r->tags_len = eg_swim_get_u16(b);

        if (r->tags_len > EG_SWIM_TAGS_MAX) {
            b->error = 1;
            return EG_ERROR;
        }

        r->tags = eg_swim_get_bytes(b, r->tags_len);

        if (!b->error && eg_swim_tags_valid(r->tags, r->tags_len) != EG_OK)
        {
            b->error = 1;
            return EG_ERROR;
        }
    }

    if (r->flags & EG_SWIM_R_FROM) {
        r->from_len = eg_swim_get_u8(b);
        r->from = eg_swim_get_bytes(b, r->from_len);

        if (r->from_len == 0 || r->from_len > EG_SWIM_ID_MAX) {
            b->error = 1;
            return EG_ERROR;
        }
    }

    /* an alive record must say where the member is */

    if (r->state == EG_MEMBER_ALIVE && !(r->flags & EG_SWIM_R_ADDR)) {
        b->error = 1;
        return EG_ERROR;
    }

    return b->error ? EG_ERROR : EG_OK;
}


static eg_int_t
eg_swim_get_id(eg_swim_buf_t *b, u_char **id, uint8_t *len)
{
    *len = eg_swim_get_u8(b);
    *id = eg_swim_get_bytes(b, *len);

    if (b->error || *len == 0 || *len > EG_SWIM_ID_MAX) {
        b->error = 1;
        return EG_ERROR;
    }

    return EG_OK;
}


eg_int_t
eg_swim_decode_message(u_char *buf, size_t len, eg_swim_message_t *msg)
{
    eg_uint_t      i;
    eg_swim_buf_t  b;

    b.p = buf;
    b.last = buf + len;
    b.error = 0;

    msg->type = eg_swim_get_u8(&b);
    msg->seq = 0;
    msg->target = NULL;
    msg->target_len = 0;
    msg->source = NULL;
    msg->source_len = 0;
    msg->nrecords = 0;

    switch (msg->type) {

    case EG_SWIM_PING:
        msg->seq = eg_swim_get_u32(&b);
        (void) eg_swim_get_id(&b, &msg->target, &msg->target_len);
        (void) eg_swim_get_id(&b, &msg->source, &msg->source_len);
        break;

    case EG_SWIM_PING_REQ:
        msg->seq = eg_swim_get_u32(&b);
        (void) eg_swim_get_id(&b, &msg->target, &msg->target_len);
        eg_swim_get_addr(&b, &msg->target_addr);
        break;

    case EG_SWIM_ACK:
    case EG_SWIM_NACK:
        msg->seq = eg_swim_get_u32(&b);
        break;

    case EG_SWIM_GOSSIP:
        break;

    default:
        return EG_SWIM_DROP_UNKNOWN;
    }

    msg->nrecords = eg_swim_get_u8(&b);

    for (i = 0; i < msg->nrecords && !b.error; i++) {
        (void) eg_swim_get_record(&b, &msg->records[i]);
    }

    /* trailing bytes are as wrong as missing ones */

    if (b.error || b.p != b.last) {
        return EG_SWIM_DROP_MALFORMED;
    }

    return EG_OK;
}


eg_int_t
eg_swim_tags_valid(u_char *tags, size_t len)
{
    size_t   klen, vlen;
    u_char  *p, *last;

    p = tags;
    last = tags + len;

    while (p < last) {
        klen = *p++;

        if (klen == 0 || (size_t) (last - p) < klen + 1) {
            return EG_ERROR;
        }

        p += klen;
        vlen = *p++;

        if ((size_t) (last - p) < vlen) {
            return EG_ERROR;
        }

        p += vlen;
    }

    return EG_OK;
}


eg_swim_ident_t *
eg_swim_ident_create(u_char *id, size_t id_len, eg_swim_addr_t *addr,
    u_char *tags, size_t tags_len)
{
    eg_swim_ident_t  *ident;

    if (id_len == 0 || id_len > EG_SWIM_ID_MAX
        || tags_len > EG_SWIM_TAGS_MAX)
    {
        return NULL;
    }

    ident = malloc(sizeof(eg_swim_ident_t) + id_len + tags_len);
    if (ident == NULL) {
        return NULL;
    }

    ident->refs = 1;
    ident->id_len = (uint8_t) id_len;
    ident->tags_len = (uint16_t) tags_len;
    ident->addr = *addr;
    ident->tags = ident->id + id_len;

    eg_memcpy(ident->id, id, id_len);

    if (tags_len) {
        eg_memcpy(ident->tags, tags, tags_len);
    }

    return ident;
}


void
eg_swim_ident_ref(eg_swim_ident_t *ident)
{
    ident->refs++;
}


void
eg_swim_ident_unref(eg_swim_ident_t *ident)
{
    if (ident && --ident->refs == 0) {
        free(ident);
    }
}


/* whether a record says nothing new about who the member is */
eg_uint_t
eg_swim_ident_same(eg_swim_ident_t *ident, eg_swim_record_t *r)
{
    return eg_swim_addr_eq(&ident->addr, &r->addr)
           && ident->tags_len == r->tags_len
           && (r->tags_len == 0
               || eg_memcmp(ident->tags, r->tags, r->tags_len) == 0);
}


eg_uint_t
eg_swim_addr_eq(eg_swim_addr_t *a, eg_swim_addr_t *b)
{
    return a->family == b->family && a->port == b->port
           && eg_memcmp(a->ip, b->ip, a->family == 6 ? 16 : 4) == 0;
}


size_t
eg_swim_addr_text(eg_swim_addr_t *a, u_char *buf, size_t len)
{
    char    ip[INET6_ADDRSTRLEN];
    u_char  *p;

    if (inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->ip, ip,
                  sizeof(ip))
        == NULL)
    {
        return 0;
    }

    p = eg_slprintf(buf, buf + len, a->family == 6 ? "[%s]:%u" : "%s:%u",
                    ip, (unsigned) a->port);

    return (size_t) (p - buf);
}


eg_int_t
eg_swim_keyring_parse(eg_swim_keyring_t *kr, u_char *text, size_t len,
    const char **err)
{
    int      n;
    u_char  *p, *last, *start, *end;
    u_char   key[64];

    eg_memzero(kr, sizeof(eg_swim_keyring_t));

    p = text;
    last = text + len;

    while (p < last) {
        start = p;

        while (p < last && *p != '\n') {
            p++;
        }

        end = p;

        if (p < last) {
            p++;
        }

        while (start < end && (*start == ' ' || *start == '\t')) {
            start++;
        }

        while (end > start && (end[-1] == ' ' || end[-1] == '\t'
                               || end[-1] == '\r'))
        {
            end--;
        }

        if (start == end || *start == '#') {
            continue;
        }

        if (kr->nkeys == EG_SWIM_MAX_KEYS) {
            *err = "too many keys (at most 16)";
            return EG_ERROR;
        }

        /* 32 bytes are 44 base64 characters, the last one "=" */

        if (end - start != 44) {
            *err = "a key must be 32 bytes in base64 (44 characters)";
            return EG_ERROR;
        }

        n = EVP_DecodeBlock(key, start, 44);

        if (n != 33 || end[-1] != '=' || end[-2] == '=') {
            *err = "a key is not valid base64";
            return EG_ERROR;
        }

        eg_memcpy(kr->keys[kr->nkeys], key, EG_SWIM_KEY_LEN);
        kr->nkeys++;
    }

    if (kr->nkeys == 0) {
        *err = "no keys";
        return EG_ERROR;
    }

    return EG_OK;
}


static ssize_t
eg_swim_gcm(eg_uint_t encrypt, u_char *key, u_char *nonce, u_char *aad,
    size_t aad_len, u_char *in, size_t len, u_char *out, u_char *tag)
{
    int              n, f;
    ssize_t          rc;
    EVP_CIPHER_CTX  *ctx;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    rc = -1;

    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce,
                          (int) encrypt) != 1)
    {
        goto done;
    }

    if (EVP_CipherUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1) {
        goto done;
    }

    if (EVP_CipherUpdate(ctx, out, &n, in, (int) len) != 1) {
        goto done;
    }

    if (!encrypt
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, EG_SWIM_TAG_LEN,
                               tag) != 1)
    {
        goto done;
    }

    /* for decryption this is where the tag is verified */

    if (EVP_CipherFinal_ex(ctx, out + n, &f) != 1) {
        goto done;
    }

    if (encrypt
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, EG_SWIM_TAG_LEN,
                               tag) != 1)
    {
        goto done;
    }

    rc = n + f;

done:

    EVP_CIPHER_CTX_free(ctx);

    return rc;
}


size_t
eg_swim_encrypt(eg_swim_keyring_t *kr, u_char *aad, size_t aad_len,
    u_char *nonce, u_char *in, size_t len, u_char *out)
{
    ssize_t  n;

    /* nonce | ciphertext | tag */

    eg_memcpy(out, nonce, EG_SWIM_NONCE_LEN);

    n = eg_swim_gcm(1, kr->keys[0], nonce, aad, aad_len, in, len,
                    out + EG_SWIM_NONCE_LEN,
                    out + EG_SWIM_NONCE_LEN + len);

    if (n != (ssize_t) len) {
        return 0;
    }

    return len + EG_SWIM_CRYPTO_OVERHEAD;
}


ssize_t
eg_swim_decrypt(eg_swim_keyring_t *kr, u_char *aad, size_t aad_len,
    u_char *in, size_t len, u_char *out)
{
    size_t     clen;
    ssize_t    n;
    eg_uint_t  k;

    if (len < EG_SWIM_CRYPTO_OVERHEAD) {
        return -1;
    }

    clen = len - EG_SWIM_CRYPTO_OVERHEAD;

    /* the primary key first: nearly every packet uses it */

    for (k = 0; k < kr->nkeys; k++) {
        n = eg_swim_gcm(0, kr->keys[k], in, aad, aad_len,
                        in + EG_SWIM_NONCE_LEN, clen, out,
                        in + EG_SWIM_NONCE_LEN + clen);

        if (n == (ssize_t) clen) {
            return n;
        }
    }

    return -1;
}
