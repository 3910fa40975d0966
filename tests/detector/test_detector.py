from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
import torch

from botwatch.detector import RVAEDetector, select_training_flows
from botwatch.errors import ConfigError, NotFittedError, TrainingError
from botwatch.features import FeatureEncoder
from botwatch.model.config import RVAEConfig
from botwatch.sequences import assign_hosts, build_sequences
from botwatch.training import train_model

from factories import TINY_DETECTOR as TINY
from factories import make_flows

INFECTED = "147.32.84.165"


def test_detector_scores_every_monitored_flow(tiny_scored, test_slice):
    assert tiny_scored.height == test_slice.height
    monitored = tiny_scored.filter(pl.col("host").is_not_null())
    assert monitored.get_column("flow_score").null_count() == 0
    outside = tiny_scored.filter(pl.col("host").is_null())
    assert outside.get_column("flow_score").null_count() == outside.height


def test_detector_botnet_flows_score_above_normal(tiny_scored):
    from sklearn.metrics import roc_auc_score

    labeled = tiny_scored.filter(pl.col("label_class").is_in(["botnet", "normal"]))
    y = (labeled.get_column("label_class") == "botnet").to_numpy()
    auc = roc_auc_score(y, labeled.get_column("flow_score").to_numpy())
    assert auc > 0.9


def test_detector_infected_host_alerts_and_ranks_high(tiny_detector, tiny_scored):
    alerts = tiny_detector.predict(tiny_scored)
    assert INFECTED in alerts.get_column("host").to_list()
    ranking = tiny_detector.rank_hosts(tiny_scored).get_column("host").to_list()
    assert ranking.index(INFECTED) < 10


def test_detector_normal_hosts_rarely_alert(tiny_detector, tiny_scored):
    normal_hosts = (
        tiny_scored.filter(pl.col("label_class") == "normal")
        .get_column("host")
        .unique()
        .to_list()
    )
    windows = tiny_detector.score_hosts(tiny_scored).filter(
        pl.col("host").is_in(normal_hosts)
    )
    alerted = windows.filter(pl.col("host_score") > tiny_detector.threshold_)
    assert windows.height > 0
    assert alerted.height / windows.height <= 0.2


def test_detector_flagged_flows_lie_in_alerts(tiny_detector, tiny_scored):
    flagged = tiny_scored.filter(tiny_detector.flag_flows(tiny_scored))
    alerted_hosts = set(tiny_detector.predict(tiny_scored).get_column("host"))
    assert flagged.height > 0
    assert set(flagged.get_column("host")) <= alerted_hosts
    assert (flagged.get_column("flow_score") > tiny_detector.threshold_).all()


def test_detector_host_window_score_shrinks_single_flow(tiny_detector):
    prior = tiny_detector.prior_score_
    start = datetime(2011, 8, 16, 10, 0, 1, tzinfo=UTC)
    scored = pl.DataFrame(
        {
            "host": ["one-odd"] + ["steady"] * 20,
            "start_time": [start] * 21,
            # With prior_weight k, one flow at +d scores d / (1 + k) above the
            # prior, 20 flows at +5 score 100 / (20 + k): for k = 5, 3.3 and 4.
            "flow_score": [prior + 20.0] + [prior + 5.0] * 20,
        }
    )
    windows = tiny_detector.score_hosts(scored)
    scores = dict(windows.select("host", "host_score").iter_rows())
    assert tiny_detector.config.prior_weight == 5.0
    assert scores["steady"] > scores["one-odd"]


def test_detector_rank_hosts_persistent_first(tiny_detector):
    prior = tiny_detector.prior_score_
    gap = tiny_detector.threshold_ - prior
    high = prior + 4 * gap
    start = datetime(2011, 8, 16, 10, 0, 1, tzinfo=UTC)
    rows = []
    # "burst" alerts in one window with very high scores; "beacon" alerts in
    # three windows with lower scores that still reach the threshold.
    for _ in range(30):
        rows.append(("burst", start, high))
    for window in range(3):
        for _ in range(30):
            rows.append(
                (
                    "beacon",
                    start + timedelta(seconds=300 * window),
                    prior + 2 * gap,
                )
            )
    scored = pl.DataFrame(
        rows, schema=["host", "start_time", "flow_score"], orient="row"
    )
    ranking = tiny_detector.rank_hosts(scored)
    assert ranking.get_column("host").to_list() == ["beacon", "burst"]
    assert ranking.get_column("alerted_windows").to_list() == [3, 1]


def test_detector_same_seed_same_scores(train_slice, test_slice):
    part = test_slice.head(5000)
    config = {**TINY, "epochs": 1, "max_train_sequences": 500}
    first = RVAEDetector(**config).fit(train_slice).score_flows(part)
    second = RVAEDetector(**config).fit(train_slice).score_flows(part)
    np.testing.assert_array_equal(
        first.get_column("flow_score").to_numpy(),
        second.get_column("flow_score").to_numpy(),
    )


def test_detector_fit_leaves_global_rng_alone(train_slice):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    RVAEDetector(**{**TINY, "epochs": 1, "max_train_sequences": 200}).fit(
        train_slice.head(20_000)
    )
    torch.testing.assert_close(torch.rand(3), expected)


def test_detector_training_summary(tiny_detector, train_slice):
    summary = tiny_detector.training_summary_
    assert summary["train_on"] == "non-botnet"
    assert summary["rows"] == train_slice.height
    assert (
        summary["training_flows"] + summary["calibration_flows"] <= train_slice.height
    )


def test_detector_not_fitted_error(test_slice):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        RVAEDetector().score_flows(test_slice)


def test_select_training_flows_rules():
    flows = make_flows(
        [
            {"label_class": "normal"},
            {"label_class": "botnet"},
            {"label_class": "background"},
            {"label_class": None},
        ]
    )
    assert select_training_flows(flows, "benign").height == 1
    assert select_training_flows(flows, "non-botnet").height == 3
    assert select_training_flows(flows, "all").height == 4


def test_select_training_flows_empty_error():
    flows = make_flows([{"label_class": "botnet"}])
    with pytest.raises(ConfigError, match="no training flows left"):
        select_training_flows(flows, "benign")


def test_detector_home_net_outside_error():
    flows = make_flows([{"seconds": i, "src_addr": "8.8.8.8"} for i in range(10)])
    with pytest.raises(ConfigError, match="home network"):
        RVAEDetector(home_net=("10.0.0.0/8",)).fit(flows)


def test_training_nan_loss_raises_clear_error():
    flows = assign_hosts(make_flows([{"seconds": i} for i in range(20)]), None)
    encoder = FeatureEncoder(min_count=1).fit(flows)
    encoded = encoder.transform(flows)
    encoded.numeric[3, 0] = np.nan
    index = build_sequences(flows, seq_len=4, stride=2)
    config = RVAEConfig(hidden_size=4, latent_dim=2, epochs=1)
    detector = RVAEDetector(config)
    model = detector._build_model(encoder.cardinalities)
    with pytest.raises(TrainingError, match="training loss became nan"):
        train_model(model, config, (encoded, index), None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seq_len", 0, "seq_len must lie in"),
        ("stride", 40, "stride"),
        ("target_fpr", 0.9, "target_fpr must lie in"),
        ("train_on", "botnet", "train_on must be one of"),
        ("epochs", 1.5, "epochs must be an integer"),
        ("variational", "yes", "variational must be true or false"),
    ],
)
def test_config_rejects_bad_values(field, value, message):
    with pytest.raises(ConfigError, match=message):
        RVAEConfig(**{field: value})


def test_config_from_dict_unknown_key():
    with pytest.raises(ConfigError, match="unknown configuration keys"):
        RVAEConfig.from_dict({"seq_len": 4, "colour": "red"})


def test_detector_host_offsets_from_sent_training_flows(tiny_detector, train_slice):
    offsets = tiny_detector.host_offsets()
    senders = set(
        train_slice.filter(pl.col("label_class") != "botnet").get_column("src_addr")
    )
    assert offsets.height > 0
    assert set(offsets.get_column("host")) <= senders
    # Every flow the infected host sent in training is labeled botnet, so it
    # has no level of its own and is judged against the whole network.
    assert INFECTED not in set(offsets.get_column("host"))


def test_detector_flow_score_subtracts_host_offset(tiny_detector, tiny_scored):
    offsets = dict(tiny_detector.host_offsets().iter_rows())
    row = tiny_scored.filter(pl.col("host").is_in(list(offsets))).row(0, named=True)
    expected = row["raw_score"] - offsets[row["host"]]
    assert row["flow_score"] == pytest.approx(expected)
    infected = tiny_scored.filter(pl.col("host") == INFECTED)
    np.testing.assert_array_equal(
        infected.get_column("flow_score").to_numpy(),
        infected.get_column("raw_score").to_numpy(),
    )


def test_detector_without_host_baselines_uses_raw_scores(train_slice, test_slice):
    config = {**TINY, "epochs": 1, "max_train_sequences": 300, "host_baselines": False}
    detector = RVAEDetector(**config).fit(train_slice.head(20_000))
    scored = detector.score_flows(test_slice.head(2000))
    assert detector.host_offsets().height == 0
    np.testing.assert_array_equal(
        scored.get_column("flow_score").to_numpy(),
        scored.get_column("raw_score").to_numpy(),
    )
