# The tenant store: records, lookups, atomic writes, change log.
