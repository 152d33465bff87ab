#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/seed-*) from the real recordings and captures:
the bundled data/ and, where it is there, ../shared/data. Run from the repository root after a build (the
binary-format and journal seeds are made by `tranche` itself):

    python3 fuzz/make-seeds.py build/bin/tranche

Seeds are small slices (tens of lines) so that `make test` replays every corpus in seconds. Inputs a fuzzer
found crashing live beside them as crash-<what> files, written by hand from the fuzzer's artifact, and are kept
for good: each is a regression test.
"""
import gzip
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def lines(path, count, start=0):
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt") as f:
        for i, line in enumerate(f):
            if i >= start + count:
                break
            if i >= start:
                out.append(line)
    return out


def trim_snapshot(json_text, levels=20):
    doc = json.loads(json_text)
    for side in ("bids", "asks"):
        if side in doc:
            doc[side] = doc[side][:levels]
    return json.dumps(doc, separators=(",", ":"))


def binance_slice(path, count):
    """The recording's first lines up to the snapshot and `count` after it, the snapshot cut to 20 levels."""
    out = []
    opener = gzip.open if path.endswith(".gz") else open
    after = None
    with opener(path, "rt") as f:
        for line in f:
            stamp, _, payload = line.rstrip("\n").partition(" ")
            if payload.startswith('{"lastUpdateId"'):
                payload = trim_snapshot(payload)
                after = 0
            out.append(stamp + " " + payload)
            if after is not None:
                after += 1
                if after > count:
                    break
    return out


def md_seeds():
    markets = [("spot", "data/binance/spot/ethusdt_20240808.gz"), ("usdm", "data/binance/usdm/ethusdt_20240808.gz"),
               ("cm", "data/binance/cm/ethusd_perp_20240808.gz")]
    for name, rel in markets:
        recording = binance_slice(os.path.join(ROOT, rel), 40)
        write("md_binance", name, "\n".join(recording) + "\n")
        write("md_binance", name + ".gz", gzip.compress(("\n".join(recording[:12]) + "\n").encode(), mtime=0))
        # The gateway sees the payloads alone; USD-M and COIN-M are read with futures' sequencing.
        payloads = [l.partition(" ")[2] for l in recording]
        snapshot = next(p for p in payloads if p.startswith('{"lastUpdateId"'))
        header = "usdm\n" if name != "spot" else ""
        write("binance_depth", name, header + "\n".join(payloads) + "\n")
        write("binance_depth", name + "-rest-snapshot",
              header + "\n".join(payloads[:6]) + "\nS " + snapshot + "\n" + "\n".join(payloads[-10:]) + "\n")
    tardis = os.path.join(SHARED, "nautilus", "tardis")
    if os.path.isdir(tardis):
        for file in sorted(os.listdir(tardis)):
            if file.endswith(".csv"):
                write("md_tardis", file, "".join(lines(os.path.join(tardis, file), 30)))
    lobster = os.path.join(SHARED, "lobster", "AMZN_2012-06-21_34200000_57600000_message_1.csv")
    if os.path.exists(lobster):
        write("md_lobster", "amzn", "".join(lines(lobster, 40)))
        write("md_lobster", "amzn-header", "Time,Type,OrderId,Size,Price,Direction\n" + "".join(lines(lobster, 40, 500)))
    mbo = os.path.join(SHARED, "nautilus", "databento", "derived-csv")
    if os.path.isdir(mbo):
        for file in sorted(os.listdir(mbo)):
            if "mbo" in file:
                write("md_mbo", file.replace(".csv.gz", ""), "".join(lines(os.path.join(mbo, file), 40)))


def binary_seeds(tranche):
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("spot", "usdm"):
            src = os.path.join(CORPUS, "md_binance", "seed-" + name)
            out = os.path.join(tmp, name + ".tbin")
            subprocess.run([tranche, "md", "convert", src, "-o", out], check=True, capture_output=True)
            with open(out, "rb") as f:
                write("md_binary", name, f.read())


FIX_TIME = "20240808-23:56:05.000"


def fix(body_fields, seq):
    header = ["35=" + body_fields[0], "49=CLIENT1", "56=TRANCHE", "34=%d" % seq, "52=" + FIX_TIME]
    return "|".join(header + body_fields[1:]) + "|"


def fix_seeds():
    new = ["D", "11=p1", "1=desk", "55=ETH-USDT", "54=1", "38=1.5", "40=2", "44=2700", "60=" + FIX_TIME,
           "847=1000", "126=20240808-23:59:00.000"]
    write("fix_parent", "twap", fix(new, 2) + "\n")
    write("fix_parent", "pov-market", fix(["D", "11=p2", "55=ETH-USDT", "54=2", "38=0.8", "40=1",
                                           "60=" + FIX_TIME, "847=2", "849=0.1"], 3) + "\n")
    write("fix_parent", "iceberg", fix(["D", "11=p3", "55=ETH-USDT", "54=1", "38=2", "40=2", "44=2600",
                                        "60=" + FIX_TIME, "7001=iceberg", "848=display=0.2"], 4) + "\n")
    write("fix_parent", "new-then-cancel", fix(new, 2) + "\n" +
          fix(["F", "41=p1", "11=c1", "55=ETH-USDT", "54=1", "38=1.5", "60=" + FIX_TIME], 3) + "\n")
    write("fix_parent", "new-then-replace", fix(new, 2) + "\n" +
          fix(["G", "41=p1", "11=r1", "55=ETH-USDT", "54=1", "38=2", "40=2", "44=2690", "60=" + FIX_TIME,
               "847=1000"], 3) + "\n")
    write("fix_parent", "status", fix(new, 2) + "\n" + fix(["H", "11=p1", "55=ETH-USDT", "54=1"], 3) + "\n")
    write("fix_parent", "refused", fix(["D", "11=bad", "55=DOGE-USDT", "54=1", "38=-1", "40=2", "44=0",
                                        "60=" + FIX_TIME], 2) + "\n")
    body = fix(new, 2).replace("|", "\x01")
    framed = "8=FIX.4.4\x019=%d\x01%s" % (len(body), body)
    framed += "10=%03d\x01" % (sum(framed.encode()) % 256)
    write("fix_parent", "framed", framed.replace("\x01", "|") + "\n")


def config_seeds():
    for folder in ("config", "scenarios", "grids"):
        path = os.path.join(ROOT, folder)
        for file in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            if file.endswith(".toml"):
                with open(os.path.join(path, file)) as f:
                    write("config", folder + "-" + file.replace(".toml", ""), f.read())


def journal_seeds(tranche):
    with tempfile.TemporaryDirectory() as tmp:
        journal = os.path.join(tmp, "seed.journal")
        subprocess.run([tranche, "execute", "--side", "buy", "--qty", "2", "--instrument", "ETH-USDT",
                        "--algo", "twap", "--journal", journal],
                       check=True, capture_output=True)
        db = sqlite3.connect(journal)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = db.execute("SELECT type, version, body FROM journal ORDER BY seq").fetchall()
        db.close()
        records = b"".join(struct.pack("<HHH", t, v, len(b)) + bytes(b) for t, v, b in rows)
        write("journal", "twap-records", records)
        with open(journal, "rb") as f:
            write("journal", "twap-file", f.read())


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-seeds.py PATH/TO/tranche")
    tranche = os.path.abspath(sys.argv[1])
    for target in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        for file in os.listdir(os.path.join(CORPUS, target)):
            if file.startswith("seed-"):
                os.remove(os.path.join(CORPUS, target, file))
    if not os.path.isdir(SHARED):
        print("make-seeds: ../shared/data is absent: no Tardis, LOBSTER or MBO seeds", file=sys.stderr)
    md_seeds()
    binary_seeds(tranche)
    fix_seeds()
    config_seeds()
    journal_seeds(tranche)


if __name__ == "__main__":
    main()
