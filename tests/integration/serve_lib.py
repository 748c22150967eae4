"""What the test servers run from tests/integration (upstream.py,
oauth_upstream.py) share: the end of their main().  Imported from the
script's own directory, which Python puts first on sys.path."""
import os
import signal
import threading


def serve_until_signal(ready_file):
    """Once the servers listen: write this process's PID to ready_file (when
    given; the tests wait for it), then block until SIGTERM or SIGINT."""
    if ready_file:
        with open(ready_file, "w") as f:
            f.write(str(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(1):
        pass
