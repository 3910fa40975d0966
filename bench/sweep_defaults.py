"""Measure detector settings on the standard split of CTU-13 scenario 6.

Trains on the first half of scenario 6 by time and scores the second half for
each setting given, then prints one Markdown table row per setting with the
quantities the defaults were chosen on:

- flow ROC-AUC and TPR at FPR 1%, botnet against normal flows;
- share of background flows flagged (in an alerted host window and above
  the threshold);
- C&C recall: flagged share of the flows labeled C&C;
- hosts alerted in the home network, and the infected host's alerted windows;
- host windows of verified-normal hosts that alerted;
- the infected host's place in ``rank_hosts`` (0 is first);
- seconds to fit and to score.

Usage::

    .venv/bin/python bench/sweep_defaults.py "epochs=3" "epochs=6" "seq_len=16,stride=8"

Each argument is a comma-separated list of ``RVAEConfig`` overrides; an empty
string measures the defaults. The home network is 147.32.0.0/16 throughout.
``--keep-botnet F`` keeps a random share F of the test half's botnet flows (seed
0), which imitates a quieter bot.
"""

from __future__ import annotations

import argparse
import ast
import time
from pathlib import Path

import polars as pl
from sklearn.metrics import roc_auc_score, roc_curve

from botwatch.detector import RVAEDetector
from botwatch.io import read_flows, time_slice

DEFAULT_PATH = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "ctu13"
    / "scenario06_menti_capture20110816.binetflow.gz"
)
INFECTED = "147.32.84.165"
HOME_NET = ("147.32.0.0/16",)
COLUMNS = (
    "setting",
    "ROC-AUC",
    "TPR@1%",
    "background flagged",
    "C&C recall",
    "hosts alerted",
    "bot windows",
    "normal-host windows",
    "bot rank",
    "fit s",
    "score s",
)


def parse_overrides(text: str) -> dict[str, object]:
    """Turn ``"a=1, b=x"`` into ``{"a": 1, "b": "x"}``."""
    overrides: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            overrides[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            overrides[name.strip()] = value.strip()
    return overrides


def measure(train: pl.DataFrame, test: pl.DataFrame, text: str) -> list[str]:
    """Fit and score one setting; return its table row."""
    overrides = parse_overrides(text)
    started = time.perf_counter()
    detector = RVAEDetector(home_net=HOME_NET, **overrides).fit(train)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    scored = detector.score_flows(test)
    score_s = time.perf_counter() - started
    scored = scored.with_columns(detector.flag_flows(scored))

    labeled = scored.filter(
        pl.col("label_class").is_in(["botnet", "normal"])
        & pl.col("flow_score").is_not_null()
    )
    y_true = (labeled.get_column("label_class") == "botnet").to_numpy()
    y_score = labeled.get_column("flow_score").to_numpy()
    fpr, tpr, _ = roc_curve(y_true, y_score)
    background = scored.filter(pl.col("label_class") == "background")
    command_and_control = scored.filter(pl.col("label").str.contains("CC"))
    alerts = detector.predict(scored)
    normal_hosts = (
        scored.filter(pl.col("label_class") == "normal").get_column("host").unique()
    )
    ranking = detector.rank_hosts(scored).get_column("host").to_list()
    return [
        text or "defaults",
        f"{roc_auc_score(y_true, y_score):.4f}",
        f"{tpr[fpr <= 0.01].max():.3f}",
        f"{background.get_column('flagged').mean():.2%}",
        f"{command_and_control.get_column('flagged').mean():.2f}",
        str(alerts.get_column("host").n_unique()),
        f"{alerts.filter(pl.col('host') == INFECTED).height}",
        str(alerts.filter(pl.col("host").is_in(normal_hosts.to_list())).height),
        str(ranking.index(INFECTED)) if INFECTED in ranking else "-",
        f"{fit_s:.0f}",
        f"{score_s:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="*", default=[""])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--keep-botnet", type=float, default=1.0, metavar="F")
    args = parser.parse_args()
    flows = read_flows(args.path).flows
    train = time_slice(flows, 0.0, 0.5)
    test = time_slice(flows, 0.5, 1.0)
    if args.keep_botnet < 1.0:
        is_botnet = pl.col("label_class") == "botnet"
        kept = test.filter(is_botnet).sample(fraction=args.keep_botnet, seed=0)
        test = pl.concat([test.filter(~is_botnet), kept]).sort("start_time", "line")
        print(f"kept {kept.height} botnet flows of the test half")
    windows = test.select(pl.col("start_time").dt.truncate("5m")).n_unique()
    print(f"test half: {test.height} flows in {windows} five-minute windows")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for text in args.settings:
        print("| " + " | ".join(measure(train, test, text)) + " |", flush=True)


if __name__ == "__main__":
    main()
