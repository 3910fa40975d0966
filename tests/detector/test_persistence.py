import json

import numpy as np
import pytest

from botwatch.detector import RVAEDetector, load_model
from botwatch.errors import ModelFileError
from botwatch.persistence import CONFIG_FILE, FORMAT_VERSION, WEIGHTS_FILE


@pytest.fixture(scope="module")
def saved(tiny_detector, tmp_path_factory):
    return tiny_detector.save(tmp_path_factory.mktemp("models") / "model")


def test_model_save_writes_config_and_weights(saved, tiny_detector):
    assert sorted(p.name for p in saved.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    document = json.loads((saved / CONFIG_FILE).read_text())
    assert document["format_version"] == FORMAT_VERSION
    assert document["model_id"] == tiny_detector.model_id_
    assert document["threshold"]["threshold"] == tiny_detector.threshold_
    assert document["training_summary"]["train_on"] == "non-botnet"
    assert document["config"]["home_net"] == ["147.32.0.0/16"]


def test_model_round_trip_gives_identical_scores(saved, tiny_detector, test_slice):
    part = test_slice.head(3000)
    loaded = load_model(saved)
    assert loaded.model_id_ == tiny_detector.model_id_
    np.testing.assert_array_equal(
        loaded.score_flows(part).get_column("flow_score").to_numpy(),
        tiny_detector.score_flows(part).get_column("flow_score").to_numpy(),
    )


def test_model_save_replaces_existing_directory(saved, tiny_detector):
    (saved / "stale.txt").write_text("old")
    tiny_detector.save(saved)
    assert not (saved / "stale.txt").exists()


def _copy(saved, tmp_path):
    target = tmp_path / "copy"
    target.mkdir()
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        (target / name).write_bytes((saved / name).read_bytes())
    return target


def test_model_corrupt_weights_error(saved, tmp_path):
    copy = _copy(saved, tmp_path)
    data = bytearray((copy / WEIGHTS_FILE).read_bytes())
    (copy / WEIGHTS_FILE).write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ModelFileError, match=r"weights\.safetensors cannot be read"):
        load_model(copy)


def test_model_weights_changed_in_place_error(saved, tmp_path):
    copy = _copy(saved, tmp_path)
    data = bytearray((copy / WEIGHTS_FILE).read_bytes())
    data[-8:] = b"\x00" * 8
    (copy / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="model id"):
        load_model(copy)


def test_model_other_format_version_error(saved, tmp_path):
    copy = _copy(saved, tmp_path)
    document = json.loads((copy / CONFIG_FILE).read_text())
    document["format_version"] = FORMAT_VERSION + 1
    (copy / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="format version 2.*retrain"):
        load_model(copy)


def test_model_invalid_json_error(saved, tmp_path):
    copy = _copy(saved, tmp_path)
    (copy / CONFIG_FILE).write_text("{not json")
    with pytest.raises(ModelFileError, match="config.json is not valid JSON"):
        RVAEDetector.load(copy)


@pytest.mark.parametrize("missing", [CONFIG_FILE, WEIGHTS_FILE])
def test_model_missing_file_error(saved, tmp_path, missing):
    copy = _copy(saved, tmp_path)
    (copy / missing).unlink()
    with pytest.raises(ModelFileError, match=f"{missing}.* missing"):
        load_model(copy)


def test_model_missing_directory_error(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "nowhere")


def test_model_incomplete_config_error(saved, tmp_path):
    copy = _copy(saved, tmp_path)
    document = json.loads((copy / CONFIG_FILE).read_text())
    del document["encoder"]
    (copy / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="incompatible or incomplete"):
        load_model(copy)
