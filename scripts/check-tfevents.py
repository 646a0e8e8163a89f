#!/usr/bin/env python3
"""Reads Ingot's TensorBoard event files with TensorBoard's own reader and prints what it finds.

    python3 scripts/check-tfevents.py LOGDIR [--expect-tags epoch_loss,epoch_accuracy] [--json]

Uses the `tensorboard` Python package (pip install tensorboard): its EventFileLoader checks every
record's CRCs and parses the protos with the official definitions, and its EventAccumulator is
what the TensorBoard server itself loads runs with. Prints, per run folder, each tag with its
plugin, number of points, steps and last value; exits 1 when a file cannot be read or an expected
tag is missing, and 2 when the `tensorboard` package is not installed (the unit tests then rely on
Ingot's independent reader, src/tensorboard/reader.ts, written from the format specification).
"""
import argparse
import json
import os
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logdir")
    ap.add_argument("--expect-tags", default="", help="comma-separated tags that must be present in some run")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    try:
        from tensorboard.backend.event_processing import event_accumulator
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    except ImportError:
        print("check-tfevents: the `tensorboard` Python package is not installed (pip install tensorboard)", file=sys.stderr)
        return 2

    runs = {}
    for root, _dirs, files in sorted(os.walk(args.logdir)):
        events = sorted(f for f in files if "tfevents" in f)
        if not events:
            continue
        # 1. Every record of every file, through the loader (CRC checks, proto parsing).
        n_records = 0
        for f in events:
            for event in EventFileLoader(os.path.join(root, f)).Load():
                n_records += 1
                if n_records == 1 and event.file_version != "brain.Event:2":
                    print(f"check-tfevents: {f}: first record is not the file_version event", file=sys.stderr)
                    return 1
        # 2. The run as TensorBoard's server sees it.
        acc = event_accumulator.EventAccumulator(root, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0, event_accumulator.HISTOGRAMS: 0, event_accumulator.IMAGES: 0})
        acc.Reload()
        tags = acc.Tags()
        run = {"records": n_records, "scalars": {}, "histograms": {}, "images": {}, "tensors": {}}
        for tag in tags.get("scalars", []):
            pts = acc.Scalars(tag)
            run["scalars"][tag] = {"points": len(pts), "steps": [p.step for p in pts], "last": pts[-1].value}
        for tag in tags.get("histograms", []):
            run["histograms"][tag] = {"points": len(acc.Histograms(tag))}
        for tag in tags.get("images", []):
            imgs = acc.Images(tag)
            run["images"][tag] = {"points": len(imgs), "size": [imgs[-1].height, imgs[-1].width]}
        for tag in tags.get("tensors", []):
            run["tensors"][tag] = {"points": len(acc.Tensors(tag)), "plugin": acc.SummaryMetadata(tag).plugin_data.plugin_name}
        runs[os.path.relpath(root, args.logdir)] = run

    if not runs:
        print(f"check-tfevents: no events files under {args.logdir}", file=sys.stderr)
        return 1
    found = {t for r in runs.values() for kind in ("scalars", "histograms", "images", "tensors") for t in r[kind]}
    missing = [t for t in args.expect_tags.split(",") if t and t not in found]
    if args.json:
        print(json.dumps({"runs": runs, "missing": missing}))
    else:
        for name, r in runs.items():
            print(f"{name}: {r['records']} records")
            for kind in ("scalars", "histograms", "images", "tensors"):
                for tag, info in r[kind].items():
                    print(f"  {kind[:-1]:9} {tag:32} {json.dumps(info)}")
    if missing:
        print(f"check-tfevents: missing tags: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
