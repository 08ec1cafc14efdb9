"""SIGTERM handled like Ctrl-C: what `timeout`, job schedulers and container runtimes send.

The handler raises `Terminated` (a KeyboardInterrupt), so every cleanup written for Ctrl-C
(atomic outputs removed, training checkpointed) runs for SIGTERM too; the CLI then exits 143.
"""

from __future__ import annotations

import signal
import threading


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived."""

    _received = False

    @classmethod
    def received(cls) -> bool:
        """Whether SIGTERM arrived in this process."""
        return cls._received


def note_sigterm() -> None:
    """Record that SIGTERM arrived (handlers that do not raise call this)."""
    Terminated._received = True


def _raise_terminated(signum: int, frame: object) -> None:
    note_sigterm()
    raise Terminated()


def install_sigterm_handler() -> None:
    """Make SIGTERM raise `Terminated` (main thread only; a no-op elsewhere and on Windows)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _raise_terminated)
