#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Validate dmarefwatch's JSON and JUnit outputs against docs/schema/.

check_json.py [--schema KIND] [-v] [--] FILE...

KIND is what FILE holds:
  report      the JSON report (run/report/snapshot --json, --json-report)
  watch       JSON lines of watch --json
  trace-line  JSON lines of trace --json
  trace       a trace file (record -o, run --record)
  error       the error object {"error": ...} of any command under --json
  junit       JUnit XML (--junit), read with python3-junitparser
  auto        (default) chosen by the document: its "schema" member and
              "tool" (a report), "type" and "time" (watch lines),
              "dmarefwatch_trace" (a trace file), "event" or "finding"
              (trace --json), "error" (an error), an XML declaration (JUnit)

Prints one line per FILE, in order: "ok FILE: what it holds" or
"invalid FILE: LINE: $.json.path: what is wrong" (the first error; -v
prints every error on the lines below).  Exit status: 0 when every FILE is
valid, 1 when one is not, 2 on bad arguments.
Uses Debian's python3-jsonschema (draft 2020-12) and python3-junitparser.
"""
import json
import os
import sys

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.realpath(__file__)),
                          '..', '..', 'docs', 'schema')
# KIND: (schema file, the "schema" member each document must carry or None,
#        JSON lines)
KINDS = {
    'report': ('report.schema.json', 2, False),
    'watch': ('watch-line.schema.json', 1, True),
    'trace-line': ('trace-line.schema.json', None, True),
    'trace': ('trace.schema.json', None, True),
    'error': ('error.schema.json', None, False),
}


class Invalid(Exception):
    pass


def json_path(path):
    out = '$'
    for p in path:
        out += '[%d]' % p if isinstance(p, int) else '.' + p
    return out


def one_line(s, n=120):
    """@s on one line (the output is one line per file), at most @n characters."""
    s = ' '.join(s.split())
    return s if len(s) <= n else s[:n - 4] + ' ...'


def no_duplicates(pairs):
    seen = set()
    for k, _ in pairs:
        if k in seen:
            raise ValueError('duplicate key %r' % k)
        seen.add(k)
    return dict(pairs)


def no_constant(name):
    raise ValueError('%s is not JSON (RFC 8259)' % name)


def parse(text, where):
    try:
        return json.loads(text, object_pairs_hook=no_duplicates,
                          parse_constant=no_constant)
    except ValueError as e:
        raise Invalid('%s: not JSON: %s' % (where, e)) from None


class Validators:
    def __init__(self):
        import jsonschema
        self.jsonschema = jsonschema
        store = {}
        for name in os.listdir(SCHEMA_DIR):
            if name.endswith('.schema.json'):
                with open(os.path.join(SCHEMA_DIR, name)) as f:
                    s = json.load(f)
                jsonschema.Draft202012Validator.check_schema(s)
                store[s['$id']] = s
                store[name] = s
        self.store = store
        self.cache = {}

    def get(self, kind):
        if kind not in self.cache:
            s = self.store[KINDS[kind][0]]
            resolver = self.jsonschema.RefResolver(s['$id'], s, store=self.store)
            self.cache[kind] = self.jsonschema.Draft202012Validator(s, resolver=resolver)
        return self.cache[kind]

    def errors(self, kind, doc):
        """Every error, the most precise one of each oneOf/anyOf/if."""
        out = []
        for e in self.get(kind).iter_errors(doc):
            while e.context:
                e = min(e.context, key=precision)
            msg = e.message if len(e.message) < 300 else e.message[:240] + ' ...'
            out.append(one_line('%s: %s' % (json_path(e.absolute_path), msg), 400))
        return out


def precision(e):
    """Of a oneOf's errors, the one deepest in the document, and not "not of
    type null" when the value is of another type: what is really wrong."""
    return (-len(e.absolute_path), e.validator in ('type', 'const'), e.message)


def guess(text):
    """The KIND of a document, from its content."""
    if text.lstrip().startswith('<'):
        return 'junit'
    first = text.lstrip().split('\n', 1)[0]
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = json.loads(first)
        except ValueError:
            raise Invalid('line 1: not JSON, and not XML: cannot tell what it is '
                          '(give --schema)') from None
    if not isinstance(doc, dict):
        raise Invalid('line 1: not a JSON object (give --schema)')
    if 'dmarefwatch_trace' in doc:
        return 'trace'
    if 'error' in doc:
        return 'error'
    if 'tool' in doc and 'findings' in doc:
        return 'report'
    if 'type' in doc and 'time' in doc:
        return 'watch'
    if 'event' in doc or 'finding' in doc:
        return 'trace-line'
    raise Invalid('line 1: none of a report, watch, trace --json or trace file line '
                  '(members: %s); give --schema' % ', '.join(sorted(doc)[:8]))


def check_version(kind, doc, where):
    want = KINDS[kind][1]
    if want is None or not isinstance(doc, dict) or 'error' in doc:
        return		# an error line in a stream has no version
    got = doc.get('schema')
    if got != want:
        raise Invalid('%s: $.schema: %s, but this validator knows %s schema %d '
                      '(docs/schema/%s)' % (where, json.dumps(got) if 'schema' in doc
                                            else 'missing', kind, want, KINDS[kind][0]))


def check_json(v, kind, text, verbose):
    """A summary of a valid document; raises Invalid."""
    lines_mode = KINDS[kind][2]
    if lines_mode:
        if text and not text.endswith('\n'):
            raise Invalid('line %d: no newline at the end (cut?)' % (text.count('\n') + 1))
        lines = text.split('\n')[:-1] if text else []
        docs = [(i + 1, line) for i, line in enumerate(lines)]
        if not docs:
            raise Invalid('empty: no JSON line')
    else:
        docs = [(None, text)]
    errs, types = [], {}
    finished = False
    for n, chunk in docs:
        where = 'line %d' % n if n else 'document'
        if n and not chunk.strip():
            raise Invalid('%s: blank line' % where)
        doc = parse(chunk, where)
        if kind == 'trace':
            header = isinstance(doc, dict) and 'dmarefwatch_trace' in doc
            if (n == 1) != header:
                raise Invalid('%s: %s' % (where, 'the header {"dmarefwatch_trace":2,...} '
                                          'must be line 1' if header else
                                          'line 1 is not the header {"dmarefwatch_trace":2,...}'))
            if finished:
                raise Invalid('%s: a line after the finish line' % where)
            finished = isinstance(doc, dict) and doc.get('type') == 'finish'
        check_version(kind, doc, where)
        for e in v.errors(kind, doc):
            errs.append('%s: %s' % (where, e))
        if not verbose and errs:
            break
        if isinstance(doc, dict):
            t = doc.get('type') or ('error' if 'error' in doc else
                                    'finding' if 'finding' in doc else
                                    'event' if 'event' in doc else
                                    'header' if 'dmarefwatch_trace' in doc else kind)
            types[t] = types.get(t, 0) + 1
    if errs:
        if not lines_mode and isinstance(doc, dict) and isinstance(doc.get('command'), str):
            errs[0] += ' (the report of: %s)' % one_line(doc['command'])
        raise Invalid('\n'.join(errs))
    if lines_mode:
        return '%s, %d line%s (%s)' % (kind, len(docs), '' if len(docs) == 1 else 's',
                                       ', '.join('%d %s' % (c, t) for t, c in types.items()))
    doc = json.loads(text)
    if kind == 'error':
        return 'error: ' + one_line(doc['error'])
    what = '%s schema %d, %d finding%s, %s' % (kind, doc['schema'], len(doc['findings']),
                                             '' if len(doc['findings']) == 1 else 's',
                                             doc['result'])
    if doc.get('command'):
        what += ', command: ' + one_line(doc['command'])
    return what


def check_junit(v, path):
    """JUnit XML as a CI system reads it: junitparser, then its counts."""
    import junitparser
    try:
        xml = junitparser.JUnitXml.fromfile(path)
    except Exception as e:  # a parse error of whichever XML library it uses
        raise Invalid('not JUnit XML: %s' % e) from None
    suites = [xml] if isinstance(xml, junitparser.TestSuite) else list(xml)
    if len(suites) != 1:
        raise Invalid('%d testsuites, want 1' % len(suites))
    s = suites[0]
    cases = list(s)
    failing = [c for c in cases if any(isinstance(r, junitparser.Failure) for r in c.result)]
    other = [c for c in cases if any(not isinstance(r, (junitparser.Failure, junitparser.Skipped))
                                     for r in c.result)]
    names = sorted(c.name or '' for c in cases)
    kinds = sorted(v.store['report.schema.json']['$defs']['kind']['enum'])
    if names != kinds:
        raise Invalid('testcases %s, want one per finding kind of the report schema %s' %
                      (names, kinds))
    for c in cases:
        if not c.classname:
            raise Invalid('testcase %s: no classname' % c.name)
        for r in c.result:
            if isinstance(r, junitparser.Failure) and (not r.message or r.type != c.name):
                raise Invalid('testcase %s: a failure without message or type %s' % (c.name, c.name))
    if other:
        raise Invalid('testcase %s: a result other than failure' % other[0].name)
    for what, got, want in (('tests', s.tests, len(cases)), ('failures', s.failures, len(failing)),
                            ('errors', s.errors, 0), ('skipped', s.skipped, 0)):
        if got != want:
            raise Invalid('testsuite %s: %s="%s", but it has %d' % (s.name, what, got, want))
    if isinstance(xml, junitparser.JUnitXml):
        for what in ('tests', 'failures', 'errors'):
            if getattr(xml, what) != getattr(s, what):
                raise Invalid('testsuites %s="%s" but its testsuite says %s' %
                              (what, getattr(xml, what), getattr(s, what)))
    return 'junit, testsuite %s: %d testcases, %d failing' % (s.name, len(cases), len(failing))


def check_file(v, kind, path, verbose):
    try:
        with open(path, encoding='utf-8', errors='strict') as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise Invalid('cannot read: %s' % e) from None
    if kind == 'auto':
        kind = guess(text)
    if kind == 'junit':
        return check_junit(v, path)
    return check_json(v, kind, text, verbose)


def main(argv):
    kind, verbose, files = 'auto', False, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '--':
            files += argv[i + 1:]
            break
        if a == '--schema' and i + 1 < len(argv):
            kind = argv[i + 1]
            i += 1
        elif a.startswith('--schema='):
            kind = a.split('=', 1)[1]
        elif a == '-v':
            verbose = True
        elif a in ('-h', '--help'):
            print(__doc__.strip())
            return 0
        elif a.startswith('-') and a != '-':
            print('check_json.py: unknown option %s (see --help)' % a, file=sys.stderr)
            return 2
        else:
            files.append(a)
        i += 1
    if kind not in list(KINDS) + ['junit', 'auto']:
        print('check_json.py: --schema takes %s, not %r' %
              (', '.join(list(KINDS) + ['junit', 'auto']), kind), file=sys.stderr)
        return 2
    if not files:
        print('check_json.py: no FILE (see --help)', file=sys.stderr)
        return 2
    v = Validators()
    bad = 0
    for path in files:
        try:
            print('ok %s: %s' % (path, check_file(v, kind, path, verbose)))
        except Invalid as e:
            msg = [one_line(m, 600) for m in str(e).split('\n')]
            print('invalid %s: %s' % (path, msg[0]))
            for m in msg[1:]:
                print('    ' + m)
            bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
