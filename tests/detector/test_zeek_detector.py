"""The detector end to end on a Zeek capture: IoT-23 Mirai (capture 34-1)."""

import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from botwatch.detector import RVAEDetector
from botwatch.io import read_flows, time_slice

INFECTED = "192.168.1.195"


@pytest.fixture(scope="module")
def mirai_scored(iot23_path):
    flows = read_flows(iot23_path).flows
    detector = RVAEDetector(
        train_on="benign",
        home_net=("192.168.1.0/24",),
        seq_len=16,
        stride=8,
        hidden_size=32,
        latent_dim=8,
        seed=5,
    ).fit(time_slice(flows, 0.0, 0.5))
    return detector, detector.score_flows(time_slice(flows, 0.5, 1.0))


def test_zeek_detector_trains_on_benign_flows_only(mirai_scored):
    detector, _ = mirai_scored
    summary = detector.training_summary_
    assert summary["train_on"] == "benign"
    assert summary["training_flows"] + summary["calibration_flows"] < 1923


def test_zeek_detector_mirai_flows_score_above_benign(mirai_scored):
    _, scored = mirai_scored
    labeled = scored.filter(pl.col("label_class").is_in(["botnet", "normal"]))
    y_true = (labeled.get_column("label_class") == "botnet").to_numpy()
    assert roc_auc_score(y_true, labeled.get_column("flow_score").to_numpy()) > 0.85


def test_zeek_detector_infected_host_alerts_most_windows(mirai_scored):
    detector, scored = mirai_scored
    ranking = detector.rank_hosts(scored).row(0, named=True)
    assert ranking["host"] == INFECTED
    assert ranking["alerted_windows"] >= ranking["windows"] // 2
