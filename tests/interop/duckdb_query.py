"""Runs the archive queries of docs/queries/duckdb with DuckDB, as a user would, and prints what
they return as JSON: [{"file": ..., "columns": [...], "rows": [[...], ...]}, ...].

Usage: duckdb_query.py ARCHIVE [--s3-endpoint HOST:PORT] VIEW.sql QUERY.sql...

ARCHIVE is a directory or s3://BUCKET/PREFIX. For S3 the httpfs extension is loaded from the
pinned duckdb-ext-httpfs wheel (nothing is downloaded) and the S3 server is reached without TLS
with path-style addressing, with the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""

import glob
import importlib.util
import json
import os
import sys

import duckdb


def main():
    args = sys.argv[1:]
    archive, endpoint = args.pop(0), None
    if args[:1] == ["--s3-endpoint"]:
        endpoint = args[1]
        args = args[2:]
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    if archive.startswith("s3://"):
        spec = importlib.util.find_spec("duckdb_ext")
        found = glob.glob(os.path.join(spec.submodule_search_locations[0], "extensions", "*", "*", "httpfs.duckdb_extension"))
        if len(found) != 1:
            sys.exit(f"duckdb_query.py: expected one httpfs extension in duckdb-ext-httpfs, found {found}")
        con.execute(f"LOAD '{found[0]}'")
        key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
        con.execute(
            f"CREATE SECRET s3 (TYPE s3, KEY_ID '{key}', SECRET '{secret}', REGION 'us-east-1', "
            f"ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false)"
        )
    con.execute("SET VARIABLE archive = $archive", {"archive": archive})
    view, queries = args[0], args[1:]
    with open(view, encoding="utf-8") as f:
        con.execute(f.read())
    out = []
    for path in queries:
        with open(path, encoding="utf-8") as f:
            result = con.sql(f.read())
        out.append({"file": os.path.basename(path), "columns": result.columns, "rows": result.fetchall()})
    json.dump(out, sys.stdout, default=str)
    print()


if __name__ == "__main__":
    main()
