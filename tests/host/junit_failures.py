#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""junit_failures.py JUNIT.xml: exit 0 when the file parses as XML and has
at least one <failure> element, else 1 (tests/host/cli.sh)."""
import sys
import xml.dom.minidom

sys.exit(not xml.dom.minidom.parse(sys.argv[1]).getElementsByTagName("failure"))
