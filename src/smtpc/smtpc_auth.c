/*
 * smtpc_auth.c - the SMTP client's AUTH step: PLAIN (with its initial
 * response) and LOGIN, only over TLS.  The secret only ever lives in the
 * caller's buffer and in sodium_malloc'd buffers here, written straight to
 * the TLS layer; s->out, the ordinary command buffer, never sees it.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "smtpc_int.h"

/* Write a secret line (in sodium memory) and read the reply. */
static int secret_command(struct smtpc_session *s, const char *line, size_t len, struct smtpc_result *res)
{
    if (smtpc_io_write(s, line, len, s->o.command_timeout_ms, res) < 0)
        return -1;
    return smtpc_io_reply(s, s->o.command_timeout_ms, res);
}

/* "PREFIX" + base64(data) + CRLF in a sodium_malloc buffer; NULL on failure. */
static char *secret_line(const char *prefix, const unsigned char *data, size_t len, size_t *outlen,
                         size_t *alloc)
{
    size_t plen = strlen(prefix);
    size_t b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *buf;

    *alloc = plen + b64 + 2;
    buf = sodium_malloc(*alloc);
    if (buf == NULL)
        return NULL;
    memcpy(buf, prefix, plen);
    sodium_bin2base64(buf + plen, b64, data, len, sodium_base64_VARIANT_ORIGINAL);
    *outlen = plen + strlen(buf + plen);
    buf[(*outlen)++] = '\r';
    buf[(*outlen)++] = '\n';
    return buf;
}

static void secret_free(char *buf, size_t alloc)
{
    if (buf) {
        sodium_memzero(buf, alloc);
        sodium_free(buf);
    }
}

static int auth_refused(struct smtpc_result *res)
{
    if (res->reply.code / 100 == 4 || res->reply.code / 100 == 5)
        return smtpc_fail(res, SMTPC_ERR_AUTH_FAILED, "authentication failed: %s", res->reply.text);
    return smtpc_fail(res, SMTPC_ERR_PROTOCOL, "unexpected reply to AUTH: %s", res->reply.text);
}

static int auth_plain(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
{
    size_t ulen = strlen(cred->username), plen = 1 + ulen + 1 + cred->secret_len;
    unsigned char *payload = sodium_malloc(plen);
    char *line = NULL;
    size_t llen = 0, lalloc = 0;
    int rc = -1;

    if (payload == NULL) {
        smtpc_fail(res, SMTPC_ERR_LOCAL, "sodium_malloc failed");
        goto done;
    }
    /* authzid empty, authcid, password (RFC 4616). */
    payload[0] = 0;
    memcpy(payload + 1, cred->username, ulen);
    payload[1 + ulen] = 0;
    memcpy(payload + 2 + ulen, cred->secret, cred->secret_len);
    line = secret_line("AUTH PLAIN ", payload, plen, &llen, &lalloc);
    if (line == NULL) {
        smtpc_fail(res, SMTPC_ERR_LOCAL, "sodium_malloc failed");
        goto done;
    }
    if (secret_command(s, line, llen, res) < 0)
        goto done;
    if (res->reply.code / 100 != 2) {     /* 235; any 2xx, as Postfix's client (smtp-sink says 250) */
        auth_refused(res);
        goto done;
    }
    rc = 0;
done:
    if (payload) {
        sodium_memzero(payload, plen);
        sodium_free(payload);
    }
    secret_free(line, lalloc);
    return rc;
}

static int auth_login(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
{
    char *line = NULL;
    size_t llen = 0, lalloc = 0;
    int rc = -1;

    dbuf_reset(&s->out);
    dbuf_append_str(&s->out, "AUTH LOGIN");
    if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
        goto done;
    if (res->reply.code != 334) {
        auth_refused(res);
        goto done;
    }
    /* The user name is no secret, but one code path for both is simpler. */
    line = secret_line("", (const unsigned char *)cred->username, strlen(cred->username), &llen, &lalloc);
    if (line == NULL) {
        smtpc_fail(res, SMTPC_ERR_LOCAL, "sodium_malloc failed");
        goto done;
    }
    if (secret_command(s, line, llen, res) < 0)
        goto done;
    secret_free(line, lalloc);
    line = NULL;
    if (res->reply.code != 334) {
        auth_refused(res);
        goto done;
    }
    line = secret_line("", cred->secret, cred->secret_len, &llen, &lalloc);
    if (line == NULL) {
        smtpc_fail(res, SMTPC_ERR_LOCAL, "sodium_malloc failed");
        goto done;
    }
    if (secret_command(s, line, llen, res) < 0)
        goto done;
    if (res->reply.code / 100 != 2) {     /* 235; any 2xx, as Postfix's client (smtp-sink says 250) */
        auth_refused(res);
        goto done;
    }
    rc = 0;
done:
    secret_free(line, lalloc);
    return rc;
}

int smtpc_auth(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
{
    long t0 = smtpc_now_ms();
    enum smtpc_auth_mech mech = cred->mech;
    int rc = -1;

    if (smtpc_step_open(res, "auth", smtpc_connected(s) && s->ehlo_done, "not connected or no EHLO yet") < 0)
        goto done;
    if (s->tls == NULL) {
        rc = smtpc_fail(res, SMTPC_ERR_AUTH_NOT_OFFERED, "AUTH refused over a plaintext connection");
        goto done;
    }
    if (cred->username == NULL || cred->secret == NULL || memchr(cred->username, '\r', strlen(cred->username))
        || memchr(cred->username, '\n', strlen(cred->username))) {
        rc = smtpc_fail(res, SMTPC_ERR_LOCAL, "bad credentials (no user name or secret)");
        goto done;
    }
    if (cred->kind == SMTPC_CRED_XOAUTH2 || mech == SMTPC_AUTH_XOAUTH2) {
        rc = smtpc_fail(res, SMTPC_ERR_LOCAL, "XOAUTH2 is not implemented yet");
        goto done;
    }
    if (mech == SMTPC_AUTH_AUTO)
        mech = s->caps.auth_plain ? SMTPC_AUTH_PLAIN : s->caps.auth_login ? SMTPC_AUTH_LOGIN : SMTPC_AUTH_AUTO;
    if ((mech == SMTPC_AUTH_PLAIN && !s->caps.auth_plain) || (mech == SMTPC_AUTH_LOGIN && !s->caps.auth_login)
        || mech == SMTPC_AUTH_AUTO) {
        rc = smtpc_fail(res, SMTPC_ERR_AUTH_NOT_OFFERED, "%s does not offer AUTH %s", s->host,
                        mech == SMTPC_AUTH_AUTO ? "PLAIN or LOGIN" : smtpc_auth_mech_name(mech));
        goto done;
    }
    rc = mech == SMTPC_AUTH_PLAIN ? auth_plain(s, cred, res) : auth_login(s, cred, res);
    if (rc == 0)
        s->auth_used = smtpc_auth_mech_name(mech);
done:
    smtpc_step_end(res, t0);
    return rc;
}
