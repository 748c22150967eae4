/*
 * smtpc_auth.c - the SMTP client's AUTH step: PLAIN (with its initial
 * response) and LOGIN, or XOAUTH2 / OAUTHBEARER with an OAuth2 access
 * token (the mechanism follows EHLO), only over TLS.  The secret only ever lives in the
 * caller's buffer and in sodium_malloc'd buffers here, written straight to
 * the TLS layer; s->out, the ordinary command buffer, never sees it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "smtpc_int.h"

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

/* Send PREFIX + base64(data) as one line built in sodium memory, read
 * the reply and check it: want 334 (go on), or 2 for any 2xx (235 is the
 * rule; Postfix's client takes any 2xx, and smtp-sink says 250).  0, or
 * -1 with res set. */
static int secret_step(struct smtpc_session *s, const char *prefix, const unsigned char *data,
                       size_t len, int want, struct smtpc_result *res)
{
    size_t llen = 0, lalloc = 0;
    char *line = secret_line(prefix, data, len, &llen, &lalloc);
    int rc = -1;

    if (line == NULL)
        return smtpc_fail(res, SMTPC_ERR_LOCAL, "sodium_malloc failed");
    if (smtpc_io_write(s, line, llen, s->o.command_timeout_ms, res) == 0
        && smtpc_io_reply(s, s->o.command_timeout_ms, res) == 0) {
        bool ok = want == 334 ? res->reply.code == 334 : res->reply.code / 100 == 2;

        rc = ok ? 0 : auth_refused(res);
    }
    secret_free(line, lalloc);
    return rc;
}

static int auth_plain(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
{
    size_t ulen = strlen(cred->username), plen = 1 + ulen + 1 + cred->secret_len;
    unsigned char *payload = sodium_malloc(plen);
    int rc;

    if (payload == NULL)
        return smtpc_fail(res, SMTPC_ERR_LOCAL, "sodium_malloc failed");
    /* authzid empty, authcid, password (RFC 4616). */
    payload[0] = 0;
    memcpy(payload + 1, cred->username, ulen);
    payload[1 + ulen] = 0;
    memcpy(payload + 2 + ulen, cred->secret, cred->secret_len);
    rc = secret_step(s, "AUTH PLAIN ", payload, plen, 2, res);
    sodium_memzero(payload, plen);
    sodium_free(payload);
    return rc;
}

static int auth_login(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
{
    dbuf_reset(&s->out);
    dbuf_append_str(&s->out, "AUTH LOGIN");
    if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
        return -1;
    if (res->reply.code != 334)
        return auth_refused(res);
    /* The user name is no secret, but one code path for both is simpler. */
    if (secret_step(s, "", (const unsigned char *)cred->username, strlen(cred->username), 334, res) < 0)
        return -1;
    return secret_step(s, "", cred->secret, cred->secret_len, 2, res);
}

/* The answer to an OAuth2 initial response: 2xx, a direct 4xx/5xx
 * (Microsoft), or a 334 carrying a base64 JSON error (Google, RFC 7628)
 * that is kept for the log and the probe and answered as the mechanism
 * asks (XOAUTH2: an empty line; OAUTHBEARER: %x01), before the final 535. */
static int oauth_outcome(struct smtpc_session *s, enum smtpc_auth_mech mech, struct smtpc_result *res)
{
    if (res->reply.code / 100 == 2)
        return 0;
    if (res->reply.code == 334) {
        const char *ack = mech == SMTPC_AUTH_OAUTHBEARER ? "AQ==\r\n" : "\r\n";

        if (smtpc_sasl_challenge_decode(res->reply.text, s->auth_challenge, sizeof(s->auth_challenge)) < 0)
            snprintf(s->auth_challenge, sizeof(s->auth_challenge), "(undecodable challenge)");
        if (smtpc_io_write(s, ack, strlen(ack), s->o.command_timeout_ms, res) < 0
            || smtpc_io_reply(s, s->o.command_timeout_ms, res) < 0)
            return -1;
        if (res->reply.code / 100 == 2)
            return 0;
        if (res->reply.code / 100 == 4 || res->reply.code / 100 == 5)
            return smtpc_fail(res, SMTPC_ERR_AUTH_FAILED, "authentication failed: %s (challenge: %s)",
                              res->reply.text, s->auth_challenge);
    }
    return auth_refused(res);
}

static int auth_oauth(struct smtpc_session *s, const struct smtpc_cred *cred, enum smtpc_auth_mech mech,
                      struct smtpc_result *res)
{
    const char *name = smtpc_auth_mech_name(mech);
    unsigned char *payload = NULL;
    size_t plen = 0, palloc = 0, b64, llen = 0, lalloc = 0;
    char prefix[32];
    char *line = NULL;
    int rc = -1;

    if ((mech == SMTPC_AUTH_XOAUTH2
         ? smtpc_sasl_xoauth2(cred->username, cred->secret, cred->secret_len, &payload, &plen, &palloc)
         : smtpc_sasl_oauthbearer(cred->username, s->host, s->o.port, cred->secret, cred->secret_len,
                                  &payload, &plen, &palloc)) < 0)
        return smtpc_fail(res, SMTPC_ERR_LOCAL, "cannot build the %s response (bad user name or token)", name);
    s->auth_challenge[0] = 0;
    snprintf(prefix, sizeof(prefix), "AUTH %s ", name);
    b64 = sodium_base64_ENCODED_LEN(plen, sodium_base64_VARIANT_ORIGINAL) - 1;
    if (strlen(prefix) + b64 + 2 <= SMTPC_AUTH_LINE_MAX) {
        line = secret_line(prefix, payload, plen, &llen, &lalloc);
    } else {
        /* Too long for the command line (RFC 4954 §4): AUTH alone, the
         * response after the server's 334. */
        dbuf_reset(&s->out);
        dbuf_printf(&s->out, "AUTH %s", name);
        if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
            goto out;
        if (res->reply.code != 334) {
            rc = auth_refused(res);
            goto out;
        }
        line = secret_line("", payload, plen, &llen, &lalloc);
    }
    if (line == NULL) {
        rc = smtpc_fail(res, SMTPC_ERR_LOCAL, "sodium_malloc failed");
        goto out;
    }
    if (smtpc_io_write(s, line, llen, s->o.command_timeout_ms, res) == 0
        && smtpc_io_reply(s, s->o.command_timeout_ms, res) == 0)
        rc = oauth_outcome(s, mech, res);
out:
    secret_free(line, lalloc);
    secret_free((char *)payload, palloc);
    return rc;
}

int smtpc_auth(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
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
    if (cred->kind == SMTPC_CRED_XOAUTH2) {
        /* XOAUTH2 where offered (Microsoft, Google), else RFC 7628's. */
        if (mech != SMTPC_AUTH_XOAUTH2 && mech != SMTPC_AUTH_OAUTHBEARER)
            mech = s->caps.auth_xoauth2 ? SMTPC_AUTH_XOAUTH2
                   : s->caps.auth_oauthbearer ? SMTPC_AUTH_OAUTHBEARER : SMTPC_AUTH_AUTO;
        if ((mech == SMTPC_AUTH_XOAUTH2 && !s->caps.auth_xoauth2)
            || (mech == SMTPC_AUTH_OAUTHBEARER && !s->caps.auth_oauthbearer) || mech == SMTPC_AUTH_AUTO) {
            rc = smtpc_fail(res, SMTPC_ERR_AUTH_NOT_OFFERED, "%s does not offer AUTH %s", s->host,
                            mech == SMTPC_AUTH_AUTO ? "XOAUTH2 or OAUTHBEARER" : smtpc_auth_mech_name(mech));
            goto done;
        }
        rc = auth_oauth(s, cred, mech, res);
        if (rc == 0)
            s->auth_used = smtpc_auth_mech_name(mech);
        goto done;
    }
    if (mech == SMTPC_AUTH_XOAUTH2 || mech == SMTPC_AUTH_OAUTHBEARER) {
        rc = smtpc_fail(res, SMTPC_ERR_LOCAL, "%s needs an OAuth2 token, not a password",
                        smtpc_auth_mech_name(mech));
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
