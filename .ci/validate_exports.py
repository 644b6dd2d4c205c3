#!/usr/bin/env python3
"""Validates ipxfer's NRO transfer-log exports against the JSON Schemas in docs/spec/, with an
independent validator (Python's jsonschema), formats (date-time, ipv4, ipv6) included.

usage: validate_exports.py FILE...   (the schema is chosen by each file's stats_version)

There is no published 4.0 schema: 4.1 is the backwards-compatible revision of 4.0, so a 4.0 file
is checked against the 4.1 schema with only the stats_version constant changed."""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator

SPEC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "spec"


def schema_for(version):
    if version == "5.0":
        return json.loads((SPEC / "rir-transfer-log-5.0.schema.json").read_text())
    if version in ("4.0", "4.1"):
        schema = json.loads((SPEC / "rir-transfer-log-4.1.schema.json").read_text())
        schema["properties"]["version"]["properties"]["stats_version"]["const"] = version
        return schema
    raise SystemExit(f"FAIL: no schema for stats_version {version!r}")


def main(paths):
    if not paths:
        raise SystemExit(__doc__)
    checker = Draft202012Validator.FORMAT_CHECKER
    missing = {"date-time", "ipv4", "ipv6"} - set(checker.checkers)
    if missing:
        raise SystemExit(f"FAIL: the format checker cannot check {sorted(missing)}; "
                         "install rfc3339-validator")
    failed = False
    for path in paths:
        doc = json.loads(pathlib.Path(path).read_text())
        version = doc.get("version", {}).get("stats_version")
        validator = Draft202012Validator(schema_for(version), format_checker=checker)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:20]:
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            print(f"FAIL {path}: {where}: {e.message}", file=sys.stderr)
        if errors:
            failed = True
        else:
            print(f"ok   {path}: stats_version {version}, {len(doc['transfers'])} transfers")
    if failed:
        raise SystemExit("FAIL: exports do not validate against the NRO schemas")


if __name__ == "__main__":
    main(sys.argv[1:])
