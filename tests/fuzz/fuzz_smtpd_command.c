/*
 * fuzz_smtpd_command.c - libFuzzer harness for the SMTP session: the input
 * is a whole client transcript (commands, pipelined or not, and DATA),
 * cut into pieces whose sizes come from the first byte.  Checks that the
 * session never crashes, keeps its input buffer bounded, and that every
 * message it begins is committed or aborted exactly once.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/smtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    int begun, finished, aborted;
    size_t stored;
};

static int f_begin(void *ctx, char qid[SPOOL_QID_LEN + 1])
{
    struct fz *f = ctx;

    if (f->begun - f->finished - f->aborted != 0)
        abort();                /* a message begun while another is open */
    f->begun++;
    memcpy(qid, "FUZZQID000000001", SPOOL_QID_LEN + 1);
    return 0;
}

static int f_write(void *ctx, const void *d, size_t len)
{
    struct fz *f = ctx;

    f->stored += len;
    return 0;
}

static void f_finish(void *ctx, const struct smtpd_message *m, struct dbuf *reply)
{
    struct fz *f = ctx;

    f->finished++;
    if (m->recipient_count < 1 || m->recipients[m->recipient_count] != NULL)
        abort();
    dbuf_append_str(reply, "250 2.0.0 Ok: queued as FUZZQID000000001\r\n");
}

static void f_abort(void *ctx)
{
    struct fz *f = ctx;

    f->aborted++;
}

static const struct smtpd_ops ops = { f_begin, f_write, f_finish, f_abort };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtpd_params p = { "fuzz", "relay.test", "127.0.0.1", 4096, 5, 1000,
                              false, true, "X-Tenant-ID" };
    struct fz f = { 0, 0, 0, 0 };
    struct smtpd_session *s;
    size_t chunk, used = 1;

    if (size < 1)
        return 0;
    chunk = (size_t)data[0] % 64 + 1;
    p.bare_lf_reject = data[0] & 0x80;
    s = smtpd_session_new(&p, &ops, &f);
    while (used < size) {
        size_t n = size - used;
        enum smtpd_action a;

        if (n > chunk)
            n = chunk;
        if (n > smtpd_session_room(s))
            n = smtpd_session_room(s);
        if (n == 0)
            abort();            /* the session must always accept input */
        a = smtpd_session_input(s, (const char *)data + used, n);
        used += n;
        if (smtpd_session_output(s)->len > 1024 * 1024)
            abort();
        dbuf_reset(smtpd_session_output(s));
        if (a == SMTPD_ACT_CLOSE)
            break;
        if (a == SMTPD_ACT_STARTTLS)
            smtpd_session_tls_started(s);
    }
    smtpd_session_free(s);
    if (f.begun != f.finished + f.aborted)
        abort();
    return 0;
}
