#!/usr/bin/env python3
"""promql_names.py: every metric a Grafana dashboard or a Prometheus rule file
queries must be one that a backlogd exposition declares.

    promql_names.py EXPOSITION DASHBOARD.json RULES.yml...
    promql_names.py --as-rules DASHBOARD.json

EXPOSITION is the text of `backlogctl metrics`. Prints each name that is not
there, with the panel or alert that uses it, and exits 1; also exits 1 when the
dashboard is not a dashboard (a panel without a data source or a query).

--as-rules prints the dashboard's queries as a rule file, Grafana's variables
replaced by values, so that `promtool check rules` parses every one.
"""
import json
import re
import sys

import yaml

# Series Prometheus makes itself for every scrape, not in any exposition.
PROMETHEUS_SERIES = {"up"}

# Words of PromQL that look like names: operators, modifiers, literals.
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan", "atan2"}


def exposition_names(text):
    """The sample names each `# TYPE` line declares, as a query spells them."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\w+)", line)
        if not m:
            continue
        name, kind = m.groups()
        names.add(name)
        # OpenMetrics names a counter's family without _total and an info's
        # without _info; the samples carry the suffix.
        if kind == "counter" and not name.endswith("_total"):
            names.add(name + "_total")
        if kind == "info" and not name.endswith("_info"):
            names.add(name + "_info")
        if kind in ("histogram", "gaugehistogram", "summary"):
            names.update(name + s for s in ("_bucket", "_sum", "_count", "_created", "_gsum", "_gcount"))
    return names


def metric_names(expr):
    """The metric names a PromQL expression selects: identifiers left once
    strings, label matchers, ranges, Grafana variables and label lists are
    taken out, that are neither a call nor a keyword."""
    s = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\$\{[^}]*\}|\$\w+", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s, flags=re.I)
    names = set()
    # A name never follows a word character, a dot or a colon (5m, 1e3, 0x1f).
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", s):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def variable_exprs(query):
    """The PromQL inside a Grafana variable query: label_values(EXPR, LABEL),
    query_result(EXPR); label_values(LABEL) selects no metric."""
    if isinstance(query, dict):
        query = query.get("query", "")
    query = (query or "").strip()
    m = re.fullmatch(r"label_values\((.*),\s*\w+\s*\)", query, re.S)
    if m:
        return [m.group(1)]
    if re.fullmatch(r"label_values\(\s*\w+\s*\)", query):
        return []
    m = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if m:
        return [m.group(1)]
    return [query] if query else []


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def dashboard_exprs(dash, problems):
    """(where, expr) of every query; notes a panel without a data source or query."""
    if not isinstance(dash.get("schemaVersion"), int):
        problems.append("dashboard: no schemaVersion")
    ids = set()
    for p in all_panels(dash.get("panels", [])):
        where = "panel %r" % p.get("title", p.get("id"))
        if p.get("id") in ids:
            problems.append("%s: id %s used twice" % (where, p.get("id")))
        ids.add(p.get("id"))
        if "gridPos" not in p:
            problems.append("%s: no gridPos" % where)
        if p.get("type") == "row":
            continue
        if not p.get("datasource"):
            problems.append("%s: no datasource" % where)
        if not p.get("targets"):
            problems.append("%s: no query" % where)
        for t in p.get("targets", []):
            if not t.get("datasource"):
                problems.append("%s, query %s: no datasource" % (where, t.get("refId")))
            if not t.get("expr"):
                problems.append("%s, query %s: no expr" % (where, t.get("refId")))
                continue
            yield "%s, query %s" % (where, t.get("refId")), t["expr"]
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            if not v.get("datasource"):
                problems.append("variable %s: no datasource" % v.get("name"))
            for e in variable_exprs(v.get("query")):
                yield "variable %s" % v.get("name"), e


def rule_exprs(rules):
    """(where, expr) of every rule, and the names recording rules define."""
    recorded = set()
    exprs = []
    for g in (rules or {}).get("groups", []):
        for r in g.get("rules", []):
            if "record" in r:
                recorded.add(r["record"])
            exprs.append(("%s %s" % ("alert" if "alert" in r else "record", r.get("alert", r.get("record"))),
                          str(r.get("expr", ""))))
    return exprs, recorded


def as_rules(path):
    """The dashboard's queries as recording rules: $__rate_interval and the
    like become 5m, every other variable the regex .+"""
    with open(path) as f:
        dash = json.load(f)
    rules = []
    for i, (where, expr) in enumerate(dashboard_exprs(dash, [])):
        e = re.sub(r"\$\{?__(rate_interval|interval|range)\}?", "5m", expr)
        e = re.sub(r"\$\{[^}]*\}|\$\w+", ".+", e)
        rules.append({"record": "dashboard:query_%d" % i, "expr": e})
    print("# %s\n" % path + yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    return 0


def main(argv):
    if len(argv) == 2 and argv[0] == "--as-rules":
        return as_rules(argv[1])
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[0]) as f:
        known = exposition_names(f.read()) | PROMETHEUS_SERIES
    problems = []
    uses = []
    try:
        with open(argv[1]) as f:
            dash = json.load(f)
    except ValueError as e:
        print("%s: not valid JSON: %s" % (argv[1], e))
        return 1
    uses += [(argv[1], w, e) for w, e in dashboard_exprs(dash, problems)]
    for path in argv[2:]:
        with open(path) as f:
            exprs, recorded = rule_exprs(yaml.safe_load(f))
        known |= recorded
        uses += [(path, w, e) for w, e in exprs]
    checked = set()
    for path, where, expr in uses:
        names = metric_names(expr)
        if not names:
            problems.append("%s: %s: names no metric: %s" % (path, where, expr))
        for n in sorted(names):
            checked.add(n)
            if n not in known:
                problems.append("%s: %s: %s is not a metric backlogd exposes" % (path, where, n))
    for p in problems:
        print(p)
    print("%d queries, %d metric names checked, %d problems" % (len(uses), len(checked), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
