/*
 * probe_report.c - the probe's report as JSON (SPEC §6 shape) and as text
 * for a human: each step with its duration and the server's exact reply.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tenantrelay/probe.h"

void probe_report_free(struct probe_report *rep)
{
    for (int i = 0; i < PROBE_NSTEPS; i++) {
        json_decref(rep->steps[i].detail);
        rep->steps[i].detail = NULL;
    }
}

json_t *probe_step_json(const struct probe_report *rep, enum probe_step_id id)
{
    const struct probe_step *st = &rep->steps[id];

    return json_pack("{s:s, s:b, s:I, s:o, s:O}", "step", probe_step_names[id],
                     "ok", st->state != PROBE_ST_FAILED, "ms", (json_int_t)st->ms,
                     "reply", st->reply.code ? json_string(st->reply.text) : json_null(),
                     "detail", st->detail ? st->detail : json_null());
}

json_t *probe_report_json(const struct probe_report *rep)
{
    json_t *steps = json_array();

    for (int i = 0; i < PROBE_NSTEPS; i++)
        if (rep->steps[i].state != PROBE_ST_NOT_RUN)
            json_array_append_new(steps, probe_step_json(rep, (enum probe_step_id)i));
    return json_pack("{s:b, s:o, s:o, s:o}", "ok", rep->ok,
                     "code", rep->code ? json_string(rep->code) : json_null(),
                     "hint", rep->ok ? json_null() : json_string(rep->hint), "steps", steps);
}

/* The detail in one line: key=value for scalars. */
static void print_detail(FILE *fp, const json_t *d)
{
    const char *k;
    json_t *v;

    if (d == NULL || !json_is_object(d))
        return;
    json_object_foreach((json_t *)d, k, v) {
        if (json_is_string(v))
            fprintf(fp, " %s=%s", k, json_string_value(v));
        else if (json_is_boolean(v))
            fprintf(fp, " %s=%s", k, json_is_true(v) ? "yes" : "no");
        else if (json_is_integer(v))
            fprintf(fp, " %s=%" JSON_INTEGER_FORMAT, k, json_integer_value(v));
    }
}

void probe_report_print(FILE *fp, const struct probe_report *rep)
{
    for (int i = 0; i < PROBE_NSTEPS; i++) {
        const struct probe_step *st = &rep->steps[i];
        const char *state = st->state == PROBE_ST_PASSED ? "ok" : st->state == PROBE_ST_SKIPPED ? "skipped"
                            : "FAILED";

        if (st->state == PROBE_ST_NOT_RUN)
            continue;
        fprintf(fp, "%-12s %-7s %6ld ms", probe_step_names[i], state, st->ms);
        if (st->reply.code) {
            const char *p = st->reply.text;

            /* Every line of the reply exactly as the server sent it. */
            while (*p) {
                size_t n = strcspn(p, "\n");

                fprintf(fp, "%s%.*s\n", p == st->reply.text ? "  " : "                                ",
                        (int)n, p);
                p += n;
                if (*p == '\n')
                    p++;
            }
            if (st->detail && json_object_size(st->detail)) {
                fprintf(fp, "%31s", "");   /* print_detail adds one space */
                print_detail(fp, st->detail);
                fputc('\n', fp);
            }
        } else {
            fputc(' ', fp);             /* with print_detail's own: the reply column */
            print_detail(fp, st->detail);
            fputc('\n', fp);
        }
    }
    if (rep->ok) {
        fprintf(fp, "result: ok (every step passed)\n");
    } else {
        fprintf(fp, "result: FAILED (%s)\n", rep->code ? rep->code : "?");
        fprintf(fp, "hint: %s\n", rep->hint);
    }
}
