"""chdb (the ClickHouse engine of current releases, in process) behind a line protocol, so the
ecosystem check (test/ecosystem/clickhouse-check.ts) can send recpipe's own SQL through it.
Python is only the host of chdb here, not part of recpipe.

Usage: python chdb_server.py SESSION_DIR
Each stdin line is {"sql": "...", "format": "JSONEachRow" | null}; each answer, one stdout line,
is {"ok": true, "text": "...", "version": "..."} or {"ok": false, "error": "..."}.
"""

import json
import sys

import chdb.session


def main() -> int:
    s = chdb.session.Session(sys.argv[1])
    version = s.query("SELECT version()", "CSV").bytes().decode().strip().strip('"')
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            res = s.query(req["sql"], req.get("format") or "CSV")
            out = {"ok": True, "text": res.bytes().decode(), "version": version}
        except Exception as err:  # chdb raises its own error types; each is an answer
            out = {"ok": False, "error": str(err).splitlines()[0][:500] if str(err) else repr(err)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
