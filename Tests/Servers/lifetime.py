"""Shared lifetime rule of the test servers: they exit when their parent closes stdin (or dies)."""

import os
import sys
import threading


def _watch():
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except Exception:
        pass
    os._exit(0)


def exit_when_stdin_closes():
    threading.Thread(target=_watch, daemon=True).start()
