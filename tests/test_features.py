import numpy as np
import pytest

from botwatch.errors import NotFittedError
from botwatch.features import CATEGORICAL, NUMERIC, FeatureEncoder

from factories import make_flows


def _training_flows():
    rows = []
    for i in range(40):
        rows.append({"seconds": i * 10, "dst_port": 80, "dst_addr": "192.0.2.1"})
        rows.append({"seconds": i * 10 + 1, "dst_port": 443, "dst_addr": "192.0.2.2"})
    return make_flows(rows)


def test_feature_encoder_standardises_training_flows():
    flows = _training_flows()
    encoded = FeatureEncoder().fit(flows).transform(flows)
    assert encoded.numeric.shape == (flows.height, len(NUMERIC))
    assert encoded.categorical.shape == (flows.height, len(CATEGORICAL))
    assert encoded.numeric.dtype == np.float32
    np.testing.assert_allclose(encoded.numeric.mean(axis=0), 0.0, atol=1e-5)


def test_feature_encoder_unseen_values_map_to_unknown():
    encoder = FeatureEncoder().fit(_training_flows())
    odd = make_flows([{"proto": "sctp", "dst_port": 9999, "state": "WEIRD"}])
    codes = encoder.transform(odd).categorical[0]
    assert codes[CATEGORICAL.index("proto")] == 0
    assert codes[CATEGORICAL.index("state")] == 0
    # An unseen registered port falls into its range class, which was not seen
    # in training either, so it is unknown too.
    assert codes[CATEGORICAL.index("dst_port_class")] == 0


def test_feature_encoder_service_ports_get_own_code():
    encoder = FeatureEncoder().fit(_training_flows())
    assert encoder.service_ports_ == [80, 443]
    flows = make_flows([{"dst_port": 80}, {"dst_port": 443}])
    codes = encoder.transform(flows).categorical[:, CATEGORICAL.index("dst_port_class")]
    assert codes[0] != codes[1]
    assert (codes > 0).all()


def test_feature_encoder_inter_arrival_per_host():
    flows = make_flows(
        [
            {"seconds": 0, "src_addr": "10.0.0.1"},
            {"seconds": 5, "src_addr": "10.0.0.2"},
            {"seconds": 60, "src_addr": "10.0.0.1"},
        ]
    )
    encoder = FeatureEncoder()
    encoder.fit(flows)
    encoder.mean_ = [0.0] * len(NUMERIC)
    encoder.std_ = [1.0] * len(NUMERIC)
    iat = encoder.transform(flows).numeric[:, NUMERIC.index("log_inter_arrival")]
    np.testing.assert_allclose(np.expm1(iat), [0.0, 0.0, 60.0], rtol=1e-5)


def test_feature_encoder_new_destination_flag():
    flows = make_flows(
        [
            {"seconds": 0, "dst_addr": "192.0.2.1"},
            {"seconds": 1, "dst_addr": "192.0.2.1"},
            {"seconds": 2, "dst_addr": "192.0.2.9"},
        ]
    )
    encoder = FeatureEncoder(min_count=1).fit(flows)
    column = CATEGORICAL.index("new_destination")
    codes = encoder.transform(flows).categorical[:, column]
    vocabulary = encoder.vocabularies_["new_destination"]
    assert [vocabulary[c - 1] for c in codes] == ["true", "false", "true"]


def test_feature_encoder_state_round_trip():
    flows = _training_flows()
    encoder = FeatureEncoder().fit(flows)
    restored = FeatureEncoder.from_state(encoder.to_state())
    np.testing.assert_array_equal(
        restored.transform(flows).numeric, encoder.transform(flows).numeric
    )
    np.testing.assert_array_equal(
        restored.transform(flows).categorical, encoder.transform(flows).categorical
    )


def test_feature_encoder_not_fitted_error():
    with pytest.raises(NotFittedError, match="call fit"):
        FeatureEncoder().transform(_training_flows())


def test_feature_encoder_matrix_one_hot_width():
    flows = _training_flows()
    encoder = FeatureEncoder().fit(flows)
    matrix = encoder.matrix(flows)
    assert matrix.shape == (flows.height, len(NUMERIC) + sum(encoder.cardinalities))
    one_hot = matrix[:, len(NUMERIC) :]
    assert (one_hot.sum(axis=1) == len(CATEGORICAL)).all()
