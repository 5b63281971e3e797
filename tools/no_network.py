"""sitecustomize for the notebook tests: a Python socket connection off this machine raises OSError.

`make nbval` copies this file to _build/site/sitecustomize.py, which is first on the chapters'
PYTHONPATH, so every Python process of the test (the kernels included) imports it at start.
Loopback stays open: Jupyter talks to its kernels over 127.0.0.1. A chapter that downloads
anything through Python (urllib, requests, torch.hub, ...) fails its cell with the message below,
as it would on a reader's offline machine; subprocesses and C-level clients are not covered.
"""
import ipaddress
import socket

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like
        return True
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _guard(connect):
    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
            raise OSError(f"network access to {address!r} is disabled while the chapters are tested: "
                          f"the book must not download anything")
        return connect(self, address)
    return guarded


socket.socket.connect = _guard(_connect)
socket.socket.connect_ex = _guard(_connect_ex)
