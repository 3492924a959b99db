#!/usr/bin/env python3
"""Fails when a test skipped for a reason not on the allow-list.

Usage: check_skips.py CTEST_JUNIT_XML ALLOWED_SKIPS_FILE

CTEST_JUNIT_XML is what `ctest --output-junit` wrote (scripts/test.sh). GoogleTest skips are reported by
CTest as not run (gtest_discover_tests' default SKIP_REGULAR_EXPRESSION); the skip message is the text after
"Skipped" in the test's output. ALLOWED_SKIPS_FILE holds regular expressions, one a line (# comments),
matched with re.search against "<test name>: <message>". Exit 0 when every skip is allowed, 1 otherwise
(each unexpected skip is printed with its message), 2 when the XML is missing or unreadable.
"""
import re
import sys
import xml.etree.ElementTree as ET


def skip_message(output: str) -> str:
    m = re.search(r"Skipped\n(.*?)(?:\n\[  SKIPPED \]|\Z)", output or "", re.S)
    return " ".join(m.group(1).split()) if m else "(no message)"


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        root = ET.parse(argv[1]).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"check_skips: cannot read {argv[1]}: {e}", file=sys.stderr)
        return 2
    allowed = []
    try:
        with open(argv[2], encoding="utf-8") as f:
            allowed = [re.compile(line.strip()) for line in f if line.strip() and not line.lstrip().startswith("#")]
    except OSError:
        pass
    unexpected, total = [], 0
    for case in root.iter("testcase"):
        skipped = case.find("skipped") is not None or case.get("status") in ("notrun", "skipped", "disabled")
        if not skipped:
            continue
        total += 1
        out = case.findtext("system-out") or ""
        label = f"{case.get('name')}: {skip_message(out)}"
        if not any(p.search(label) for p in allowed):
            unexpected.append(label)
    for label in unexpected:
        print(f"unexpected skip: {label}")
    if unexpected:
        print(f"{len(unexpected)} of {total} skipped tests lack something CI should provide "
              f"(install it, or list the reason in {argv[2]})")
        return 1
    print(f"skips: {total}, all allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
