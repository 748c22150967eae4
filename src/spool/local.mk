# The durable queue: queue files, ids, recovery.
