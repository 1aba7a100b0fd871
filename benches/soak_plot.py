"""Draws the soak tool's CSV (benches/src/bin/soak.rs) to a PNG: requests/s, p99 latency and
the server's resident memory over time.

    python3 benches/soak_plot.py docs/soak.csv docs/soak.png   (pip install matplotlib)
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, target: str) -> None:
    with open(source, newline="") as handle:
        rows = list(csv.DictReader(handle))
    minutes = [float(r["seconds"]) / 60 for r in rows]
    series = [
        ("requests/s", [float(r["requests_per_second"]) for r in rows], "#1f5fa8"),
        ("p99 latency (ms)", [float(r["p99_ms"]) for r in rows], "#b5461a"),
        ("server resident memory (MiB)", [float(r["resident_mib"]) for r in rows], "#2e7d32"),
    ]
    figure, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    for axis, (label, values, colour) in zip(axes, series):
        axis.plot(minutes, values, color=colour, linewidth=1.4)
        axis.set_ylabel(label)
        axis.set_ylim(bottom=0, top=max(values) * 1.15 if values else 1)
        axis.grid(alpha=0.3)
    axes[-1].set_xlabel("minutes")
    errors = sum(int(r["errors"]) for r in rows)
    figure.suptitle(f"tillval soak: mixed tenant load, {minutes[-1]:.0f} min, {errors} errors")
    figure.tight_layout()
    figure.savefig(target, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
