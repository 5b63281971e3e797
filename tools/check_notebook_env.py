"""Run before nbval: the chapters will see the non-editable install and no network.

Usage: PYTHONPATH=SITE python tools/check_notebook_env.py SITE (from the notebooks' folder).
"""
import pathlib
import socket
import sys

site = pathlib.Path(sys.argv[1]).resolve()
import turing_helpers  # noqa: E402

package = pathlib.Path(turing_helpers.__file__).resolve()
if site not in package.parents:
    sys.exit(f"turing_helpers imports from {package}, not from the non-editable install in {site}")
probe = socket.socket()
probe.settimeout(2)  # if the guard were missing and a route existed, do not hang
try:
    probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed
except OSError as error:
    if "disabled" not in str(error):
        sys.exit(f"the network guard is not active: {error}")
else:
    sys.exit("the network guard is not active: a connection off this machine went through")
print(f"notebooks run against {package.parent}, with no network")
