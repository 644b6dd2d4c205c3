"""Reads the served demo with the `rdap` client from PyPI (its command line and its library) and
checks what a network operator would: who holds a block the demo transferred, its range, its
transfer events with links to the ledger, an entity, and RDAP error responses.

Run by .ci/rdap-check with RDAP_HOME (the client's config: bootstrap_url = this server) and
RDAP_BASE (the server's address) set.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import rdap
from rdap.exceptions import RdapHTTPError, RdapNotFoundError

HOME = os.environ["RDAP_HOME"]
BASE = os.environ["RDAP_BASE"]
CLI = os.path.join(os.path.dirname(sys.executable), "rdap")

# The demo's first completed transfer (backend/src/services/demo.rs): 3.0.4.0/22 from
# Northwind Cloud Inc. at ARIN to Rhône Fibre SAS at the RIPE NCC.
BLOCK_START, BLOCK_END = "3.0.4.0", "3.0.7.255"
HOLDER, SOURCE = "Rhône Fibre SAS", "Northwind Cloud Inc."

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def cli(*args):
    """The client's own command, as an operator runs it."""
    return subprocess.run(
        [CLI, "--home", HOME, "--output-format", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


# A transferred block, asked for by one of its addresses.
out = cli("3.0.5.17")
check(out.returncode == 0, f"rdap 3.0.5.17 answers (stderr: {out.stderr.strip()[-300:]})")
net = json.loads(out.stdout) if out.returncode == 0 else {}
check(net.get("objectClassName") == "ip network", "an ip network object")
check("rdap_level_0" in net.get("rdapConformance", []), "rdapConformance lists rdap_level_0")
check(
    (net.get("startAddress"), net.get("endAddress")) == (BLOCK_START, BLOCK_END),
    f"range {net.get('startAddress')} - {net.get('endAddress')} is {BLOCK_START} - {BLOCK_END}",
)
check(net.get("ipVersion") == "v4", "ipVersion v4")
check("port43" not in net, "no port43")
registrants = [e for e in net.get("entities", []) if "registrant" in e.get("roles", [])]
names = [p[3] for e in registrants for p in e["vcardArray"][1] if p[0] == "fn"]
check(names == [HOLDER], f"registrant {names} is {HOLDER!r}")
transfers = [e for e in net.get("events", []) if e.get("eventAction") == "transfer"]
check(len(transfers) >= 1, f"{len(transfers)} transfer event(s)")
ledger_links = [
    link for e in transfers for link in e.get("links", []) if "/ledger/" in link.get("href", "")
]
check(len(ledger_links) == len(transfers), "each transfer event links to its ledger entry")
check(
    any(SOURCE in link.get("title", "") and HOLDER in link.get("title", "") for link in ledger_links),
    f"a transfer from {SOURCE} to {HOLDER}",
)
actions = [e.get("eventAction") for e in net.get("events", [])]
check("registration" in actions and "last changed" in actions, f"events {actions}")

# The client's own parsing finds the holder's name (its registrant logic).
parsed = cli("--parse", "3.0.4.0")
org = json.loads(parsed.stdout).get("org_name") if parsed.returncode == 0 else None
check(org == HOLDER, f"rdap --parse names the holder: {org!r}")

# The holder as an entity, by the handle in the network (the client lower-cases it).
if registrants:
    handle = registrants[0]["handle"]
    ent = cli(handle)
    body = json.loads(ent.stdout) if ent.returncode == 0 else {}
    check(body.get("objectClassName") == "entity", f"rdap {handle} answers an entity")
    check(
        not any(p[0] in ("email", "tel") for p in body.get("vcardArray", ["", []])[1]),
        "the entity carries no e-mail or telephone",
    )

# Nothing held: the client reports the 404.
missing = cli("10.0.0.1")
check(
    missing.returncode != 0 and "returned 404" in missing.stderr,
    "rdap 10.0.0.1 is not found (404)",
)

# A malformed address through the client's library: a 400, not found nor a server error.
client = rdap.RdapClient({"bootstrap_url": BASE + "/rdap/", "timeout": 10})
try:
    client.get_ip("300.1.1.1")
    check(False, "a malformed address is refused")
except RdapNotFoundError:
    check(False, "a malformed address is a 400, not a 404")
except RdapHTTPError as e:
    check("returned 400" in str(e), f"a malformed address is a 400: {e}")

# The error object itself (RFC 9083 section 6), with the RDAP media type and CORS.
try:
    urllib.request.urlopen(BASE + "/rdap/ip/300.1.1.1", timeout=10)
    check(False, "/rdap/ip/300.1.1.1 is refused")
except urllib.error.HTTPError as e:
    body = json.loads(e.read())
    check(e.code == 400 and body.get("errorCode") == 400, "the error object says 400")
    check(
        e.headers.get("Content-Type") == "application/rdap+json",
        f"error Content-Type {e.headers.get('Content-Type')}",
    )
    check(e.headers.get("Access-Control-Allow-Origin") == "*", "error CORS header")
    check("rdap_level_0" in body.get("rdapConformance", []), "error rdapConformance")

if failures:
    print(f"{len(failures)} RDAP check(s) failed", file=sys.stderr)
    sys.exit(1)
print("RDAP checks passed")
