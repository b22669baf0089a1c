#!/usr/bin/env python3
"""Parquet preference sets for lossy's parquet reader (src/corpus/nested.rs),
written by pyarrow: tests/fixtures/preference/chat.parquet and
tests/fixtures/preference/bad/*.parquet, checked by
tests/integration/preference.rs and tests/integration/probe_sets.rs.

chat.parquet holds exactly the rows of tests/fixtures/preference/chat.jsonl
(written by scripts/preference_fixtures.py) in the layout of the Tulu 3
preference mixture and UltraFeedback binarized on the hub: `prompt` a string,
`chosen` and `rejected` lists of {role, content} structs
(list<struct<role: string, content: string>>), in row groups of 20 rows so
that reading crosses row-group boundaries. The Rust test requires lossy to
read from it the same pairs, the same sha256, the same token ids and the
same preference information (against this script's sibling reference) as
from the .jsonl.

bad/ holds one broken file per failure lossy must name (file, row, field):
- null_content.parquet: row 2's `chosen` has a message whose content is null;
- int_content.parquet: `content` is an integer (list<struct<role, content: int64>>);
- no_content.parquet: the message struct has no `content` field at all;
- binary_column.parquet: `chosen` is a binary column (not text or messages).
(Only null_content.parquet has a good first row.)

    python3 scripts/preference_parquet_fixtures.py            # (re)write the files
    python3 scripts/preference_parquet_fixtures.py --check    # read the committed files back with
                                                              # pyarrow, compare schema and values
                                                              # with what this script would write,
                                                              # exit 1 on difference

Parquet bytes depend on the pyarrow version (the writer's name is in the
footer), so --check compares the decoded tables, not bytes.
"""

import argparse
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
DIR = ROOT / "tests" / "fixtures" / "preference"
ROW_GROUP = 20

MSG = pa.struct([("role", pa.string()), ("content", pa.string())])


def chat_table():
    rows = [json.loads(l) for l in (DIR / "chat.jsonl").read_text().splitlines() if l.strip()]
    return pa.table(
        {
            "prompt": pa.array([r["prompt"] for r in rows], pa.string()),
            "chosen": pa.array([r["chosen"] for r in rows], pa.list_(MSG)),
            "rejected": pa.array([r["rejected"] for r in rows], pa.list_(MSG)),
        }
    )


def conversation(answer):
    return [{"role": "user", "content": "a"}, {"role": "assistant", "content": answer}]


def bad_tables():
    good = conversation(" b")
    rejected = pa.array([conversation(" c")] * 2, pa.list_(MSG))
    prompt = pa.array(["a", "a"], pa.string())
    int_msg = pa.struct([("role", pa.string()), ("content", pa.int64())])
    role_only = pa.struct([("role", pa.string())])
    return {
        "null_content.parquet": pa.table(
            {
                "prompt": prompt,
                "chosen": pa.array(
                    [good, [{"role": "user", "content": "a"}, {"role": "assistant", "content": None}]],
                    pa.list_(MSG),
                ),
                "rejected": rejected,
            }
        ),
        "int_content.parquet": pa.table(
            {
                "prompt": prompt,
                "chosen": pa.array(
                    [[{"role": "assistant", "content": 1}]] * 2, pa.list_(int_msg)
                ),
                "rejected": rejected,
            }
        ),
        "no_content.parquet": pa.table(
            {
                "prompt": prompt,
                "chosen": pa.array([[{"role": "assistant"}]] * 2, pa.list_(role_only)),
                "rejected": rejected,
            }
        ),
        "binary_column.parquet": pa.table(
            {
                "prompt": prompt,
                "chosen": pa.array([b" b", b" c"], pa.binary()),
                "rejected": rejected,
            }
        ),
    }


def files():
    out = {DIR / "chat.parquet": chat_table()}
    for name, table in bad_tables().items():
        out[DIR / "bad" / name] = table
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    bad = 0
    for path, table in files().items():
        rel = path.relative_to(ROOT)
        if args.check:
            if not path.is_file():
                print(f"{rel}: missing (run scripts/preference_parquet_fixtures.py)")
                bad += 1
                continue
            got = pq.read_table(path)
            if not got.equals(table):
                print(f"{rel}: differs from what this script writes")
                bad += 1
            elif path.name == "chat.parquet" and pq.ParquetFile(path).num_row_groups != 3:
                print(f"{rel}: expected 3 row groups of {ROW_GROUP}")
                bad += 1
            else:
                print(f"{rel}: ok")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".parquet.tmp")
            pq.write_table(table, tmp, row_group_size=ROW_GROUP)
            tmp.replace(path)
            print(f"wrote {rel} ({table.num_rows} rows)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
