# Event webhooks: signed batches from a durable cursor over the events file.
libtenantrelay_a_SOURCES += src/webhook/webhook_sender.c
noinst_HEADERS += include/tenantrelay/webhook.h
