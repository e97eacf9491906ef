#!/usr/bin/env python3
"""Count the pages of a SQLite WAL by the table or index they belong to.

Usage: python3 docs/walpages.py DATABASE COPY-OF-ITS-WAL

Copy a database's -wal file while Vigie runs (cp DATA/desk.db-wal /tmp/wal),
then run this on the database and the copy once Vigie has stopped. It reads
the valid frames of the copy (those with the WAL header's salts), maps each
frame's page number to its b-tree with SQLite's dbstat table, and prints the
pages per b-tree and per commit. docs/BENCHMARKS.md uses it to tell which
indexes a router batch writes. Pages added to the file after the copy show
as "?new".
"""
import collections
import sqlite3
import struct
import sys


def main(db_path, wal_path):
    data = open(wal_path, "rb").read()
    if len(data) < 32:
        sys.exit("%s: not a WAL (shorter than its header)" % wal_path)
    magic, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">IIIIIIII", data[:32])
    if magic not in (0x377F0682, 0x377F0683):
        sys.exit("%s: not a WAL (magic %#x)" % (wal_path, magic))
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    owner = {page: name for name, page in db.execute("SELECT name, pageno FROM dbstat")}
    pages, frames, commits = collections.Counter(), 0, 0
    off = 32
    while off + 24 + page_size <= len(data):
        page, commit_size, s1, s2 = struct.unpack(">IIII", data[off:off + 16])
        if (s1, s2) != (salt1, salt2):
            break  # a frame of an earlier pass over the file
        pages[owner.get(page, "?new")] += 1
        frames += 1
        if commit_size:
            commits += 1
        off += 24 + page_size
    per = max(1, commits)
    print("%s: %d frames, %d commits, %.1f pages a commit" % (db_path, frames, commits, frames / per))
    for name, n in pages.most_common():
        print("  %-24s %8d %6.1f a commit" % (name, n, n / per))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
