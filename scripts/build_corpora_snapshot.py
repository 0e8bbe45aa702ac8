"""Rebuild the compact corpus snapshot in ``corpora/`` from the PyPI packages.

    python scripts/build_corpora_snapshot.py [--cache DIR] [--out corpora] [--source oboe ...]

Downloads oboe==0.2.0, lcdb==0.1.0 and auto-sklearn==0.15.0 with ``pip download --no-deps``
(once, into the cache), reads their data files (never imports them) and writes the
deterministic snapshot; running it twice gives byte-identical files. Same as
``mile-meta corpora fetch --out corpora``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mile_meta.corpora import CORPUS_PACKAGES, build_snapshot, default_snapshot_dir, fetch_packages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cache", type=Path, default=None, help="download cache (default: user cache)"
    )
    parser.add_argument("--out", type=Path, default=default_snapshot_dir(), help="snapshot folder")
    parser.add_argument("--source", action="append", choices=sorted(CORPUS_PACKAGES), default=None)
    args = parser.parse_args()
    unpacked = fetch_packages(args.cache, args.source, log=print)
    written = build_snapshot(unpacked, args.out, log=print)
    for name, files in written.items():
        print(f"{name}: {', '.join(files)}")


if __name__ == "__main__":
    main()
