"""Replays recpipe's ClickHouse corpus (test/ecosystem/clickhouse-corpus.ts) on chdb, the
ClickHouse engine of current releases embedded in process: the DDL, every JSONEachRow insert the
job's encoders produce, and the analyst and product queries. Prints one line per failure and a
summary; exits 1 if anything failed. Python is only the host of chdb here, not part of recpipe.

Usage: python chdb_check.py CORPUS.json SESSION_DIR
"""

import json
import sys

import chdb
import chdb.session


def main() -> int:
    corpus_path, session_dir = sys.argv[1], sys.argv[2]
    with open(corpus_path, encoding="utf-8") as f:
        corpus = json.load(f)
    db = corpus["database"]
    s = chdb.session.Session(session_dir)
    version = s.query("SELECT version()", "CSV").bytes().decode().strip().strip('"')
    failures = []

    def run(what, sql, fmt="CSV"):
        try:
            return s.query(sql, fmt)
        except Exception as err:  # chdb raises its own error types; any of them is a failure
            failures.append(f"{what}: {str(err).splitlines()[0][:400]}")
            return None

    for i, stmt in enumerate(corpus["ddl"]):
        run(f"DDL #{i + 1} ({' '.join(stmt.split()[:6])})", stmt)

    # Strict: an encoder key that is not a named column must fail here, not be dropped quietly.
    strict = "SETTINGS input_format_skip_unknown_fields = 0"
    for ins in corpus["inserts"]:
        table, lines = ins["table"], ins["lines"]
        if not lines:
            failures.append(f"insert {table}: the corpus produced no rows")
            continue
        cols = ", ".join(f"`{c}`" for c in ins["columns"])
        body = "\n".join(lines)
        if run(f"insert {table}", f"INSERT INTO {db}.{table} ({cols}) {strict} FORMAT JSONEachRow\n{body}") is None:
            continue
        got = run(f"count {table}", f"SELECT count() FROM {db}.{table} FINAL")
        if got is not None:
            n = int(got.bytes().decode().strip())
            if n != len(lines):
                failures.append(f"insert {table}: {len(lines)} rows sent, {n} stored")

    rows_returned = 0
    for q in corpus["queries"]:
        head = " ".join(q["sql"].split())[:70]
        res = run(f"query from {q['from']} ({head})", q["sql"], "JSONEachRow")
        if res is not None:
            rows_returned += len([ln for ln in res.bytes().decode().splitlines() if ln.strip()])

    for f in failures:
        print(f"chdb FAIL {f}")
    print(
        f"chdb {version}: {len(corpus['ddl'])} DDL statements, {len(corpus['inserts'])} insert formats "
        f"({sum(len(i['lines']) for i in corpus['inserts'])} rows), {len(corpus['queries'])} queries "
        f"({rows_returned} rows returned), {len(failures)} failures"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
