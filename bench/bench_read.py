"""Benchmark: read CTU-13 scenario 6 with read_flows and with pandas.read_csv.

Each reader runs in its own subprocess, so the peak resident set size (which
includes polars' and pandas' native allocations, unlike tracemalloc) belongs
to that reader alone. Prints flows per second for each reader, their ratio,
the CPU seconds of the best run (all threads), the peak RSS growth next to
the table's ``estimated_size()``, and the 1-minute load average before and
after, because other work on the machine changes the numbers.

Usage::

    .venv/bin/python bench/bench_read.py [--path FILE] [--repeat 3] [--out result.json]

This is a benchmark, not a test; numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

DEFAULT_PATH = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "ctu13"
    / "scenario06_menti_capture20110816.binetflow.gz"
)

# Runs inside the child process: reads the file ``repeat`` times and prints
# one JSON object with the best time, the row count, the table size and RSS.
CHILD = r"""
import json, resource, sys, time

def rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0

reader, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
if reader == "botwatch":
    from botwatch.io import read_flows

    def run():
        flows = read_flows(path).flows
        return flows.height, flows.estimated_size()
else:
    import pandas as pd

    def run():
        frame = pd.read_csv(
            path,
            dtype={
                "Dur": "float64", "Proto": "string", "SrcAddr": "string",
                "Sport": "string", "Dir": "string", "DstAddr": "string",
                "Dport": "string", "State": "string", "sTos": "float64",
                "dTos": "float64", "TotPkts": "int64", "TotBytes": "int64",
                "SrcBytes": "int64", "Label": "string",
            },
        )
        frame["StartTime"] = pd.to_datetime(
            frame["StartTime"], format="%Y/%m/%d %H:%M:%S.%f", utc=True
        )
        return len(frame), int(frame.memory_usage(deep=True).sum())

baseline = rss_bytes()
times, cpu_times = [], []
for _ in range(repeat):
    start, cpu_start = time.perf_counter(), time.process_time()
    rows, size = run()
    times.append(time.perf_counter() - start)
    cpu_times.append(time.process_time() - cpu_start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({
    "rows": rows, "seconds": min(times), "all_seconds": times,
    "cpu_seconds": min(cpu_times),
    "table_bytes": size, "baseline_rss_bytes": baseline,
    "peak_rss_bytes": peak, "peak_rss_growth_bytes": peak - baseline,
}))
"""


def run_reader(reader: str, path: Path, repeat: int) -> dict:
    """Run one reader in a fresh interpreter and return its measurements."""
    output = subprocess.run(
        [sys.executable, "-c", CHILD, reader, str(path), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["flows_per_second"] = result["rows"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument(
        "--repeat", type=int, default=3, help="reads per reader; the best time counts"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="write the result as JSON here"
    )
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    botwatch = run_reader("botwatch", args.path, args.repeat)
    pandas = run_reader("pandas", args.path, args.repeat)
    load_after = os.getloadavg()[0]
    ratio = botwatch["flows_per_second"] / pandas["flows_per_second"]
    mib = 1024 * 1024
    for name, result in (("read_flows", botwatch), ("pandas.read_csv", pandas)):
        print(
            f"{name:16} {result['rows']:>9,} flows  {result['seconds']:6.2f} s  "
            f"{result['flows_per_second']:>12,.0f} flows/s  "
            f"CPU {result['cpu_seconds']:5.2f} s  "
            f"peak RSS +{result['peak_rss_growth_bytes'] / mib:,.0f} MiB  "
            f"table {result['table_bytes'] / mib:,.0f} MiB"
        )
    print(f"read_flows / pandas throughput ratio: {ratio:.2f}")
    print(f"1-minute load average: {load_before:.2f} before, {load_after:.2f} after")
    if args.out is not None:
        record = {
            "path": str(args.path),
            "repeat": args.repeat,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "read_flows": botwatch,
            "pandas_read_csv": pandas,
            "throughput_ratio": ratio,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
