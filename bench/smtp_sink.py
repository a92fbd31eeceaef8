"""An SMTP server for the benchmarks: accepts every message on 127.0.0.1:<port>, counts them, prints "ready" when
listening and, when terminated, the count and the CPU seconds it used.

    python bench/smtp_sink.py 2525
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 Message accepted"


def main() -> None:
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    print(counter.count, f"{time.process_time():.1f}", flush=True)


if __name__ == "__main__":
    main()
