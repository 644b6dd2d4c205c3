#!/usr/bin/env python3
"""Validates ipxfer's NRO transfer-log exports against the JSON Schemas in docs/spec/, with an
independent validator (Python's jsonschema), formats (date-time, ipv4, ipv6) included.

usage: validate_exports.py FILE...   (the schema is chosen by each file's stats_version)

There is no published 4.0 schema: 4.1 is the backwards-compatible revision of 4.0, so the
repository ships docs/spec/rir-transfer-log-4.0.schema.json, the 4.1 schema with only the
stats_version constant changed. Before validating anything, this script checks that the two
differ in that constant and nowhere else, so a 4.0 export that drifts from 4.1 in any other way
fails, and so does an edit of either schema that is not made to both."""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator

SPEC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "spec"


SCHEMAS = {
    "4.0": "rir-transfer-log-4.0.schema.json",
    "4.1": "rir-transfer-log-4.1.schema.json",
    "5.0": "rir-transfer-log-5.0.schema.json",
}


def load(version):
    return json.loads((SPEC / SCHEMAS[version]).read_text())


def check_4_0_is_derived_from_4_1():
    """The 4.0 schema must be the 4.1 schema with only the stats_version constant changed."""
    v40, v41 = load("4.0"), load("4.1")
    constant = lambda s: s["properties"]["version"]["properties"]["stats_version"]
    if constant(v40).get("const") != "4.0" or constant(v41).get("const") != "4.1":
        raise SystemExit("FAIL: the 4.0 and 4.1 schemas must pin stats_version to 4.0 and 4.1")
    constant(v40)["const"] = "4.1"
    if v40 != v41:
        raise SystemExit("FAIL: docs/spec/rir-transfer-log-4.0.schema.json differs from the 4.1 "
                         "schema in more than the stats_version constant")


def schema_for(version):
    if version in SCHEMAS:
        return load(version)
    raise SystemExit(f"FAIL: no schema for stats_version {version!r}")


def main(paths):
    if not paths:
        raise SystemExit(__doc__)
    checker = Draft202012Validator.FORMAT_CHECKER
    missing = {"date-time", "ipv4", "ipv6"} - set(checker.checkers)
    if missing:
        raise SystemExit(f"FAIL: the format checker cannot check {sorted(missing)}; "
                         "install rfc3339-validator")
    check_4_0_is_derived_from_4_1()
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
