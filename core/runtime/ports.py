"""TCP ports on this machine: is one free, which process listens on it, which one is free next."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port and we could bind it."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def any_free(host: str = "127.0.0.1") -> int:
    """A port the kernel reports free now (for a child that binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def next_free(host: str, start: int, tries: int = 100) -> int | None:
    """The first free port from `start` on, or None within `tries` ports."""
    for port in range(start, min(start + tries, 65536)):
        if is_free(host, port):
            return port
    return None


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def owner(port: int) -> str | None:
    """'name (pid N)' of the process listening on `port`, where the OS tells (Linux /proc); else None."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                    return f"{name} (pid {pid})"
            except OSError:
                continue
    return None
