import numpy as np
import pytest

from botwatch.errors import ConfigError
from botwatch.sequences import assign_hosts, build_sequences, parse_home_net

from factories import make_flows


def test_parse_home_net_ipv4_and_ipv6():
    assert parse_home_net("147.32.0.0/16, 2001:db8::/32") == [
        "147.32.0.0/16",
        "2001:db8::/32",
    ]
    assert parse_home_net(None) is None


@pytest.mark.parametrize("text", ["147.32.0.0/33", "not-a-net", " , "])
def test_parse_home_net_invalid(text):
    with pytest.raises(ConfigError, match="home network"):
        parse_home_net(text)


def test_assign_hosts_home_net_inbound_and_outside():
    flows = make_flows(
        [
            {"src_addr": "147.32.84.165", "dst_addr": "8.8.8.8"},
            {"src_addr": "8.8.8.8", "dst_addr": "147.32.84.170"},
            {"src_addr": "8.8.8.8", "dst_addr": "9.9.9.9"},
            {"src_addr": "2001:db8::1", "dst_addr": "8.8.8.8"},
        ]
    )
    hosts = assign_hosts(flows, parse_home_net("147.32.0.0/16,2001:db8::/32"))
    assert hosts.get_column("host").to_list() == [
        "147.32.84.165",
        "147.32.84.170",
        None,
        "2001:db8::1",
    ]


def test_assign_hosts_without_home_net_uses_source():
    flows = make_flows([{"src_addr": "8.8.8.8", "dst_addr": "147.32.84.170"}])
    assert assign_hosts(flows, None).get_column("host").to_list() == ["8.8.8.8"]


def test_build_sequences_covers_every_flow_once_or_more():
    rows = [{"seconds": i, "src_addr": "10.0.0.1"} for i in range(11)]
    rows += [{"seconds": i, "src_addr": "10.0.0.2"} for i in range(3)]
    flows = assign_hosts(make_flows(rows), None)
    index = build_sequences(flows, seq_len=4, stride=3)
    # Host 1: starts 0, 3, 6 and the tail-aligned 7; host 2: one padded sequence.
    assert index.lengths.tolist() == [4, 4, 4, 4, 3]
    positions, mask = index.positions(np.arange(index.n_sequences))
    covered = np.unique(index.order[positions[mask]])
    assert covered.tolist() == list(range(flows.height))
    assert mask[-1].tolist() == [True, True, True, False]


def test_build_sequences_orders_by_time_within_host():
    flows = assign_hosts(
        make_flows([{"seconds": 30}, {"seconds": 10}, {"seconds": 20}]), None
    )
    index = build_sequences(flows, seq_len=3, stride=1)
    positions, _ = index.positions(np.arange(1))
    assert index.order[positions[0]].tolist() == [1, 2, 0]


def test_build_sequences_skips_null_hosts():
    flows = make_flows([{"src_addr": "8.8.8.8", "dst_addr": "9.9.9.9"}])
    index = build_sequences(assign_hosts(flows, ["10.0.0.0/8"]), seq_len=2, stride=1)
    assert index.n_sequences == 0


def test_build_sequences_rejects_zero_length():
    flows = assign_hosts(make_flows([{}]), None)
    with pytest.raises(ConfigError, match="seq_len and stride"):
        build_sequences(flows, seq_len=0, stride=1)
