# Delivery: scheduler, routes, outcomes, retries, events (tenantrelayd only).
